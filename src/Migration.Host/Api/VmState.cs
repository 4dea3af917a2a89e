namespace Migration.Host.Api;

/// <summary>A VM's state as the API reports it; <see cref="Exited"/> and <see cref="Faulted"/> are final.</summary>
public enum VmState
{
    Created,
    Running,
    Paused,
    Exited,
    Faulted,
}
