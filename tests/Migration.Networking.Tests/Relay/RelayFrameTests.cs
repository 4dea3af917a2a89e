using Migration.Networking.Relay;

namespace Migration.Networking.Tests.Relay;

/// <summary>The relay link's framing: what goes in comes out, and a bad frame is named by its byte offset before anything is allocated for it.</summary>
public class RelayFrameTests
{
    private static async Task<List<RelayFrame>> ReadAll(byte[] bytes)
    {
        var reader = new RelayFrameReader(new MemoryStream(bytes));
        var frames = new List<RelayFrame>();
        using var timeout = StackHarness.TimeoutSource();
        // Bounded: a frame is at least a header long.
        for (var i = 0; i <= bytes.Length / RelayProtocol.HeaderSize; i++)
        {
            if (await reader.ReadAsync(timeout.Token) is not { } frame)
            {
                return frames;
            }

            frames.Add(frame);
        }

        throw new InvalidOperationException("more frames than bytes allow");
    }

    [Fact]
    public async Task Frames_of_every_type_round_trip_in_order()
    {
        var sent = Enum.GetValues<RelayFrameType>()
            .Select((type, i) => new RelayFrame(type, (uint)(i * 7919), StackHarness.Pattern(i * 100, i)))
            .Append(new RelayFrame(RelayFrameType.Data, uint.MaxValue, StackHarness.Pattern(RelayProtocol.MaxPayload, 99)))
            .ToList();

        var received = await ReadAll([.. sent.SelectMany(f => f.Encode())]);

        Assert.Equal(sent.Count, received.Count);
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(sent[i].Type, received[i].Type);
            Assert.Equal(sent[i].Stream, received[i].Stream);
            Assert.Equal(sent[i].Payload.ToArray(), received[i].Payload.ToArray());
        }
    }

    [Fact]
    public async Task A_link_that_ends_inside_a_header_or_a_payload_names_the_frame_offset()
    {
        var first = new RelayFrame(RelayFrameType.Data, 1, new byte[100]).Encode();
        var second = new RelayFrame(RelayFrameType.Data, 2, new byte[50]).Encode();

        var header = await Assert.ThrowsAsync<RelayProtocolException>(() => ReadAll([.. first, .. second.AsSpan(0, 4)]));
        var payload = await Assert.ThrowsAsync<RelayProtocolException>(() => ReadAll([.. first, .. second.AsSpan(0, 30)]));

        Assert.Equal("relay link: the link ended inside the header of the frame at byte 110 (4 of 10 bytes)", header.Message);
        Assert.Equal("relay link: the link ended inside the Data frame at byte 110 (20 of 50 payload bytes)", payload.Message);
    }

    [Fact]
    public async Task An_oversized_length_is_refused_before_its_payload_is_read()
    {
        var frame = new RelayFrame(RelayFrameType.Ack, 3, new byte[8]).Encode();
        // Four gigabytes declared, four bytes present: the reader must refuse on the header alone.
        var oversized = new byte[] { RelayProtocol.Version, (byte)RelayFrameType.Data, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4 };

        var e = await Assert.ThrowsAsync<RelayProtocolException>(() => ReadAll([.. frame, .. oversized]));

        Assert.Equal($"relay link: Data frame at byte 18 declares 4294967295 payload bytes, more than the limit of {RelayProtocol.MaxPayload}", e.Message);
    }

    [Theory]
    [InlineData(7, 9, "relay link: frame at byte 0 has version 7; this build speaks 1")]
    [InlineData(1, 200, "relay link: frame at byte 0 has unknown type 200")]
    [InlineData(1, 0, "relay link: frame at byte 0 has unknown type 0")]
    public async Task A_corrupt_header_is_named(byte version, byte type, string message)
    {
        byte[] header = [version, type, 0, 0, 0, 0, 0, 0, 0, 0];

        var e = await Assert.ThrowsAsync<RelayProtocolException>(() => ReadAll(header));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_frame_over_the_limit_is_not_encoded()
    {
        var e = Assert.Throws<ArgumentException>(() => new RelayFrame(RelayFrameType.Data, 1, new byte[RelayProtocol.MaxPayload + 1]).Encode());

        Assert.Contains("exceeds the limit", e.Message, StringComparison.Ordinal);
    }
}
