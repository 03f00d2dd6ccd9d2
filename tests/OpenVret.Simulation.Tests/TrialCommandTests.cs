using OpenVret.Cli;
using Xunit;

namespace OpenVret.Simulation.Tests;

public sealed class TrialCommandTests
{
    [Fact]
    public void TrialWritesATableJsonAndPngFigures()
    {
        var dir = Directory.CreateTempSubdirectory("trial").FullName;
        var json = Path.Combine(dir, "t.json");
        var o = new StringWriter(); var e = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(o); Console.SetError(e);
        int code;
        try { code = OpenVretCommand.Build().Parse(new[] { "trial", "--patients", "6", "--sessions", "2", "--models", "associative,latent-cause", "--json", json, "--plots", dir }).Invoke(); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
        Assert.True(code == 0, e.ToString());
        Assert.Contains("post_all_steps", o.ToString());
        Assert.Contains("generative model: latent-cause", o.ToString());
        Assert.Contains("calibration", o.ToString());
        Assert.Contains("not clinical evidence", o.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(6 * 5 * 2, doc.RootElement.GetProperty("Patients").GetArrayLength());
        var first = doc.RootElement.GetProperty("Patients")[0];
        Assert.Equal(5, first.GetProperty("Dose").GetProperty("MinutesPerStep").GetArrayLength());
        Assert.True(first.GetProperty("Outcomes").TryGetProperty("renewal_aba", out _));
        Assert.True(doc.RootElement.GetProperty("Calibration").GetArrayLength() > 0);
        foreach (var png in new[] { "fear.png", "safety.png", "sessions.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, png));
            Assert.True(bytes.Length > 5000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
    }
}
