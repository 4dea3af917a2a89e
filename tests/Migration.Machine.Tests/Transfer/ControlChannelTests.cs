using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

public sealed class ControlChannelTests
{
    [Fact]
    public async Task Every_message_round_trips()
    {
        ControlMessage[] messages =
        [
            ControlMessage.RoundDone(0), ControlMessage.RoundDone(int.MaxValue), ControlMessage.Ready, ControlMessage.Commit(true),
            ControlMessage.Commit(false), ControlMessage.Resumed, ControlMessage.Error("cannot allocate 64 GiB for the VM"),
        ];
        using var stream = new MemoryStream();
        foreach (var message in messages)
        {
            await ControlChannel.WriteAsync(stream, message);
        }

        stream.Position = 0;
        foreach (var message in messages)
        {
            Assert.Equal(message, await ControlChannel.ReadAsync(stream));
        }

        Assert.Null(await ControlChannel.ReadAsync(stream));
    }

    [Fact]
    public async Task The_bytes_are_type_length_payload()
    {
        using var stream = new MemoryStream();
        await ControlChannel.WriteAsync(stream, ControlMessage.Commit(true));
        await ControlChannel.WriteAsync(stream, ControlMessage.Error("é"));
        await ControlChannel.WriteAsync(stream, ControlMessage.RoundDone(258));

        Assert.Equal<byte>([2, 1, 0, 1, 4, 2, 0, 0xC3, 0xA9, 5, 4, 0, 2, 1, 0, 0], stream.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 9, 0, 0 }, "unknown control message type 0x09")]
    [InlineData(new byte[] { 1, 1, 0, 0 }, "Ready message length 1 is outside 0..0")]
    [InlineData(new byte[] { 4, 0, 0 }, "Error message length 0 is outside 1..1024")]
    [InlineData(new byte[] { 4, 1, 4 }, "Error message length 1025 is outside 1..1024")]
    [InlineData(new byte[] { 2, 1, 0, 2 }, "Commit flags 0x02 are not defined")]
    [InlineData(new byte[] { 4, 2, 0, 0xC3, 0x28 }, "an Error message's reason is not UTF-8")]
    [InlineData(new byte[] { 4, 5, 0, 0x61 }, "the connection ended inside a Error message (1 of 5 payload bytes)")]
    [InlineData(new byte[] { 3, 0 }, "the connection ended inside a control message header (2 of 3 bytes)")]
    [InlineData(new byte[] { 5, 2, 0, 1, 0 }, "RoundDone message length 2 is outside 4..4")]
    [InlineData(new byte[] { 5, 4, 0, 0, 0, 0, 0x80 }, "RoundDone round 2147483648 is beyond any round a stream numbers")]
    public async Task Corrupt_messages_are_refused_with_what_is_wrong(byte[] bytes, string problem)
    {
        using var stream = new MemoryStream(bytes);

        var e = await Assert.ThrowsAsync<InvalidDataException>(async () => await ControlChannel.ReadAsync(stream));

        Assert.Equal(problem, e.Message);
    }

    [Fact]
    public async Task A_reason_is_one_printable_line_cut_to_the_bound_on_a_character_boundary()
    {
        using var stream = new MemoryStream();
        await ControlChannel.WriteAsync(stream, ControlMessage.Error("line one\nline two\u001b[31m " + new string('é', 2000)));
        stream.Position = 0;

        var message = await ControlChannel.ReadAsync(stream);

        Assert.NotNull(message);
        Assert.StartsWith("line one line two [31m é", message.Reason, StringComparison.Ordinal);
        Assert.EndsWith("é...", message.Reason, StringComparison.Ordinal);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(message.Reason!) <= 1024);
    }
}
