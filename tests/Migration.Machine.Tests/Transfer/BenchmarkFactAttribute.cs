namespace Migration.Machine.Tests.Transfer;

/// <summary>A measurement, not a check: runs only when MIGRATION_BENCH=1, since it takes gigabytes and tens of seconds.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("MIGRATION_BENCH") != "1")
        {
            Skip = "a measurement: set MIGRATION_BENCH=1 to run it";
        }
    }
}
