namespace Migration.Cli.Bench;

/// <summary>Medians over the runs of one scenario, with the host's own limits for a file of the same size.</summary>
internal sealed record CheckpointMeasurement(
    CheckpointScenario Scenario,
    long FileBytes,
    long Pages,
    double CheckpointSeconds,
    double PausedSeconds,
    double ResumeSeconds,
    PhysicalLimitsResult Limits);
