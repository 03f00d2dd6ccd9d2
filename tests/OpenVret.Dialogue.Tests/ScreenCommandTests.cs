using System.Diagnostics;
using System.Text.Json;
using OpenVret.Dialogue.Guardrails;
using Xunit;

namespace OpenVret.Dialogue.Tests;

public sealed class ScreenCommandTests
{
    /// <summary>Runs the built <c>openvret</c> as a process, utterances piped to standard input.</summary>
    private static (int Code, string Out, string Err) Openvret(string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "openvret.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(60_000), "openvret did not exit");
        return (p.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void Dialogue_screen_prints_one_json_object_per_input_line_from_the_live_guardrail_code()
    {
        var set = ScreenTests.LoadSet().Take(400).ToList();
        var (code, stdout, stderr) = Openvret(string.Join('\n', set.Select(s => s.Text)) + "\n", "dialogue", "screen");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(set.Count, lines.Length);
        for (int i = 0; i < set.Count; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var root = doc.RootElement;
            Assert.Equal(set[i].Text, root.GetProperty("text").GetString());
            var live = CrisisScreen.Screen(set[i].Text);
            Assert.Equal(live.Crisis, root.GetProperty("crisis").GetBoolean());
            Assert.Equal(live.CategoryName, root.GetProperty("category").GetString());
            Assert.Equal(live.ActionName, root.GetProperty("action").GetString());
        }
    }

    [Fact]
    public void Dialogue_check_names_the_broken_field()
    {
        var (code, _, stderr) = Openvret("", "dialogue", "check", Path.Combine(AppContext.BaseDirectory, "Data", "broken-persona.json"));
        Assert.Equal(2, code);
        Assert.Contains("script.nodes.intro.next", stderr);
        Assert.Contains("nowhere", stderr);
    }
}
