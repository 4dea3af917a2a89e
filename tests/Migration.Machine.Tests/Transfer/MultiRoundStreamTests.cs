using System.Security.Cryptography;
using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Machine.Tests.Transfer;

/// <summary>A live-migration stream carries a page in several rounds; the reader must end with the last round's bytes.</summary>
public sealed class MultiRoundStreamTests
{
    [Fact]
    public async Task A_page_cleared_by_the_guest_after_round_0_arrives_cleared()
    {
        using var source = new GuestMemory(1UL << 20);
        source.Write(source.Base + (5 * GuestMemory.PageSize), RandomNumberGenerator.GetBytes(GuestMemory.PageSize));
        source.Write(source.Base + (6 * GuestMemory.PageSize), RandomNumberGenerator.GetBytes(GuestMemory.PageSize));
        using var stream = new MemoryStream();
        var writer = new MigrationStreamWriter(stream, "test");
        await writer.WriteHeaderAsync();
        await writer.WriteSectionAsync(MachineDescriptor.Describe("test", source).ToSection());
        await WriteRoundAsync(writer, source, 0, [5, 6]);
        source.GetPage(5).Clear();
        source.Write(source.Base + (6 * GuestMemory.PageSize), RandomNumberGenerator.GetBytes(GuestMemory.PageSize));
        await WriteRoundAsync(writer, source, 1, [5, 6]);
        await writer.CompleteAsync();
        stream.Position = 0;

        using var state = await MachineStateReader.ReadAsync(stream);

        Assert.True(state.Memory.IsZeroPage(5));
        Assert.True(state.Memory.GetPage(6).SequenceEqual(source.GetPage(6)));
        Assert.Equal(4, state.Pages.Pages);
    }

    private static async Task WriteRoundAsync(MigrationStreamWriter writer, GuestMemory memory, int round, int[] pages)
    {
        using (var batch = PageBatchEncoder.Encode(memory, pages))
        {
            await writer.WritePagesAsync(batch.Memory);
        }

        await writer.WriteRoundEndAsync(round);
    }
}
