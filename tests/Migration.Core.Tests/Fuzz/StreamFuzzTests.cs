using System.Buffers.Binary;
using CsCheck;
using Migration.Core.Checkpoints;
using Migration.Core.Memory;
using Migration.Core.Streams;
using Migration.Core.Tests.Streams;

namespace Migration.Core.Tests.Fuzz;

/// <summary>
/// Mutated streams and checkpoint files: read, or refused with one line, never another exception, a hang or an
/// allocation the size of a forged length. One thread per property keeps the run bounded on a shared machine, and
/// CsCheck prints the seed of any failing case so it can be replayed.
/// </summary>
public class StreamFuzzTests
{
    private static readonly byte[] ValidStream = StreamBuilder.Build(pages: 5);

    private static readonly byte[] ValidMachineStream = MachineStreamBuilder.Build();

    [Fact]
    public void A_mutated_migration_stream_is_read_or_refused_in_one_line()
    {
        Mutation.Gen.Sample(
            mutation =>
            {
                var bytes = mutation.ApplyTo(ValidStream);
                HostileInput.AssertAcceptedOrRefused(HostileInput.Read(() => StreamBuilder.ReadAllAsync(bytes, requireEnd: true)), mutation);
            },
            iter: 3000,
            threads: 1);
    }

    [Fact]
    public async Task A_mutated_machine_state_stream_is_restored_or_refused_in_one_line()
    {
        await MachineStreamBuilder.ReadAsync(ValidMachineStream);
        Mutation.Gen.Sample(
            mutation =>
            {
                var bytes = mutation.ApplyTo(ValidMachineStream);
                HostileInput.AssertAcceptedOrRefused(HostileInput.Read(() => MachineStreamBuilder.ReadAsync(bytes)), mutation);
            },
            iter: 1500,
            threads: 1);
    }

    [Fact]
    public async Task A_mutated_checkpoint_file_is_restored_or_refused_in_one_line()
    {
        var directory = Directory.CreateTempSubdirectory("fuzz-checkpoint-");
        try
        {
            var path = Path.Combine(directory.FullName, $"000000-0000000000000000{CheckpointDirectory.Extension}");
            File.WriteAllBytes(path, ValidMachineStream);
            (await CheckpointFile.RestoreAsync(path, new() { MemoryBacking = MemoryBacking.SmallPages })).Dispose();
            Mutation.Gen.Sample(
                mutation =>
                {
                    File.WriteAllBytes(path, mutation.ApplyTo(ValidMachineStream));
                    HostileInput.AssertAcceptedOrRefused(
                        HostileInput.Read(async () =>
                        {
                            _ = await CheckpointFile.ReadInfoAsync(path);
                            using var state = await CheckpointFile.RestoreAsync(path, new() { MemoryBacking = MemoryBacking.SmallPages, DecodeParallelism = 1 });
                        }),
                        mutation);
                },
                iter: 500,
                threads: 1);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Lengths above every frame bound, up to 4 GiB: the reader must refuse them from the header alone.</summary>
    [Fact]
    public void A_forged_frame_length_is_refused_before_anything_of_its_size_is_allocated()
    {
        var frames = StreamLayout.FrameOffsets(ValidStream);
        Gen.Int[0, frames.Count - 1].Select(Gen.UInt[64u << 20, uint.MaxValue]).Sample(
            (frame, length) =>
            {
                var bytes = (byte[])ValidStream.Clone();
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(frames[frame] + 4), length);
                var before = GC.GetAllocatedBytesForCurrentThread();
                var outcome = HostileInput.Read(() => StreamBuilder.ReadAll(bytes));
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                var e = Assert.IsType<MigrationStreamException>(outcome);
                Assert.Contains("exceeds the bound", e.Problem, StringComparison.Ordinal);
                Assert.InRange(allocated, 0, 1 << 20);
            },
            iter: 500,
            threads: 1);
    }

    [Fact]
    public void A_two_gibibyte_section_length_is_refused_at_its_frame_header()
    {
        var frames = StreamLayout.FrameOffsets(ValidStream);
        var bytes = (byte[])ValidStream.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(frames[0] + 4), 0x8000_0000);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes));

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
        Assert.Equal(frames[0] + 4, e.Offset);
        Assert.DoesNotContain('\n', e.Message);
    }
}
