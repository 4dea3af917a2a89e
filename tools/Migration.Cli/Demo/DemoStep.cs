namespace Migration.Cli.Demo;

/// <summary>One row of the demo's table: a move of the VM and what it cost, seen by the host and by the clients.</summary>
/// <param name="DowntimeMilliseconds">Guest-visible pause as the hosts measured it; null where none was measured (a stop checkpoint's pause lasts until the resume).</param>
/// <param name="Requests">Requests the clients got answered between the previous step and this one's end.</param>
internal sealed record DemoStep(string Step, string Where, double TotalMilliseconds, double? DowntimeMilliseconds, double GapMilliseconds, long Requests, long Errors);
