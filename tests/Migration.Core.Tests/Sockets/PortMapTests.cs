using System.Net;
using Migration.Core.Sockets;

namespace Migration.Core.Tests.Sockets;

public class PortMapTests
{
    [Theory]
    [InlineData("8080:18080", 8080, "127.0.0.1", 18080)]
    [InlineData("1:65535", 1, "127.0.0.1", 65535)]
    [InlineData("80:0.0.0.0:8080", 80, "0.0.0.0", 8080)]
    [InlineData("7:192.168.10.20:7007", 7, "192.168.10.20", 7007)]
    [InlineData("00022:2222", 22, "127.0.0.1", 2222)]
    [InlineData("6379:0", 6379, "127.0.0.1", 0)]
    public void Good_entries_parse(string text, int guest, string address, int hostPort)
    {
        Assert.True(PortMap.TryParseEntry(text, out var guestPort, out var host, out var error), error);
        Assert.Null(error);
        Assert.Equal(guest, guestPort);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), hostPort), host);
    }

    [Theory]
    [InlineData("", "is not GUEST:HOST")]
    [InlineData("8080", "is not GUEST:HOST")]
    [InlineData("1:2:3:4", "is not GUEST:HOST")]
    [InlineData("::1:80", "is not GUEST:HOST")]
    [InlineData("80:", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData(":80", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("0:80", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("80:1:90", "is not an IPv4 address")]
    [InlineData("80:65536", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("65536:80", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("-1:80", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("+80:90", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData(" 80:90", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("80:90 ", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("http:80", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("80:99999999999:90", "is not an IPv4 address")]
    [InlineData("99999999999:80", "the guest port is 1..65535 and the host port 0..65535")]
    [InlineData("80:localhost:90", "is not an IPv4 address")]
    [InlineData("80:1.2.3.4.5:90", "is not an IPv4 address")]
    [InlineData("80::90", "is not an IPv4 address")]
    public void Bad_entries_are_refused_with_a_reason(string text, string reason)
    {
        Assert.False(PortMap.TryParseEntry(text, out _, out var host, out var error));
        Assert.Null(host);
        Assert.NotNull(error);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_uses_an_entry_or_the_same_port_on_loopback()
    {
        var map = new PortMap();
        var mapped = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 18080);
        map.Add(8080, mapped);

        Assert.Same(mapped, map.Resolve(new GuestEndpoint([0, 0, 0, 0], 8080)));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9090), map.Resolve(new GuestEndpoint([0, 0, 0, 0], 9090)));
        // The guest's own address does not matter: a guest never picks the host interface.
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9090), map.Resolve(new GuestEndpoint([192, 168, 1, 1], 9090)));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9090), map.Resolve(new GuestEndpoint(new byte[16], 9090)));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), map.Resolve(new GuestEndpoint([0, 0, 0, 0], 0)));

        var wide = new PortMap { DefaultAddress = IPAddress.Any };
        Assert.Equal(new IPEndPoint(IPAddress.Any, 9090), wide.Resolve(new GuestEndpoint([0, 0, 0, 0], 9090)));
    }

    [Fact]
    public void Add_refuses_bad_ports_and_duplicates()
    {
        var map = new PortMap();
        var host = new IPEndPoint(IPAddress.Loopback, 1234);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.Add(0, host));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.Add(65536, host));
        map.Add(7, host);
        var e = Assert.Throws<ArgumentException>(() => map.Add(7, host));
        Assert.Contains("mapped twice", e.Message, StringComparison.Ordinal);
        Assert.Single(map.Entries);
    }
}
