using Xunit.Abstractions;

namespace Migration.Host.Tests.Faults;

/// <summary>The source daemon SIGKILLed at each phase of a live migration.</summary>
[Trait("Category", "EndToEnd")]
public sealed class SourceKilledTests(ITestOutputHelper output) : FaultMatrixTests(output)
{
    protected override string Side => "source";
}
