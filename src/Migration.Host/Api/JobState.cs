namespace Migration.Host.Api;

public enum JobState
{
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
