using System.Buffers.Binary;
using System.Text;

namespace Migration.Core.Transfer;

/// <summary>
/// Reads and writes control messages: type (1 byte), payload length (u16), payload. Lengths are checked against the
/// type's bound before anything is read; a message that breaks a rule is <see cref="InvalidDataException"/>.
/// </summary>
public static class ControlChannel
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async ValueTask WriteAsync(Stream channel, ControlMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(message);
        var payload = message.Type switch
        {
            ControlMessageType.Ready or ControlMessageType.Resumed => [],
            ControlMessageType.Commit => [message.StartVcpu ? TransferProtocol.CommitStartVcpu : (byte)0],
            ControlMessageType.Error => ErrorPayload(message.Reason),
            ControlMessageType.RoundDone => RoundPayload(message.Round),
            _ => throw new ArgumentException($"unknown control message type {message.Type}", nameof(message)),
        };
        var bytes = new byte[TransferProtocol.ControlHeaderSize + payload.Length];
        bytes[0] = (byte)message.Type;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(1), (ushort)payload.Length);
        payload.CopyTo(bytes, TransferProtocol.ControlHeaderSize);
        await channel.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next message, or null when the peer closed the connection cleanly between messages.</summary>
    public static async ValueTask<ControlMessage?> ReadAsync(Stream channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var header = new byte[TransferProtocol.ControlHeaderSize];
        var got = await channel.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < header.Length)
        {
            throw new InvalidDataException($"the connection ended inside a control message header ({got} of {header.Length} bytes)");
        }

        var type = (ControlMessageType)header[0];
        var length = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(1));
        var (min, max) = type switch
        {
            ControlMessageType.Ready or ControlMessageType.Resumed => (0, 0),
            ControlMessageType.Commit => (1, 1),
            ControlMessageType.Error => (1, TransferProtocol.MaxErrorLength),
            ControlMessageType.RoundDone => (4, 4),
            _ => throw new InvalidDataException($"unknown control message type 0x{header[0]:x2}"),
        };
        if (length < min || length > max)
        {
            throw new InvalidDataException($"{type} message length {length} is outside {min}..{max}");
        }

        var payload = new byte[length];
        got = await channel.ReadAtLeastAsync(payload, length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < length)
        {
            throw new InvalidDataException($"the connection ended inside a {type} message ({got} of {length} payload bytes)");
        }

        switch (type)
        {
            case ControlMessageType.Commit:
                if ((payload[0] & ~TransferProtocol.CommitStartVcpu) != 0)
                {
                    throw new InvalidDataException($"Commit flags 0x{payload[0]:x2} are not defined");
                }

                return ControlMessage.Commit((payload[0] & TransferProtocol.CommitStartVcpu) != 0);
            case ControlMessageType.Error:
                string reason;
                try
                {
                    reason = StrictUtf8.GetString(payload);
                }
                catch (DecoderFallbackException e)
                {
                    throw new InvalidDataException("an Error message's reason is not UTF-8", e);
                }

                return ControlMessage.Error(Printable(reason));
            case ControlMessageType.RoundDone:
                var round = BinaryPrimitives.ReadUInt32LittleEndian(payload);
                return round <= int.MaxValue
                    ? ControlMessage.RoundDone((int)round)
                    : throw new InvalidDataException($"RoundDone round {round} is beyond any round a stream numbers");
            case ControlMessageType.Ready:
                return ControlMessage.Ready;
            default:
                return ControlMessage.Resumed;
        }
    }

    private static byte[] RoundPayload(int round)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)round);
        return payload;
    }

    private static byte[] ErrorPayload(string? reason)
    {
        var text = Printable(string.IsNullOrWhiteSpace(reason) ? "unspecified error" : reason);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= TransferProtocol.MaxErrorLength)
        {
            return bytes;
        }

        // Cut on a character boundary, so the peer's strict decoding accepts it.
        var cut = TransferProtocol.MaxErrorLength - 3;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return [.. bytes.AsSpan(0, cut), .. "..."u8];
    }

    /// <summary>A peer's text ends up in logs and terminals: one line, no control characters.</summary>
    private static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString().Trim();
    }
}
