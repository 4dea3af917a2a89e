// The daemon's tests exercise Unix sockets and file modes: they run where the daemon does.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
