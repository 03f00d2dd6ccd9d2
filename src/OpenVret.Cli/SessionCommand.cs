using System.CommandLine;
using System.Globalization;
using OpenVret.Exposure;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Safety;
using OpenVret.Exposure.Scheduling;
using OpenVret.Exposure.Session;

namespace OpenVret.Cli;

/// <summary><c>openvret session replay</c>: drive the exposure engine with a recorded or simulated state stream.</summary>
public static class SessionCommand
{
    public static Command Create()
    {
        var hierarchy = new Option<FileInfo>("--hierarchy") { Description = "the patient's hierarchy (JSON)", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "state stream, one JSON object per line", Required = true };
        var scheduler = new Option<string>("--scheduler") { Description = "fixed | habituation | inhibitory", DefaultValueFactory = _ => "inhibitory" };
        var mode = new Option<string>("--mode") { Description = "manual | suggest | auto (supervised-auto)", DefaultValueFactory = _ => "auto" };
        var rules = new Option<FileInfo?>("--rules") { Description = "rule file (JSON with comments); default: the shipped rule set" };
        var seed = new Option<int>("--seed") { Description = "random seed (same inputs and seed give the same decisions)", DefaultValueFactory = _ => 1 };
        var therapist = new Option<string>("--therapist") { Description = "in suggest mode, the replayed therapist: approve | reject", DefaultValueFactory = _ => "approve" };
        var veto = new Option<double>("--veto-seconds") { Description = "supervised-auto veto window in seconds", DefaultValueFactory = _ => 10 };
        var release = new Option<double>("--release-holds-after") { Description = "the replayed therapist releases a safety hold once safety has been clear this many seconds (0 = never)", DefaultValueFactory = _ => 60 };
        var replay = new Command("replay", "Replay a state stream through the exposure engine and print every proposal with its reasons");
        foreach (var o in new Option[] { hierarchy, input, scheduler, mode, rules, seed, therapist, veto, release }) replay.Options.Add(o);
        replay.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(hierarchy)!.FullName, parse.GetValue(input)!.FullName, parse.GetValue(scheduler)!,
            parse.GetValue(mode)!, parse.GetValue(rules)?.FullName, parse.GetValue(seed), parse.GetValue(therapist)!, parse.GetValue(veto), parse.GetValue(release), Console.Out)));
        var cmd = new Command("session", "Exposure sessions");
        cmd.Subcommands.Add(replay);
        return cmd;
    }

    public static void Run(string hierarchyPath, string inputPath, string schedulerId, string modeName, string? rulesPath, int seed, string therapist, double vetoSeconds, double releaseHoldsAfter, TextWriter output)
    {
        var patient = ExposureFiles.ReadPatient(hierarchyPath);
        var rules = rulesPath is null ? RuleSet.Default() : RuleSet.Load(rulesPath);
        var mode = modeName switch
        {
            "manual" => EngineMode.Manual, "suggest" => EngineMode.Suggest, "auto" or "supervised-auto" => EngineMode.SupervisedAuto,
            _ => throw new ExposureInputException("mode", modeName, "one of manual, suggest, auto"),
        };
        if (therapist is not ("approve" or "reject")) throw new ExposureInputException("therapist", therapist, "one of approve, reject");
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var clock = new ManualTimeProvider(start);
        var engine = new ExposureEngine(patient, Schedulers.Create(schedulerId), rules, patient.Safety, mode, clock, seed, TimeSpan.FromSeconds(vetoSeconds));
        output.WriteLine($"patient {patient.PseudonymousId}: {patient.Hierarchy.Items.Count} steps; scheduler {engine.SchedulerId}; {mode} mode; rules {rules.Source} ({rules.Rules.Count})");
        Print(engine.Events, output);
        int seen = engine.Events.Count;
        if (!File.Exists(inputPath)) throw new ExposureInputException("input", inputPath, "file not found");
        using var reader = new StreamReader(inputPath);
        var therapistStandIn = new ScriptedTherapist(releaseHoldsAfter);
        foreach (var (_, update) in ExposureFiles.ReadStates(reader, Path.GetFileName(inputPath)))
        {
            clock.SetUtcNow(start + update.Elapsed);
            var events = engine.OnUpdate(update).ToList();
            events.AddRange(therapistStandIn.Observe(engine, events));
            if (mode == EngineMode.Suggest)
                foreach (var e in events.Where(e => e.Status == ProposalStatus.Pending).ToList())
                    events.AddRange(therapist == "approve" ? engine.Approve(e.Proposal!.Id) : engine.Reject(e.Proposal!.Id, "replayed therapist rejects"));
            Print(events, output);
        }
        output.WriteLine($"end: {engine.Trials.Count} trial(s); current step '{engine.CurrentItemId}'; safety hold {(engine.HoldActive ? "ACTIVE" : "off")}");
        output.WriteLine($"expectancy model: {string.Join("; ", engine.Expectancy.State.Select(s => $"{s.Stimulus} {s.PredictedExpectancy:0} ({s.Trials} trials)"))}");
        output.WriteLine($"therapist preferences: {engine.Preferences.Describe()}");
        var plan = engine.PlanNextSession(seed);
        output.WriteLine($"plan for session {plan.Session}: {string.Join(", ", plan.Trials.Select(t => $"{t.ItemId}@{t.Context.Room}/{t.Context.Lighting} +{t.InterTrialInterval.TotalSeconds:0}s"))}");
        foreach (var r in plan.Reasons) output.WriteLine($"    because {r}");
    }

    private static void Print(IEnumerable<EngineEvent> events, TextWriter o)
    {
        foreach (var e in events)
        {
            o.WriteLine($"{e.At.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),7} s  {e.Kind,-15} {e.Text}");
            if (e.Proposal is { } p && e.Kind is "proposed" or "recorded" or "blocked" || e.Kind == "applied" && e.Proposal!.Reasons.Any(r => r.Kind == ReasonKind.Safety))
                foreach (var r in e.Proposal!.Reasons) o.WriteLine($"{"",27}because {r}");
        }
    }
}
