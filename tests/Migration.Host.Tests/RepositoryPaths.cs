namespace Migration.Host.Tests;

/// <summary>Locates the repository from the test assembly's folder, so tests use the committed guests.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Guest(string name) => Path.Combine(Root, "src", "guests", "bin", name + ".elf");

    public static string Cli => Path.Combine(AppContext.BaseDirectory, "migration.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Migration.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Migration.sln above {AppContext.BaseDirectory}");
    }
}
