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
        cmd.Subcommands.Add(TrainScreen());
        cmd.Subcommands.Add(BenchScreen());
        cmd.Subcommands.Add(EvalScreen());
        cmd.Subcommands.Add(Check());
        cmd.Subcommands.Add(Chat());
        return cmd;
    }

    private static Command Screen()
    {
        var context = new Option<int>("--context") { Description = "screen each patient line with the N turns before it (a transcript: one turn per line, optional 'patient:'/'agent:'/'therapist:' prefix, a blank line starts a new conversation); 0 = each line alone", DefaultValueFactory = _ => 0 };
        var route = new Option<string[]>("--route") { Description = "LEVEL=ACTION, only towards safer (e.g. concern=safety_script)", AllowMultipleArgumentsPerToken = true };
        var rulesOnly = new Option<bool>("--rules-only") { Description = "the hand-written rules alone (no model, no language check): for comparison" };
        var endpoint = new Option<string?>("--llm-endpoint") { Description = "OpenAI-compatible endpoint ending in /v1 for a second opinion (may raise a level, never lower)" };
        var model = new Option<string>("--llm-model") { Description = "model name at the endpoint", DefaultValueFactory = _ => "local" };
        var timeout = new Option<double>("--llm-timeout") { Description = "seconds the second opinion may take", DefaultValueFactory = _ => 5 };
        var cmd = new Command("screen", "Read utterances (one per line) from standard input; print {text, crisis, category, action, rule, evidence, level, score, source} as JSON per line");
        foreach (var o in new Option[] { context, route, rulesOnly, endpoint, model, timeout }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            int n = parse.GetValue(context);
            if (n is < 0 or > 50) throw new DialogueInputException("--context", n.ToString(System.Globalization.CultureInfo.InvariantCulture), $"--context {n}: use 0-50 turns");
            bool rules = parse.GetValue(rulesOnly);
            var routing = RiskRouting.Parse(parse.GetValue(route) ?? []);
            LlmSecondOpinion? llm = null;
            if (parse.GetValue(endpoint) is { } url)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) throw new DialogueInputException("--llm-endpoint", url, $"--llm-endpoint '{url}' is not an absolute URL");
                var seconds = parse.GetValue(timeout);
                if (!(seconds > 0 && seconds <= 60)) throw new DialogueInputException("--llm-timeout", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), $"--llm-timeout {seconds}: use 0-60 seconds");
                var options = new LlmOptions(uri, parse.GetValue(model)!, Environment.GetEnvironmentVariable("OPENVRET_LLM_KEY"), TimeSpan.FromSeconds(seconds));
                llm = new LlmSecondOpinion(options.CreateClient(), options.Model, options.Timeout);
            }
            RiskScreen? screen = null;
            if (!rules)
            {
                screen = new RiskScreen(routing: routing, llm: llm);
                // A batch tool waits for the model; if it cannot load, every line says so (source "fallback", a note).
                if (!screen.Model.WaitReady(TimeSpan.FromSeconds(120)))
                    Console.Error.WriteLine($"warning: {screen.Model.Problem}; screening with the rules and the fallback word list only");
            }
            var stdout = Console.Out;
            var history = new List<ContextTurn>();
            while (Console.In.ReadLine() is { } line)
            {
                string speaker = "patient", text = line;
                if (n > 0)
                {
                    if (line.Trim().Length == 0) { history.Clear(); stdout.WriteLine(JsonSerializer.Serialize(new { text = line, speaker = "none", crisis = false, category = "none", action = "continue", rule = (string?)null, evidence = (string?)null, level = "none", score = (double?)null, source = "conversation_break" }, Json)); continue; }
                    var m = System.Text.RegularExpressions.Regex.Match(line, @"^\s*(patient|agent|therapist|system)\s*:\s*(.*)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
                    if (m.Success) { speaker = m.Groups[1].Value.ToLowerInvariant(); text = m.Groups[2].Value; }
                }
                if (speaker != "patient")
                {
                    stdout.WriteLine(JsonSerializer.Serialize(new { text, speaker, crisis = false, category = "none", action = "continue", rule = (string?)null, evidence = (string?)null, level = "none", score = (double?)null, source = "not_screened" }, Json));
                }
                else
                {
                    var window = n > 0 ? history.TakeLast(n).ToList() : [];
                    var r = screen == null ? CrisisScreen.Screen(text) : llm == null ? screen.Screen(text, window) : screen.ScreenAsync(text, window).GetAwaiter().GetResult();
                    if (screen == null) r = r with { Action = routing.Route(r) };
                    if (n > 0)
                        stdout.WriteLine(JsonSerializer.Serialize(new { text, speaker, crisis = r.Crisis, category = r.CategoryName, action = r.ActionName, rule = r.Rule, evidence = r.Evidence, level = r.LevelName, score = Round(r.Score), source = r.Source, detail = r.Detail, note = r.Note }, Json));
                    else
                        stdout.WriteLine(JsonSerializer.Serialize(new { text = line, crisis = r.Crisis, category = r.CategoryName, action = r.ActionName, rule = r.Rule, evidence = r.Evidence, level = r.LevelName, score = Round(r.Score), source = r.Source, detail = r.Detail, note = r.Note }, Json));
                }
                if (n > 0) history.Add(new ContextTurn(speaker, text));
            }
        }));
        return cmd;
    }

    private static double? Round(double? v) => v is double d ? Math.Round(d, 4) : null;

    private static Command TrainScreen()
    {
        var data = new Option<string[]>("--data") { Description = "training TSV files (label TAB level TAB text)", AllowMultipleArgumentsPerToken = true, Required = true };
        var output = new Option<string>("--out") { Description = "weights file to write", DefaultValueFactory = _ => "models/crisis-screen/weights.json" };
        var cmd = new Command("train-screen", "Train the learned crisis screen on sentence embeddings (inner cross-validation on the training files only) and write its weights");
        cmd.Options.Add(data); cmd.Options.Add(output);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var files = parse.GetValue(data)!;
            foreach (var f in files) if (!File.Exists(f)) throw new DialogueInputException("--data", f, $"--data '{f}': no such file");
            var items = files.SelectMany(TrainingItem.Load).ToList();
            if (items.Count(i => i.Positive) < 20 || items.Count(i => !i.Positive) < 20)
                throw new DialogueInputException("--data", string.Join(",", files), $"need at least 20 positives and 20 negatives (got {items.Count(i => i.Positive)} and {items.Count(i => !i.Positive)})");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var embedder = new MiniLmEmbedder();
            var x = new List<float[]>();
            foreach (var chunk in items.Chunk(32)) x.AddRange(embedder.Embed(chunk.Select(i => i.Text).ToList()));
            Console.Out.WriteLine($"embedded {items.Count} utterances in {clock.Elapsed.TotalSeconds:F1} s ({embedder.Name})");
            var ruleHits = items.Select(i => CrisisScreen.Screen(i.Text).Level > RiskLevel.None).ToArray();
            var names = files.Select(f => Path.GetFileName(f)).ToArray();
            var report = CrisisModel.Train(items, x, ruleHits, names, CrisisModel.Sha256(files), log: Console.Out);
            var m = report.Model;
            Console.Out.WriteLine($"chosen lambda {m.Parameters.Lambda:G3}; thresholds concern {m.ConcernThreshold:F4}, high {m.HighThreshold:F4}");
            Console.Out.WriteLine("cross-validated (out-of-fold) results on the TRAINING data, per label:");
            Console.Out.WriteLine("| label | n | rules | model >= concern | fused >= concern | fused >= high |");
            Console.Out.WriteLine("|---|---|---|---|---|---|");
            foreach (var g in Enumerable.Range(0, items.Count).GroupBy(i => items[i].Label).OrderBy(g => items[g.First()].Positive ? 0 : 1).ThenBy(g => g.Key))
            {
                int cnt = g.Count();
                int r = g.Count(i => ruleHits[i]);
                int mc = g.Count(i => report.OutOfFoldScores[i] >= m.ConcernThreshold);
                int fc = g.Count(i => ruleHits[i] || report.OutOfFoldScores[i] >= m.ConcernThreshold);
                int fh = g.Count(i => CrisisScreen.Screen(items[i].Text).Crisis || report.OutOfFoldScores[i] >= m.HighThreshold);
                Console.Out.WriteLine($"| {g.Key} | {cnt} | {r}/{cnt} | {mc}/{cnt} | {fc}/{cnt} | {fh}/{cnt} |");
            }
            var outPath = parse.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            m.Save(outPath);
            Console.Out.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length / 1024} KiB) in {clock.Elapsed.TotalSeconds:F1} s");
        }));
        return cmd;
    }

    private static Command EvalScreen()
    {
        var dir = new Option<string>("--dir") { Description = "an evaluation folder with utterances.tsv, non-english.tsv, conversations.tsv, conversations-labels.tsv", Required = true };
        var context = new Option<int>("--context") { Description = "earlier turns read with each conversation's last turn", DefaultValueFactory = _ => 6 };
        var cmd = new Command("eval-screen", "Measure the crisis screen on an evaluation folder: rules alone, model alone, fused; recall per category and level, false alarms per negative type; conversations with and without context");
        cmd.Options.Add(dir); cmd.Options.Add(context);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var folder = parse.GetValue(dir)!;
            int n = parse.GetValue(context);
            if (n is < 1 or > 50) throw new DialogueInputException("--context", n.ToString(System.Globalization.CultureInfo.InvariantCulture), $"--context {n}: use 1-50 turns");
            foreach (var f in new[] { "utterances.tsv", "non-english.tsv", "conversations.tsv", "conversations-labels.tsv" })
                if (!File.Exists(Path.Combine(folder, f))) throw new DialogueInputException("--dir", folder, $"--dir '{folder}': no {f} there");
            var screen = new RiskScreen();
            if (!screen.Model.WaitReady(TimeSpan.FromSeconds(120))) throw new InvalidOperationException(screen.Model.Problem);
            var model = screen.Model.Classifier!;
            var w = Console.Out;
            w.WriteLine($"# {Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'))}: model {model.Parameters.TrainingSha256[..12]} (trained on {model.Parameters.TrainingCount}), thresholds concern {model.ConcernThreshold:F4} high {model.HighThreshold:F4}");

            RiskLevel ModelAlone(string text)
            {
                var (score, cat) = screen.ModelScore(text);
                if (score >= model.HighThreshold) return CrisisModel.LevelOf(cat) == RiskLevel.Imminent ? RiskLevel.Imminent : RiskLevel.High;
                return score >= model.ConcernThreshold ? RiskLevel.Concern : RiskLevel.None;
            }
            static List<string[]> Rows(string path) => File.ReadLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t')).ToList();
            static RiskLevel Parse(string level) => level switch { "concern" => RiskLevel.Concern, "high" => RiskLevel.High, "imminent" => RiskLevel.Imminent, "none" => RiskLevel.None, _ => throw new DialogueInputException("level", level, $"unknown level '{level}'") };
            static string Pct(int a, int b) => b == 0 ? "-" : $"{a}/{b} = {(double)a / b:F3}";

            static string L(RiskLevel l) => l.ToString().ToLowerInvariant();

            void Report(string title, List<(bool Crisis, RiskLevel Level, string Group, string Text)> items, Dictionary<string, Func<string, RiskLevel>> modes)
            {
                var got = modes.ToDictionary(m => m.Key, m => items.Select(i => m.Value(i.Text)).ToArray());
                w.WriteLine();
                w.WriteLine($"## {title}");
                w.WriteLine();
                w.WriteLine("| | " + string.Join(" | ", modes.Keys) + " |");
                w.WriteLine("|---|" + string.Concat(modes.Keys.Select(_ => "---|")));
                string AtLevel(List<int> g, string k) => Pct(g.Count(i => got[k][i] > RiskLevel.None), g.Count) + " / " + g.Count(i => got[k][i] >= items[i].Level);
                var pos = Enumerable.Range(0, items.Count).Where(i => items[i].Crisis).ToList();
                var neg = Enumerable.Range(0, items.Count).Where(i => !items[i].Crisis).ToList();
                w.WriteLine($"| recall (level >= concern), n={pos.Count} | " + string.Join(" | ", modes.Keys.Select(k => Pct(pos.Count(i => got[k][i] > RiskLevel.None), pos.Count))) + " |");
                w.WriteLine($"| recall at the labelled level or above | " + string.Join(" | ", modes.Keys.Select(k => Pct(pos.Count(i => got[k][i] >= items[i].Level), pos.Count))) + " |");
                w.WriteLine($"| false alarms (level >= concern), n={neg.Count} | " + string.Join(" | ", modes.Keys.Select(k => Pct(neg.Count(i => got[k][i] > RiskLevel.None), neg.Count))) + " |");
                w.WriteLine($"| false alarms at high or above | " + string.Join(" | ", modes.Keys.Select(k => Pct(neg.Count(i => got[k][i] >= RiskLevel.High), neg.Count))) + " |");
                foreach (var g in pos.GroupBy(i => items[i].Group + " (" + L(items[i].Level) + ")").OrderBy(g => g.Key))
                    w.WriteLine($"| recall {g.Key} | " + string.Join(" | ", modes.Keys.Select(k => Pct(g.Count(i => got[k][i] > RiskLevel.None), g.Count()))) + " |");
                foreach (var g in pos.GroupBy(i => items[i].Level).OrderBy(g => g.Key))
                    w.WriteLine($"| recall level {L(g.Key)} (flagged / at level) | " + string.Join(" | ", modes.Keys.Select(k => AtLevel(g.ToList(), k))) + " |");
                foreach (var g in neg.GroupBy(i => items[i].Group).OrderBy(g => g.Key))
                    w.WriteLine($"| false alarms {g.Key} | " + string.Join(" | ", modes.Keys.Select(k => Pct(g.Count(i => got[k][i] > RiskLevel.None), g.Count()))) + " |");
                var fused = modes.Keys.Last();
                w.WriteLine();
                foreach (var i in pos.Where(i => got[fused][i] == RiskLevel.None)) w.WriteLine($"- missed by {fused} ({items[i].Group}, {L(items[i].Level)}): {items[i].Text}");
                foreach (var i in neg.Where(i => got[fused][i] > RiskLevel.None)) w.WriteLine($"- false alarm by {fused} ({items[i].Group}): {L(got[fused][i])}: {items[i].Text}");
            }

            var utt = Rows(Path.Combine(folder, "utterances.tsv")).Select(r => (r[0] == "1", Parse(r[1]), r[2], r[3])).ToList();
            Report("utterances.tsv", utt, new()
            {
                ["rules alone"] = t => CrisisScreen.Screen(t).Level,
                ["model alone"] = ModelAlone,
                ["fused (rules + language + model)"] = t => screen.Screen(t).Level,
            });
            var ne = Rows(Path.Combine(folder, "non-english.tsv")).Select(r => (r[0] == "1", Parse(r[1]), r[4] + " " + r[2], r[3])).ToList();
            Report("non-english.tsv", ne, new()
            {
                ["rules alone"] = t => CrisisScreen.Screen(t).Level,
                ["model alone"] = ModelAlone,
                ["fused (rules + language + model)"] = t => screen.Screen(t).Level,
            });

            var turns = Rows(Path.Combine(folder, "conversations.tsv")).GroupBy(r => r[0]).ToDictionary(g => g.Key, g => g.OrderBy(r => int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)).Select(r => new ContextTurn(r[2], r[3])).ToList());
            var labels = Rows(Path.Combine(folder, "conversations-labels.tsv"));
            var convs = labels.Select(r => (r[1] == "1", Parse(r[2]), r[3], r[0])).ToList();
            foreach (var c in convs) if (!turns.ContainsKey(c.Item4)) throw new DialogueInputException("conversation_id", c.Item4, $"label for '{c.Item4}' but no turns");
            string Last(string id) => turns[id][^1].Text;
            List<ContextTurn> Before(string id) => turns[id].Take(turns[id].Count - 1).TakeLast(n).ToList();
            Report($"conversations.tsv (the last patient turn; context = the {n} turns before it)", convs, new()
            {
                ["rules alone, last turn"] = id => CrisisScreen.Screen(Last(id)).Level,
                ["fused, last turn alone"] = id => screen.Screen(Last(id)).Level,
                ["fused with context"] = id => screen.Screen(Last(id), Before(id)).Level,
            });
        }));
        return cmd;
    }

    private static Command BenchScreen()
    {
        var input = new Option<string[]>("--input") { Description = "files of utterances (one per line; for a TSV the last column)", AllowMultipleArgumentsPerToken = true, Required = true };
        var repeat = new Option<int>("--repeat") { Description = "passes over the utterances (after one untimed warm-up pass)", DefaultValueFactory = _ => 3 };
        var context = new Option<int>("--context") { Description = "also time each utterance read with the N lines before it as earlier patient turns", DefaultValueFactory = _ => 0 };
        var cmd = new Command("bench-screen", "Time the fused crisis screen (rules + model) per utterance: model load, p50/p95/p99/max");
        cmd.Options.Add(input); cmd.Options.Add(repeat); cmd.Options.Add(context);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var texts = new List<string>();
            foreach (var f in parse.GetValue(input)!)
            {
                if (!File.Exists(f)) throw new DialogueInputException("--input", f, $"--input '{f}': no such file");
                texts.AddRange(File.ReadLines(f).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t')[^1]));
            }
            int passes = parse.GetValue(repeat);
            if (passes is < 1 or > 100) throw new DialogueInputException("--repeat", passes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--repeat: use 1-100");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var screen = new RiskScreen();
            var constructed = clock.Elapsed.TotalMilliseconds;
            if (!screen.Model.WaitReady(TimeSpan.FromSeconds(120))) throw new InvalidOperationException(screen.Model.Problem);
            Console.Out.WriteLine($"screen constructed in {constructed:F1} ms (loading in the background); model ready after {clock.Elapsed.TotalSeconds:F2} s (load task {screen.Model.LoadSeconds:F2} s)");
            foreach (var t in texts) screen.Screen(t);
            int n = parse.GetValue(context);
            if (n is < 0 or > 50) throw new DialogueInputException("--context", n.ToString(System.Globalization.CultureInfo.InvariantCulture), "--context: use 0-50");
            var times = new List<double>();
            var withContext = new List<double>();
            var rulesOnly = new List<double>();
            for (int p = 0; p < passes; p++)
                foreach (var t in texts)
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    screen.Screen(t);
                    times.Add(sw.Elapsed.TotalMilliseconds);
                    sw.Restart();
                    CrisisScreen.Screen(t);
                    rulesOnly.Add(sw.Elapsed.TotalMilliseconds);
                }
            if (n > 0)
                for (int p = 0; p < passes; p++)
                    for (int i = 0; i < texts.Count; i++)
                    {
                        var window = texts.Skip(Math.Max(0, i - n)).Take(Math.Min(i, n)).Select(x => new ContextTurn("patient", x)).ToList();
                        var sw = System.Diagnostics.Stopwatch.StartNew();
                        screen.Screen(texts[i], window);
                        withContext.Add(sw.Elapsed.TotalMilliseconds);
                    }
            static string Stats(List<double> v)
            {
                v.Sort();
                double Q(double q) => v[Math.Min(v.Count - 1, (int)Math.Ceiling(q * v.Count) - 1)];
                return $"p50 {Q(0.5):F2} ms, p95 {Q(0.95):F2} ms, p99 {Q(0.99):F2} ms, max {v[^1]:F2} ms";
            }
            Console.Out.WriteLine($"{texts.Count} utterances x {passes} passes (mean {texts.Average(t => t.Split(' ').Length):F1} words, longest {texts.Max(t => t.Split(' ').Length)}), {Environment.ProcessorCount} cores");
            Console.Out.WriteLine($"fused screen (rules + language + model): {Stats(times)}");
            Console.Out.WriteLine($"rules alone:                              {Stats(rulesOnly)}");
            if (n > 0) Console.Out.WriteLine($"fused with {n} earlier turns as context:    {Stats(withContext)}");
        }));
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
