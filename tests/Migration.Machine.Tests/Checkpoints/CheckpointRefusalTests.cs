using System.Buffers.Binary;
using System.Security.Cryptography;
using Migration.Core.Checkpoints;
using Migration.Core.State;
using Migration.Core.Streams;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Checkpoints;

/// <summary>Bad checkpoint files are refused with one line naming the problem and the offset, and nothing is changed.</summary>
public sealed class CheckpointRefusalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-bad-").FullName;

    [Fact]
    public async Task Every_flipped_bit_of_a_full_and_an_incremental_file_is_detected_and_leaves_the_files_as_they_were()
    {
        var (full, incremental) = await TwoFilesAsync();
        foreach (var path in new[] { full, incremental })
        {
            var original = await File.ReadAllBytesAsync(path);
            var undetected = new List<int>();
            for (var bit = 0; bit < original.Length * 8; bit++)
            {
                var flipped = (byte[])original.Clone();
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                await File.WriteAllBytesAsync(path, flipped);
                try
                {
                    // The reading half of a resume: a machine is built only from a state that passed every check here.
                    (await CheckpointFile.RestoreAsync(path, new StateReadOptions { DecodeParallelism = 1, MemoryBacking = Migration.Core.Memory.MemoryBacking.SmallPages })).Dispose();
                    undetected.Add(bit);
                }
                catch (CheckpointException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                    Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
                    Assert.Contains("(at byte ", e.Message, StringComparison.Ordinal);
                }

                var after = await File.ReadAllBytesAsync(path);
                Assert.True(flipped.AsSpan().SequenceEqual(after), $"bit {bit}: the file was changed");
            }

            await File.WriteAllBytesAsync(path, original);
            Assert.Empty(undetected);
        }

        Assert.Equal(2, Directory.GetFiles(_directory).Length);
    }

    [Fact]
    public async Task A_truncated_file_is_refused_with_where_it_ends()
    {
        var (full, _) = await TwoFilesAsync();
        var bytes = await File.ReadAllBytesAsync(full);
        await File.WriteAllBytesAsync(full, bytes[..(bytes.Length / 2)]);

        var e = await RefusedAsync(full);

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.EndsWith($"(at byte {bytes.Length / 2})", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_magic_and_future_version_are_named()
    {
        var (full, _) = await TwoFilesAsync();
        var bytes = await File.ReadAllBytesAsync(full);

        var foreign = (byte[])bytes.Clone();
        "PK\x03\x04xxxx"u8.CopyTo(foreign);
        await File.WriteAllBytesAsync(full, foreign);
        Assert.Contains("not a migration stream", (await RefusedAsync(full)).Message, StringComparison.Ordinal);

        var future = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(future.AsSpan(8), 9);
        await File.WriteAllBytesAsync(full, future);
        Assert.Contains("format version 9 is newer than this build reads (1) (at byte 8)", (await RefusedAsync(full)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_length_field_beyond_its_bound_is_refused_before_reading_on()
    {
        var (full, _) = await TwoFilesAsync();
        var bytes = await File.ReadAllBytesAsync(full);
        var firstFrame = StreamFormat.HeaderFixedSize + bytes[12] + StreamFormat.ChecksumSize;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(firstFrame + 4), 0x7FFF_FFFF);
        await File.WriteAllBytesAsync(full, bytes);

        var e = await RefusedAsync(full);

        Assert.Contains($"section frame length 2147483647 exceeds the bound of {StreamFormat.MaxSectionLength} bytes (at byte {firstFrame + 4})", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_incremental_file_without_its_parent_is_refused_and_names_the_parent()
    {
        var (full, incremental) = await TwoFilesAsync();
        var parentDigest = Path.GetFileNameWithoutExtension(full).Split('-')[1];
        File.Move(full, full + ".away");

        var e = await RefusedAsync(incremental);

        Assert.Contains($"parent checkpoint {parentDigest} (sequence 0) is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_incremental_file_beside_a_wrong_parent_is_refused()
    {
        var (full, incremental) = await TwoFilesAsync();

        // Another machine's full checkpoint, put where the parent should be: same name, other contents.
        using (var other = new CounterMachine())
        {
            await ResumedRun.CaptureAsync(other.Machine, full);
        }

        var e = await RefusedAsync(incremental);

        Assert.Contains("wrong parent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_incremental_stream_alone_is_refused_because_it_needs_its_chain()
    {
        var (_, incremental) = await TwoFilesAsync();
        await using var stream = File.OpenRead(incremental);

        var e = await Assert.ThrowsAsync<CheckpointException>(() => RiscVCheckpoint.RestoreAsync(stream, new MachineOptions()));

        Assert.Contains("holds only the pages changed since its parent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_well_formed_file_with_a_section_version_this_build_does_not_read_is_refused_by_name_number_and_offset()
    {
        var (full, _) = await TwoFilesAsync();
        await RewriteAsync(full, s => s.Name == "cpu" ? s with { Version = 2 } : s);

        var e = await RefusedAsync(full);

        Assert.Matches(@"section 'cpu': version 2 is not supported; this build reads 1 \(at byte \d+\)$", e.Message);
    }

    /// <summary>Re-emits every frame of a checkpoint through a real writer, changing sections on the way: checksums stay valid.</summary>
    private static async Task RewriteAsync(string path, Func<StateSection, StateSection> change)
    {
        var input = new MemoryStream(await File.ReadAllBytesAsync(path));
        var reader = new MigrationStreamReader(input);
        var header = await reader.ReadHeaderAsync();
        var output = new MemoryStream();
        var writer = new MigrationStreamWriter(output, header.MachineKind);
        await writer.WriteHeaderAsync();
        while (await reader.ReadFrameAsync() is { } frame)
        {
            using (frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Section:
                        await writer.WriteSectionAsync(change(frame.ToSection()));
                        break;
                    case FrameType.Pages:
                        await writer.WritePagesAsync(frame.Payload);
                        break;
                    default:
                        await writer.WriteRoundEndAsync(frame.ReadRound());
                        break;
                }
            }
        }

        await writer.CompleteAsync();
        await File.WriteAllBytesAsync(path, output.ToArray());
    }

    /// <summary>Refused, one line, and the directory holds exactly what it held before.</summary>
    private async Task<CheckpointException> RefusedAsync(string path)
    {
        var before = Snapshot();
        var e = await Assert.ThrowsAsync<CheckpointException>(() => RiscVCheckpoint.ResumeFileAsync(path, new MachineOptions()));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith(_directory, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
        return e;
    }

    private string Snapshot() => string.Join("\n", Directory.GetFiles(_directory).Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetFileName(f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));

    /// <summary>A full checkpoint of a counter mid-run and one incremental on it.</summary>
    private async Task<(string Full, string Incremental)> TwoFilesAsync()
    {
        var directory = new CheckpointDirectory(_directory);
        var series = new CheckpointSeries();
        using var counter = new CounterMachine();
        counter.Machine.Start();
        counter.RunUntilRound(1);
        var full = await directory.WriteAsync(counter.Machine, series);
        counter.RunUntilRound(2);
        var incremental = await directory.WriteAsync(counter.Machine, series);
        counter.Machine.Terminate();
        Assert.True(incremental.IsIncremental);
        return (full.Path!, incremental.Path!);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
