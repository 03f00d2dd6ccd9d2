using System.CommandLine;
using System.Text.Json;
using OpenVret.Dialogue;
using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Llm;
using OpenVret.Dialogue.Personas;
using OpenVret.Dialogue.Scripted;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret dialogue screen</c>: the live agent's input guardrail on standard input, one JSON object per line.
/// <c>openvret dialogue chat</c>: talk to a persona in the terminal (you are the patient; the terminal user counts as the
/// supervising therapist). <c>openvret dialogue check FILE</c>: validate a persona file.
/// </summary>
public static class DialogueCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var cmd = new Command("dialogue", "Virtual humans: crisis screen, persona check, terminal chat");
        cmd.Subcommands.Add(Screen());
        cmd.Subcommands.Add(Check());
        cmd.Subcommands.Add(Chat());
        return cmd;
    }

    private static Command Screen()
    {
        var cmd = new Command("screen", "Read utterances (one per line) from standard input; print {text, crisis, category, action} as JSON per line");
        cmd.SetAction(_ =>
        {
            var stdout = Console.Out;
            while (Console.In.ReadLine() is { } line)
            {
                var r = CrisisScreen.Screen(line);
                stdout.WriteLine(JsonSerializer.Serialize(new { text = line, crisis = r.Crisis, category = r.CategoryName, action = r.ActionName, rule = r.Rule, evidence = r.Evidence }, Json));
            }
            return 0;
        });
        return cmd;
    }

    private static Command Check()
    {
        var file = new Argument<FileInfo>("file") { Description = "persona JSON file" };
        var cmd = new Command("check", "Validate a persona file (fields, script graph, disclosure, that every scripted line passes the output guard)");
        cmd.Arguments.Add(file);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var p = Persona.Load(parse.GetValue(file)!.FullName);
            int refused = 0;
            foreach (var (id, node) in p.Script.Nodes)
                foreach (var (tone, line) in node.Lines)
                {
                    var c = OutputGuard.Check(line, p);
                    if (!c.Allowed) { refused++; Console.Error.WriteLine($"script.nodes.{id}.lines.{tone}: refused by the output guard ({c.Violation}: '{c.Evidence}')"); }
                }
            Console.Out.WriteLine($"{p.Id}: {p.Script.Nodes.Count} nodes, {refused} refused lines");
            if (refused > 0) throw new DialogueInputException("script", p.Id, $"{refused} scripted lines would never be spoken");
        }));
        return cmd;
    }

    private static Command Chat()
    {
        var persona = new Option<string>("--persona") { Description = "built-in id (audience, interviewer, examiner, coach) or a persona file", DefaultValueFactory = _ => "interviewer" };
        var mode = new Option<string>("--mode") { Description = "speaking-time | global-keywords | local-keywords", DefaultValueFactory = _ => "local-keywords" };
        var intensity = new Option<double>("--intensity") { Description = "0 (friendly) - 1 (sceptical)", DefaultValueFactory = _ => 0.5 };
        var endpoint = new Option<string?>("--llm-endpoint") { Description = "OpenAI-compatible endpoint ending in /v1 (e.g. http://127.0.0.1:8080/v1); script only when absent" };
        var model = new Option<string>("--llm-model") { Description = "model name at the endpoint", DefaultValueFactory = _ => "local" };
        var cmd = new Command("chat", "Talk to a persona in the terminal (the scripted engine, or a model with the script as fallback)");
        foreach (var o in new Option[] { persona, mode, intensity, endpoint, model }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var id = parse.GetValue(persona)!;
            var p = File.Exists(id) ? Persona.Load(id) : Persona.BuiltIn(id);
            var scriptMode = parse.GetValue(mode) switch
            {
                "speaking-time" => ScriptMode.SpeakingTime,
                "global-keywords" => ScriptMode.GlobalKeywords,
                "local-keywords" => ScriptMode.LocalKeywords,
                var m => throw new DialogueInputException("mode", m!, $"--mode '{m}': use speaking-time, global-keywords or local-keywords"),
            };
            IDialogueEngine? llm = null;
            if (parse.GetValue(endpoint) is { } url)
            {
                var options = new LlmOptions(new Uri(url), parse.GetValue(model)!, Environment.GetEnvironmentVariable("OPENVRET_LLM_KEY"), TimeSpan.FromSeconds(8));
                llm = new LlmEngine(options.CreateClient(), options);
            }
            var session = new DialogueSession(p, new ScriptedEngine(p.Script, scriptMode), llm, new TerminalTherapist(), null, parse.GetValue(intensity));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var line in session.Start(0)) Console.Out.WriteLine($"{p.Name}: {line.Text}");
            var lastPrompt = clock.Elapsed.TotalSeconds;
            while (Console.In.ReadLine() is { } text)
            {
                var now = clock.Elapsed.TotalSeconds;
                // Typed text: speaking time is estimated at 2.5 words per second.
                var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
                var outcome = session.HearAsync(new PatientTurn(text, words / 2.5, now - lastPrompt, now)).GetAwaiter().GetResult();
                if (outcome.Screen.Category != ScreenCategory.None) Console.Error.WriteLine($"[guardrail] {outcome.Screen.CategoryName} -> {outcome.Screen.ActionName}");
                if (outcome.FallbackReason != null) Console.Error.WriteLine($"[fallback] {outcome.FallbackReason}");
                if (outcome.Silence != null) Console.Error.WriteLine($"[silent] {outcome.Silence}");
                foreach (var l in outcome.Lines) Console.Out.WriteLine($"{p.Name}: {l.Text}");
                lastPrompt = clock.Elapsed.TotalSeconds;
            }
        }));
        return cmd;
    }

    private sealed class TerminalTherapist : ITherapistPresence
    {
        public bool TherapistConnected => true;
    }
}
