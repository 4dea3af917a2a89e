using System.Diagnostics;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Guests;

/// <summary>
/// The committed guests are what their sources build, and what they print is what the host computes:
/// <c>make host-check</c> compiles the same C natively for this machine (with RISC-V division semantics
/// spelled out) and compares with <c>expected/</c>, which the interpreter's output must also equal.
/// </summary>
public class GuestBuildTests
{
    [Fact]
    public void Selftest_prints_exactly_the_expected_output()
    {
        var (output, exit) = GuestRun.Run("selftest");
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(0, exit.GuestExitCode);
        AssertSameLines(File.ReadAllText(Path.Combine(RepositoryPaths.GuestsDirectory, "expected", "selftest.out")), output);
    }

    [Fact]
    public void Counter_3_prints_exactly_the_expected_output()
    {
        var expected = File.ReadAllText(Path.Combine(RepositoryPaths.GuestsDirectory, "expected", "counter-3.out"));
        Assert.Equal(CounterReference.Output(3, 3_500_000), expected);
        var (output, exit) = GuestRun.Run("counter", "3");
        Assert.Equal(0, exit.GuestExitCode);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void Native_build_of_the_guests_agrees_with_the_expected_outputs()
    {
        using var scratch = new ScratchDirectory();
        var (code, output) = Make("host-check", $"BUILD={scratch.Path}/build", $"OUT={scratch.Path}/bin");
        Assert.True(code == 0, $"make host-check failed:\n{output}");
    }

    [Fact]
    public void Rebuilding_the_guests_gives_byte_identical_elfs()
    {
        Assert.True(IsOnPath("riscv64-unknown-elf-gcc"),
            "riscv64-unknown-elf-gcc is not installed: run tools/setup.sh (it installs gcc-riscv64-unknown-elf)");
        using var scratch = new ScratchDirectory();
        var (code, output) = Make("all", $"OUT={scratch.Path}/bin", $"BUILD={scratch.Path}/build");
        Assert.True(code == 0, $"make failed:\n{output}");

        var committed = Directory.GetFiles(Path.Combine(RepositoryPaths.GuestsDirectory, "bin"), "*.elf").Select(Path.GetFileName).Order().ToArray();
        var rebuilt = Directory.GetFiles(Path.Combine(scratch.Path, "bin"), "*.elf").Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(committed, rebuilt);
        foreach (var name in committed)
        {
            var a = File.ReadAllBytes(Path.Combine(RepositoryPaths.GuestsDirectory, "bin", name!));
            var b = File.ReadAllBytes(Path.Combine(scratch.Path, "bin", name!));
            Assert.True(a.AsSpan().SequenceEqual(b), $"{name}: the committed ELF differs from a fresh build; run `make -C src/guests` and commit bin/");
        }
    }

    private static void AssertSameLines(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Min(e.Length, a.Length); i++)
        {
            Assert.True(e[i] == a[i], $"line {i + 1}: expected '{e[i]}', got '{a[i]}'");
        }

        Assert.Equal(e.Length, a.Length);
    }

    private static (int Code, string Output) Make(params string[] arguments)
    {
        var start = new ProcessStartInfo("make")
        {
            WorkingDirectory = RepositoryPaths.GuestsDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("--no-print-directory");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));

    private sealed class ScratchDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("migration-guests-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
