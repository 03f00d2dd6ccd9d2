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
        // The live screen: rules + language check + the shipped model (loaded once here, as in the CLI).
        var screen = new RiskScreen();
        Assert.True(screen.Model.WaitReady(TimeSpan.FromSeconds(120)), screen.Model.Problem);
        for (int i = 0; i < set.Count; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var root = doc.RootElement;
            Assert.Equal(set[i].Text, root.GetProperty("text").GetString());
            var live = screen.Screen(set[i].Text);
            Assert.Equal(live.Crisis, root.GetProperty("crisis").GetBoolean());
            Assert.Equal(live.CategoryName, root.GetProperty("category").GetString());
            Assert.Equal(live.ActionName, root.GetProperty("action").GetString());
            Assert.Equal(live.LevelName, root.GetProperty("level").GetString());
            Assert.Equal(live.Source, root.GetProperty("source").GetString());
            Assert.Equal(Math.Round(live.Score!.Value, 4), root.GetProperty("score").GetDouble(), 4);
            // A rule hit stays a hit.
            var rules = CrisisScreen.Screen(set[i].Text);
            if (rules.Crisis) Assert.Equal("safety_script", root.GetProperty("action").GetString());
        }
    }

    [Fact]
    public void Dialogue_screen_with_context_reads_a_transcript_turn_by_turn()
    {
        var transcript = "agent: How have you been since last week?\npatient: honestly I have been thinking about killing myself\nagent: When?\npatient: tonight\n\npatient: tonight\n";
        var (code, stdout, stderr) = Openvret(transcript, "dialogue", "screen", "--context", "4");
        Assert.True(code == 0, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(6, rows.Count);
        Assert.Equal("not_screened", rows[0].GetProperty("source").GetString());
        Assert.Equal("agent", rows[0].GetProperty("speaker").GetString());
        Assert.True(rows[1].GetProperty("crisis").GetBoolean());
        Assert.Equal("tonight", rows[3].GetProperty("text").GetString());
        Assert.Equal("imminent", rows[3].GetProperty("level").GetString());
        Assert.Equal("context", rows[3].GetProperty("source").GetString());
        Assert.Equal("safety_script", rows[3].GetProperty("action").GetString());
        // After a blank line (a new conversation) the same word alone is nothing.
        Assert.Equal("conversation_break", rows[4].GetProperty("source").GetString());
        Assert.Equal("none", rows[5].GetProperty("level").GetString());
    }

    [Fact]
    public void Dialogue_screen_refuses_a_less_safe_route_naming_the_field_and_value()
    {
        var (code, stdout, stderr) = Openvret("I want to kill myself\n", "dialogue", "screen", "--route", "high=continue");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("routing.high", stderr);
        Assert.Contains("'continue'", stderr);
        var (code2, _, stderr2) = Openvret("x\n", "dialogue", "screen", "--context", "-1");
        Assert.Equal(2, code2);
        Assert.Contains("--context -1", stderr2);
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
