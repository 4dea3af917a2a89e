namespace Migration.Machine.Tests.Cli;

public class RunCommandTests
{
    [Fact]
    public void Run_passes_arguments_after_the_separator_and_returns_the_guest_exit_code()
    {
        var (code, stdout, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("fault"), "--memory", "8M", "--", "exit", "7");
        Assert.Equal(7, code);
        Assert.Equal("fault: exit 7\n", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Counter_prints_progress_and_checksum_and_exits_zero()
    {
        var (code, stdout, _) = CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--", "2", "1000");
        Assert.Equal(0, code);
        Assert.Equal(Guests.CounterReference.Output(2, 1000), stdout);
    }

    [Fact]
    public void Faulting_guest_gives_one_line_on_stderr_and_exit_code_1()
    {
        var (code, stdout, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("fault"), "--", "illegal");
        Assert.Equal(1, code);
        Assert.Equal("fault: illegal\n", stdout);
        Assert.Matches(@"^migration: fault\.elf: guest fault: illegal instruction 0x00000000 at pc 0x8[0-9a-f]{7} \(no trap handler\)\n$", stderr);
    }

    [Fact]
    public void Bad_elf_gives_one_line_and_never_starts()
    {
        var path = Path.Combine(Path.GetTempPath(), $"truncated-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, File.ReadAllBytes(RepositoryPaths.Guest("counter"))[..50]);
        try
        {
            var (code, stdout, stderr) = CliProcess.Run("run", path);
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.Equal($"migration: {path}: truncated: 50 bytes is shorter than an ELF64 header\n", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Instruction_limit_stops_the_guest_with_exit_code_2()
    {
        var (code, _, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--max-instructions", "100000");
        Assert.Equal(2, code);
        Assert.Contains("stopped at the instruction limit", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_memory_size_is_refused_with_a_clear_message()
    {
        var (code, _, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--memory", "lots");
        Assert.NotEqual(0, code);
        Assert.Contains("--memory: 'lots' is not a size", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Memory_below_the_minimum_is_refused_before_anything_runs()
    {
        var (code, stdout, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--memory", "4K");
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains("--memory: 4K must be a whole number of 4 KiB pages between 1 MiB and", stderr, StringComparison.Ordinal);
    }
}
