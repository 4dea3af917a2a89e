using CsCheck;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.State;

namespace Migration.Core.Tests.Fuzz;

/// <summary>
/// Mutations behind the framing: the payload is altered before it is framed, so checksums hold and the bytes reach
/// the MessagePack decoder, the socket-table sanity pass and the page-batch decoder.
/// </summary>
public class SectionFuzzTests
{
    /// <summary>MessagePack headers that announce far more than follows: array, map, bin, str and ext of 2^32-1.</summary>
    private static readonly byte[][] OversizedHeaders =
    [
        [0xdd, 0xff, 0xff, 0xff, 0xff],
        [0xdf, 0xff, 0xff, 0xff, 0xff],
        [0xc6, 0xff, 0xff, 0xff, 0xff],
        [0xdb, 0xff, 0xff, 0xff, 0xff],
        [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
        [0xdc, 0xff, 0xff],
        [0xce, 0x7f, 0xff, 0xff, 0xff],
    ];

    private static readonly Gen<Mutation> BodyMutation = Gen.OneOf(
        Mutation.Gen.Where(m => m.Kind != MutationKind.ForgeFrameLength),
        Gen.Int[0, int.MaxValue].Select(Gen.OneOf(OversizedHeaders), (p, run) => new Mutation(MutationKind.OverwriteRun, p, 0, run)));

    private static readonly IReadOnlyList<byte[]> ValidBodies =
        [.. MachineStreamBuilder.Sockets().Select(s => SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, s).Body)];

    [Fact]
    public void The_valid_socket_table_passes_the_sanity_pass()
    {
        SocketTableValidator.Validate([.. ValidBodies.Select(Decode)], VirtualSocketStack.DefaultMaxSockets, VirtualSocketStack.MaxQueueCapacity);
    }

    [Fact]
    public void A_mutated_socket_section_is_decoded_and_checked_or_refused_in_one_line()
    {
        Gen.Int[0, 1].Select(BodyMutation).Sample(
            (socket, mutation) =>
            {
                var bodies = ValidBodies.ToArray();
                bodies[socket] = mutation.ApplyTo(bodies[socket]);
                HostileInput.AssertAcceptedOrRefused(
                    HostileInput.Read(() => SocketTableValidator.Validate([.. bodies.Select(Decode)], VirtualSocketStack.DefaultMaxSockets, VirtualSocketStack.MaxQueueCapacity)),
                    $"socket {socket}: {mutation}");
            },
            iter: 4000,
            threads: 1);
    }

    [Fact]
    public void A_stream_with_a_mutated_socket_section_is_restored_or_refused_in_one_line()
    {
        Gen.Int[0, 1].Select(BodyMutation).Sample(
            (socket, mutation) =>
            {
                var bytes = MachineStreamBuilder.Build(alterSocket: (i, body) => i == socket ? mutation.ApplyTo(body) : body);
                HostileInput.AssertAcceptedOrRefused(HostileInput.Read(() => MachineStreamBuilder.ReadAsync(bytes)), $"socket {socket}: {mutation}");
            },
            iter: 400,
            threads: 1);
    }

    /// <summary>Batches cut below the smallest valid batch are left out: the writer refuses them, and the reader's frame bound covers them.</summary>
    [Fact]
    public void A_stream_with_a_mutated_page_batch_is_restored_or_refused_in_one_line()
    {
        Gen.Int[0, 1].Select(Mutation.Gen.Where(m => m.Kind != MutationKind.ForgeFrameLength)).Sample(
            (batch, mutation) =>
            {
                var bytes = MachineStreamBuilder.Build(alterBatch: (i, body) => i == batch && mutation.ApplyTo(body) is { Length: >= PageBatchFormat.MinEncodedLength } mutated ? mutated : body);
                HostileInput.AssertAcceptedOrRefused(HostileInput.Read(() => MachineStreamBuilder.ReadAsync(bytes)), $"batch {batch}: {mutation}");
            },
            iter: 400,
            threads: 1);
    }

    private static VirtualSocket Decode(byte[] body) =>
        SectionCodec.Decode<VirtualSocket>(new StateSection(SectionNames.Socket, VirtualSocket.FormatVersion, body), VirtualSocket.FormatVersion);
}
