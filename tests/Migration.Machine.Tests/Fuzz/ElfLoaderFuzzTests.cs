using CsCheck;
using Migration.Machine.RiscV.Loader;

namespace Migration.Machine.Tests.Fuzz;

/// <summary>
/// Mutated copies of the committed guests: loaded, or refused with an <see cref="ElfLoadException"/> of one line;
/// never another exception, never a hang. CsCheck prints the seed of any failing case so it can be replayed.
/// </summary>
public class ElfLoaderFuzzTests
{
    private const ulong RamBase = 0x8000_0000;
    private const ulong RamSize = 256UL << 20;

    private static readonly string[] Guests = ["counter", "echo", "kv", "selftest", "idle"];

    private static readonly byte[][] ValidElfs = [.. Guests.Select(g => File.ReadAllBytes(RepositoryPaths.Guest(g)))];

    internal static void AssertLoadedOrRefused(byte[] bytes, object input)
    {
        var load = Task.Run(() => ElfLoader.Load("fuzz.elf", bytes, RamBase, RamSize));
        Assert.True(((IAsyncResult)load).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(20)), $"{input}: the load did not finish");
        if (load.Exception?.InnerException is not { } e)
        {
            return;
        }

        Assert.True(e is ElfLoadException, $"{input}: {e.GetType().Name} escaped: {e}");
        Assert.False(e.Message.Contains('\n', StringComparison.Ordinal), $"{input}: the message has more than one line: {e.Message}");
    }

    [Fact]
    public void A_mutated_guest_is_loaded_or_refused_in_one_line()
    {
        Gen.Int[0, ValidElfs.Length - 1].Select(ElfMutation.Gen).Sample(
            (guest, mutation) => AssertLoadedOrRefused(mutation.ApplyTo(ValidElfs[guest]), $"{Guests[guest]}: {mutation}"),
            iter: 3000,
            threads: 1);
    }
}
