namespace Migration.Cli;

/// <summary>The repository's committed guest programs, found from wherever the tool was built.</summary>
internal static class GuestImages
{
    public static string Find(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "guests", "bin", name + ".elf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"guest {name}.elf not found above {AppContext.BaseDirectory}");
    }
}
