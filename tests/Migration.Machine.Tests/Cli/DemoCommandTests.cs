namespace Migration.Machine.Tests.Cli;

/// <summary>
/// The README's main job, small: two host processes, the kv guest under the demo's client load, two migrations and a
/// stop checkpoint with its resume. With TCP repair (root) or the relay (otherwise), no client may see an error.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class DemoCommandTests
{
    [Fact]
    public void The_demo_moves_kv_under_load_and_every_reply_matches_the_guest_s_counters()
    {
        var (code, stdout, stderr) = CliProcess.Run("demo", "--migrations", "2", "--interval", "200ms");

        Assert.True(code == 0, $"demo exited {code}: {stderr}\n{stdout}");
        Assert.Contains("every counter in the guest equals the replies its client got", stdout, StringComparison.Ordinal);
        Assert.Contains(" 0 client errors, 0 unanswered", stdout, StringComparison.Ordinal);
        Assert.Contains("migration 2", stdout, StringComparison.Ordinal);
        Assert.Contains("checkpoint", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_interval_is_refused_in_one_line()
    {
        var (code, _, stderr) = CliProcess.Run("demo", "--interval", "soon");

        Assert.Equal(2, code);
        Assert.Equal("migration: --interval: 'soon' is not a duration up to 1 minute (such as 1s or 500ms)", stderr.Trim());
    }
}
