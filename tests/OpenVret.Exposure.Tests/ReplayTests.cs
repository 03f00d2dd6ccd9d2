using OpenVret.Cli;
using Xunit;

namespace OpenVret.Exposure.Tests;

public sealed class ReplayTests
{
    private static string Repo()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "OpenVret.slnx"))) d = d.Parent;
        return d!.FullName;
    }

    [Theory]
    [InlineData("inhibitory", "auto")]
    [InlineData("fixed", "suggest")]
    [InlineData("habituation", "manual")]
    public void TheSampleSessionReplaysWithReasons(string scheduler, string mode)
    {
        var o = new StringWriter();
        SessionCommand.Run(Path.Combine(Repo(), "samples/exposure/heights-hierarchy.json"), Path.Combine(Repo(), "samples/exposure/heights-session.jsonl"),
            scheduler, mode, null, 1, "approve", 10, 60, o);
        var text = o.ToString();
        Assert.Contains("because [", text);
        Assert.Contains("ALERT therapist: arousal probability", text);
        Assert.Contains("ALERT therapist: sensor 'ecg' is lost", text);
        Assert.Contains("ALERT therapist: head turned away", text);
        Assert.Contains("plan for session 2", text);
        if (mode == "manual") Assert.Contains("manual mode: recorded, not applied", text);
    }

    [Fact]
    public void ABrokenStateLineNamesItsLineAndField()
    {
        var dir = Directory.CreateTempSubdirectory("replay").FullName;
        var states = Path.Combine(dir, "s.jsonl");
        File.WriteAllText(states, "{\"t\": 0, \"suds\": 10}\n{\"t\": 5, \"suds\": 10, \"sensors\": {\"ecg\": \"broken\"}}\n");
        var e = Assert.Throws<ExposureInputException>(() =>
            SessionCommand.Run(Path.Combine(Repo(), "samples/exposure/heights-hierarchy.json"), states, "fixed", "auto", null, 1, "approve", 10, 60, new StringWriter()));
        Assert.Equal(2, e.Line);
        Assert.Contains("sensors.ecg", e.Message);
    }
}
