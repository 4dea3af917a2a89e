using Migration.Core.Sockets;
using Migration.Core.State;

namespace Migration.Core.Tests.Fuzz;

/// <summary>Inputs the section properties found, kept as they were found.</summary>
public class SectionRegressionTests
{
    private static byte[] ConnectedSocketBody() =>
        SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, MachineStreamBuilder.Sockets()[0]).Body;

    private static StateSectionException Refusal(byte[] body) =>
        Assert.Throws<StateSectionException>(() =>
            SectionCodec.Decode<VirtualSocket>(new StateSection(SectionNames.Socket, VirtualSocket.FormatVersion, body), VirtualSocket.FormatVersion));

    /// <summary>A queue capacity of 0 fails the queue's constructor, whose message ends in a second line with the value.</summary>
    [Fact]
    public void A_zero_queue_capacity_is_refused_in_one_line()
    {
        var e = Refusal(new Mutation(MutationKind.FlipBit, 992704904, 4, []).ApplyTo(ConnectedSocketBody()));

        Assert.Contains("capacity", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_negative_port_is_refused_in_one_line()
    {
        var run = Convert.FromHexString("3923A1E8529A4DE98C23B87A9242C77A0BF4C366D98982121349F22BD8A02FAF4D06E863BBC988A3E99309271AC5");
        var e = Refusal(new Mutation(MutationKind.OverwriteRun, 116597455, 0, run).ApplyTo(ConnectedSocketBody()));

        Assert.Contains("port", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
