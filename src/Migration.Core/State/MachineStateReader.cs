using System.Runtime.CompilerServices;
using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.Streams;

namespace Migration.Core.State;

/// <summary>
/// Reads a stream written by <see cref="MachineStateWriter"/> (or a live migration) into memory and sections. Every
/// failure is a <see cref="MigrationStreamException"/> naming the cause and the byte offset; on failure nothing is
/// returned and memory this reader allocated is released.
/// </summary>
public static class MachineStateReader
{
    public static async Task<RestoredMachineState> ReadAsync(Stream input, StateReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= StateReadOptions.Default;
        var reader = new MigrationStreamReader(input, options.RequireEndOfInput);
        var header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        if (options.ExpectedKind is { } expected && header.MachineKind != expected)
        {
            throw new MigrationStreamException($"the stream holds a '{header.MachineKind}' machine; this host runs '{expected}'", StreamFormat.HeaderFixedSize);
        }

        var descriptor = await ReadDescriptorAsync(reader, header, cancellationToken).ConfigureAwait(false);
        var memory = options.Target ?? Allocate(descriptor, options, reader.Offset);
        if (options.Target is { } target && (target.Size != descriptor.MemorySize || target.Base != descriptor.MemoryBase))
        {
            throw new MigrationStreamException(
                $"the stream's memory ({descriptor.MemorySize} bytes at 0x{descriptor.MemoryBase:x}) differs from the machine it applies to ({target.Size} bytes at 0x{target.Base:x})", header.Length);
        }

        // Whatever OnMemoryAllocated returned; disposed once, at round 0's end or on failure.
        var user = new StrongBox<IDisposable?>();
        try
        {
            if (options.Target is null)
            {
                user.Value = options.OnMemoryAllocated?.Invoke(memory);
            }

            var (sections, offsets, sockets, pages) = await ReadBodyAsync(reader, memory, options, user, cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref user.Value, null)?.Dispose();
            return new RestoredMachineState(header, reader.Summary!.Value, descriptor, memory, options.Target is null, sections, offsets, sockets, pages);
        }
        catch
        {
            Interlocked.Exchange(ref user.Value, null)?.Dispose();
            if (options.Target is null)
            {
                memory.Dispose();
            }

            throw;
        }
    }

    private static async Task<MachineDescriptor> ReadDescriptorAsync(MigrationStreamReader reader, StreamHeader header, CancellationToken cancellationToken)
    {
        using var frame = await reader.ReadFrameAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new MigrationStreamException("the stream ends before the machine section", reader.Offset);
        var section = frame.Type == FrameType.Section ? frame.ToSection() : null;
        if (section?.Name != SectionNames.Machine)
        {
            throw new MigrationStreamException($"the first frame must be the '{SectionNames.Machine}' section, not {Describe(frame, section)}", frame.Offset);
        }

        return Semantic(frame, () => MachineDescriptor.FromSection(section, header.MachineKind));
    }

    private static GuestMemory Allocate(MachineDescriptor descriptor, StateReadOptions options, long offset)
    {
        try
        {
            return new GuestMemory(descriptor.MemorySize, descriptor.MemoryBase, options.MemoryBacking);
        }
        catch (InsufficientMemoryException e)
        {
            throw new MigrationStreamException($"cannot allocate the machine's {descriptor.MemorySize >> 20} MiB of memory: {e.Message}", offset, e);
        }
    }

    private static async Task<(List<StateSection> Sections, Dictionary<string, long> Offsets, List<VirtualSocket> Sockets, PageBatchStats Pages)> ReadBodyAsync(
        MigrationStreamReader reader, GuestMemory memory, StateReadOptions options, StrongBox<IDisposable?> user, CancellationToken cancellationToken)
    {
        var decodeOptions = new PageDecodeOptions
        {
            ZeroPages = options.Target is null ? ZeroPageWrite.Skip : ZeroPageWrite.ClearIfNonZero,
            MaxDegreeOfParallelism = options.DecodeParallelism,
        };
        var sections = new List<StateSection>();
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var sockets = new List<VirtualSocket>();
        SocketTableInfo? table = null;
        long tableOffset = 0;
        var pages = default(PageBatchStats);
        var decoder = new ParallelPageDecoder(memory, decodeOptions);
        try
        {
            while (await reader.ReadFrameAsync(cancellationToken).ConfigureAwait(false) is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Pages:
                        // The decoder disposes the frame once its batch is written.
                        await decoder.AddAsync(frame.Payload, frame, frame.PayloadOffset, cancellationToken).ConfigureAwait(false);
                        break;
                    case FrameType.RoundEnd:
                        // Batches of the next round may carry the same pages again: this round must be in memory first.
                        var round = frame.ReadRound();
                        frame.Dispose();
                        pages = pages.Add(await decoder.CompleteAsync().ConfigureAwait(false));
                        Interlocked.Exchange(ref user.Value, null)?.Dispose();
                        // A page sent with data in one round and zero in a later one (the guest cleared it) must be
                        // cleared: skipping zero pages is right only while the memory is still fresh.
                        decodeOptions = new PageDecodeOptions { ZeroPages = ZeroPageWrite.ClearIfNonZero, MaxDegreeOfParallelism = options.DecodeParallelism };
                        decoder = new ParallelPageDecoder(memory, decodeOptions);
                        if (options.OnRoundEnd is { } onRoundEnd)
                        {
                            await onRoundEnd(round, cancellationToken).ConfigureAwait(false);
                        }

                        break;
                    default:
                        using (frame)
                        {
                            var section = frame.ToSection();
                            switch (section.Name)
                            {
                                case SectionNames.Machine:
                                    throw new MigrationStreamException("a second machine section", frame.Offset);
                                case SectionNames.Sockets when table is not null:
                                    throw new MigrationStreamException("a second socket table", frame.Offset);
                                case SectionNames.Sockets:
                                    table = Semantic(frame, () => SectionCodec.Decode<SocketTableInfo>(section, SocketTableInfo.SectionVersion));
                                    tableOffset = frame.Offset;
                                    break;
                                case SectionNames.Socket when table is null || sockets.Count >= table.Count:
                                    throw new MigrationStreamException("a socket section outside the socket table or beyond its count", frame.Offset);
                                case SectionNames.Socket:
                                    sockets.Add(Semantic(frame, () => SectionCodec.Decode<VirtualSocket>(section, VirtualSocket.FormatVersion)));
                                    break;
                                default:
                                    if (sections.Any(s => s.Name == section.Name))
                                    {
                                        throw new MigrationStreamException($"section '{section.Name}' appears twice", frame.Offset);
                                    }

                                    sections.Add(section);
                                    offsets[section.Name] = frame.Offset;
                                    break;
                            }
                        }

                        break;
                }
            }

            pages = pages.Add(await decoder.CompleteAsync().ConfigureAwait(false));
        }
        catch (Exception e)
        {
            await decoder.DisposeAsync().ConfigureAwait(false);
            if (e is PageBatchException batch)
            {
                throw new MigrationStreamException($"page batch: {batch.Problem}", batch.Offset, batch);
            }

            throw;
        }

        if (table is not null && sockets.Count != table.Count)
        {
            throw new MigrationStreamException($"the socket table announces {table.Count} sockets, the stream holds {sockets.Count}", tableOffset);
        }

        return (sections, offsets, sockets, pages);
    }

    private static T Semantic<T>(StreamFrame frame, Func<T> decode)
    {
        try
        {
            return decode();
        }
        catch (StateSectionException e)
        {
            throw new MigrationStreamException(e.Message, frame.Offset, e);
        }
    }

    private static string Describe(StreamFrame frame, StateSection? section) =>
        section is null ? $"a {StreamFormat.Describe(frame.Type)} frame" : $"section '{section.Name}'";
}
