using System.Text.Json;
using Migration.Cli.Bench;
using Migration.Core.Memory;

namespace Migration.Machine.Tests.Cli;

public sealed class BenchMigrateCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-bench-migrate-").FullName;

    [Fact]
    public void Migrates_a_loaded_file_to_a_daemon_and_checkpoints_it_with_sane_figures()
    {
        var file = Path.Combine(_directory, "blob.bin");
        File.WriteAllBytes(file, RandomBytes(1 << 20));

        var (code, stdout, stderr) = CliProcess.Run("bench", "migrate", "--memory", "32M", "--load", file + "@0x1000000", "--runs", "1", "--dir", _directory, "--json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(32L << 20, root.GetProperty("memoryBytes").GetInt64());
        Assert.Equal(0x100_0000, root.GetProperty("loadedOffset").GetInt64());
        Assert.Equal(1L << 20, root.GetProperty("loadedBytes").GetInt64());
        var migration = root.GetProperty("migration");
        var total = migration.GetProperty("totalMs").GetDouble();
        var downtime = migration.GetProperty("downtimeMs").GetDouble();
        Assert.InRange(total, 0.01, 60_000);
        Assert.InRange(downtime, 0.01, total);
        Assert.InRange(migration.GetProperty("stopAndCopyMs").GetDouble(), 0, downtime);
        Assert.Equal((32 << 20) / (total / 1e3) / 1e9, migration.GetProperty("guestGBps").GetDouble(), 6);
        // Random bytes do not compress: at least the file's own bytes crossed the link and went into the checkpoint.
        Assert.True(migration.GetProperty("streamBytes").GetInt64() >= 1L << 20, stdout);
        Assert.Single(migration.GetProperty("totalMsRuns").EnumerateArray());
        var checkpoint = root.GetProperty("checkpoint");
        Assert.True(checkpoint.GetProperty("fileBytes").GetInt64() >= 1L << 20, stdout);
        Assert.True(checkpoint.GetProperty("saveMs").GetDouble() > 0, stdout);
        Assert.True(checkpoint.GetProperty("loadMs").GetDouble() > 0, stdout);
        Assert.EndsWith("at the destination daemon and in the resumed checkpoint (the file's own)", root.GetProperty("verified").GetString(), StringComparison.Ordinal);
        Assert.Equal([Path.GetFileName(file)], Directory.GetFileSystemEntries(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void A_missing_load_file_is_one_line_and_exit_code_1()
    {
        var missing = Path.Combine(_directory, "missing.bin");

        var (code, stdout, stderr) = CliProcess.Run("bench", "migrate", "--memory", "32M", "--load", missing);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"migration: bench migrate: --load {missing}: no such file", stderr.TrimEnd());
    }

    [Fact]
    public void A_load_file_that_does_not_fit_the_guest_is_one_line_and_exit_code_1()
    {
        var file = Path.Combine(_directory, "big.bin");
        File.WriteAllBytes(file, new byte[9 << 20]);

        var (code, _, stderr) = CliProcess.Run("bench", "migrate", "--memory", "32M", "--load", file);

        Assert.Equal(1, code);
        Assert.Equal(
            $"migration: bench migrate: --load {file}: 9,437,184 bytes at offset 0x1000000 do not fit a 32 MiB guest (the top 0x800000 bytes hold its arguments)",
            stderr.TrimEnd());
    }

    [Theory]
    [InlineData("@0x1000000", 0x100_0000UL)]
    [InlineData("@8388608", 0x80_0000UL)]
    [InlineData("", 0x100_0000UL)]
    public void Parse_reads_the_offset_in_hex_or_decimal_with_16_MiB_as_the_default(string suffix, ulong offset)
    {
        var file = Path.Combine(_directory, "small.bin");
        File.WriteAllBytes(file, new byte[8192]);

        var image = GuestMemoryImage.Parse(file + suffix, 64UL << 20);

        Assert.Equal(new GuestMemoryImage(file, offset, 8192), image);
    }

    [Theory]
    [InlineData("@0x1000", "must be page-aligned and at least 0x800000")]
    [InlineData("@0x1000001", "must be page-aligned")]
    [InlineData("@16M", "'16M' is not an offset")]
    public void Parse_refuses_offsets_that_would_overwrite_the_guest_or_are_not_numbers(string suffix, string message)
    {
        var file = Path.Combine(_directory, "small.bin");
        File.WriteAllBytes(file, new byte[8192]);

        var error = Assert.Throws<ArgumentException>(() => GuestMemoryImage.Parse(file + suffix, 64UL << 20));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_puts_the_file_at_its_offset_and_the_region_digest_matches_the_file()
    {
        var file = Path.Combine(_directory, "blob.bin");
        var bytes = RandomBytes(3 << 20);
        File.WriteAllBytes(file, bytes);
        var image = GuestMemoryImage.Parse(file + "@0x1000000", 32UL << 20);
        using var memory = new GuestMemory(32UL << 20);

        image.Load(memory);

        var back = new byte[bytes.Length];
        memory.Read(memory.Base + 0x100_0000, back);
        Assert.Equal(bytes, back);
        Assert.True(memory.DirtyLog.IsDirty(0x100_0000 / GuestMemory.PageSize));
        Assert.True(memory.IsZeroPage((0x100_0000 / GuestMemory.PageSize) - 1));
        Assert.Equal(image.DigestOfFile(), MemoryRegion.For(image, memory.Size).DigestIn(memory));
        Assert.NotEqual(image.DigestOfFile(), MemoryRegion.For(null, memory.Size).DigestIn(memory));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(7).NextBytes(bytes);
        return bytes;
    }
}
