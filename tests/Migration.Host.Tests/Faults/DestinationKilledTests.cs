using Xunit.Abstractions;

namespace Migration.Host.Tests.Faults;

/// <summary>The destination daemon SIGKILLed at each phase of a live migration.</summary>
[Trait("Category", "EndToEnd")]
public sealed class DestinationKilledTests(ITestOutputHelper output) : FaultMatrixTests(output)
{
    protected override string Side => "destination";
}
