namespace Migration.Benchmarks;

/// <summary>Finds committed guest ELFs from wherever BenchmarkDotNet runs its generated project.</summary>
internal static class RepositoryPaths
{
    public static string Guest(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "guests", "bin", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"src/guests/bin/{name} not found above {AppContext.BaseDirectory}");
    }
}
