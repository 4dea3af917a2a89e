namespace Migration.Core.State;

/// <summary>Sections the machine-independent layer writes and reads itself; a machine adds its own (e.g. "cpu", "devices").</summary>
public static class SectionNames
{
    public const string Machine = "machine";
    public const string Checkpoint = "checkpoint";
    public const string Sockets = "sockets";
    public const string Socket = "socket";

    public static bool IsCore(string name) => name is Machine or Checkpoint or Sockets or Socket;
}
