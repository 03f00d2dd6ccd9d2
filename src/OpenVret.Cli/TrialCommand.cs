using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenVret.Simulation;

namespace OpenVret.Cli;

/// <summary><c>openvret trial --policies fixed,habituation,inhibitory --patients 1000 --sessions 8 --seed 1 [--json F]</c>.</summary>
public static class TrialCommand
{
    public static Command Create()
    {
        var policies = new Option<string>("--policies") { Description = "comma-separated: fixed, habituation, inhibitory (the first is the reference)", DefaultValueFactory = _ => "fixed,habituation,inhibitory" };
        var patients = new Option<int>("--patients") { Description = "virtual patients", DefaultValueFactory = _ => 100 };
        var sessions = new Option<int>("--sessions") { Description = "weekly sessions per patient", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
        var models = new Option<string>("--models") { Description = "comma-separated generative fear models: " + string.Join(", ", FearModels.Names), DefaultValueFactory = _ => string.Join(",", FearModels.Names) };
        var doseMatch = new Option<string>("--dose-match") { Description = "add an arm yoked to this policy's dose (same minutes at the same steps, in hierarchy order); 'none' for no such arm", DefaultValueFactory = _ => "inhibitory" };
        var json = new Option<FileInfo?>("--json") { Description = "write every outcome per model, arm and patient (with dose), the comparisons and the calibration to this JSON file" };
        var plots = new Option<DirectoryInfo?>("--plots") { Description = "write PNG figures (fear, safety, sessions to criterion) into this folder" };
        var cmd = new Command("trial", "Run an in-silico trial: every virtual patient under every policy (paired), then a follow-up in a novel context");
        foreach (var o in new Option[] { policies, patients, sessions, seed, models, doseMatch, json, plots }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var options = new TrialOptions
            {
                Policies = parse.GetValue(policies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Patients = parse.GetValue(patients),
                Sessions = parse.GetValue(sessions),
                Seed = parse.GetValue(seed),
                Models = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            string dm = parse.GetValue(doseMatch)!;
            options = options with { DoseMatchTo = dm == "none" ? null : options.Policies.Contains(dm) ? dm : dm == "inhibitory" ? null : dm };
            var sw = Stopwatch.StartNew();
            var report = TrialRunner.Run(options);
            Print(report, Console.Out);
            Console.Out.WriteLine($"{options.Patients} patients x {options.Policies.Count} policies x {options.Sessions} sessions x {options.Models.Count} models (+ {report.Arms.Count - options.Policies.Count} control arms) in {sw.Elapsed.TotalSeconds:0.0} s. In-silico results are hypotheses about the models, not clinical evidence.");
            if (parse.GetValue(plots) is DirectoryInfo d)
                foreach (var png in TrialPlots.Write(report, d.FullName)) Console.Out.WriteLine($"written {png}");
            if (parse.GetValue(json) is FileInfo f)
            {
                File.WriteAllText(f.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
                Console.Out.WriteLine($"written {f.FullName}");
            }
        }));
        return cmd;
    }

    /// <summary><c>openvret trial-sensitivity --patients 100 --models ... [--json F]</c>: one-at-a-time parameter and patient-mix variation.</summary>
    public static Command CreateSensitivity()
    {
        var patients = new Option<int>("--patients") { Description = "virtual patients per variant", DefaultValueFactory = _ => 100 };
        var sessions = new Option<int>("--sessions") { Description = "weekly sessions per patient", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
        var models = new Option<string>("--models") { Description = "comma-separated generative fear models", DefaultValueFactory = _ => string.Join(",", FearModels.Names) };
        var json = new Option<FileInfo?>("--json") { Description = "write every row to this JSON file" };
        var cmd = new Command("trial-sensitivity", "Vary each fear-model parameter (x0.5, x2) and the patient mix; show where the policy ranking flips");
        foreach (var o in new Option[] { patients, sessions, seed, models, json }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var ms = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var m in ms) FearModels.Create(m, new FearParameters());
            var options = new TrialOptions { Patients = parse.GetValue(patients), Sessions = parse.GetValue(sessions), Seed = parse.GetValue(seed) };
            var sw = Stopwatch.StartNew();
            var rows = TrialSensitivity.Run(options, ms);
            Console.Out.WriteLine("ranking on post fear over all steps and on follow-up fear (best first); * = differs from the model's default ranking");
            Console.Out.WriteLine($"{"model",-13} {"variant",-40} {"level",-5} {"post",-36} {"follow-up",-36} {"g vs WL",7}");
            foreach (var r in rows)
                Console.Out.WriteLine($"{r.Model,-13} {r.Variant,-40} {r.Level,-5} {(r.PostFlipped ? "*" : " ") + r.RankingPost,-36} {(r.FollowUpFlipped ? "*" : " ") + r.RankingFollowUp,-36} {F(r.FixedVsWaitlistG, "0.00"),7}");
            Console.Out.WriteLine($"{rows.Count} variants x {options.Patients} patients in {sw.Elapsed.TotalSeconds:0.0} s. In-silico results are hypotheses about the models, not clinical evidence.");
            if (parse.GetValue(json) is FileInfo f)
            {
                File.WriteAllText(f.FullName, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                Console.Out.WriteLine($"written {f.FullName}");
            }
        }));
        return cmd;
    }

    /// <summary><c>openvret simulate-dataset --out ROOT --subjects N --seed S</c>: virtual patients in the generic labelled layout.</summary>
    public static Command CreateDataset()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "folder to write ROOT/labels.csv and ROOT/<subject>/E4 files into", Required = true };
        var subjects = new Option<int>("--subjects") { Description = "number of simulated subjects (sites rotate)", DefaultValueFactory = _ => 9 };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
        var cmd = new Command("simulate-dataset", "Write simulated subjects (3 sites) in the generic labelled layout, for external checks of models");
        foreach (var o in new Option[] { output, subjects, seed }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            SimulatedDataset.Write(parse.GetValue(output)!.FullName, parse.GetValue(subjects), parse.GetValue(seed));
            Console.Out.WriteLine($"written {parse.GetValue(subjects)} simulated subjects to {parse.GetValue(output)!.FullName}");
        }));
        return cmd;
    }

    private static string F(double? v, string fmt = "0.000") => v is double d ? d.ToString(fmt, CultureInfo.InvariantCulture) : "";

    public static void Print(TrialReport report, TextWriter o)
    {
        o.WriteLine($"reference policy: {report.ReferencePolicy}; differences are paired (arm - reference) with bootstrap 95 % CI and Cohen's dz.");
        o.WriteLine("Fear outcomes are latent fear (0-1, lower is better) over all hierarchy steps unless named otherwise; schedulers saw only reports and physiology.");
        foreach (var model in report.Options.Models)
        {
            o.WriteLine();
            o.WriteLine($"== generative model: {model} ==");
            o.WriteLine($"{"outcome",-30} {"arm",-26} {"mean",8} {"sd",8} {"diff",8} {"95% CI",20} {"dz",6}  flag");
            foreach (var s in report.Summaries.Where(x => x.Model == model))
            {
                string ci = s.CiLow is double lo && s.CiHigh is double hi ? $"[{F(lo)}, {F(hi)}]" : "";
                o.WriteLine($"{s.Outcome,-30} {s.Policy,-26} {s.Mean,8:0.000} {s.Sd,8:0.000} {F(s.DifferenceFromReference),8} {ci,20} {F(s.EffectSizeDz, "0.00"),6}  {s.Flag}");
            }
            var dm = report.DoseMatched.Where(x => x.Model == model && OpenVret.Simulation.OutcomeAssessment.FearOutcomes.Contains(x.Outcome)).ToList();
            if (dm.Count > 0)
            {
                o.WriteLine($"-- dose-matched: {dm[0].Policy} minus {dm[0].Against} (same minutes at the same steps) --");
                foreach (var c in dm) o.WriteLine($"{c.Outcome,-30} {F(c.Difference),8} [{F(c.CiLow)}, {F(c.CiHigh)}] dz {F(c.Dz, "0.00")}  {c.Flag}");
            }
            o.WriteLine("-- ranking of policies (best first) --");
            foreach (var r in report.Rankings.Where(x => x.Model == model)) o.WriteLine($"{r.Outcome,-30} {string.Join(" < ", r.BestToWorst)}");
        }
        o.WriteLine();
        o.WriteLine($"== does each conclusion survive across generative models? (95 % CI vs reference, and |difference| >= {TrialRunner.SmallestEffect}) ==");
        foreach (var r in report.Robustness) o.WriteLine($"{r.Outcome,-30} {r.Policy,-26} {r.Conclusion}");
        o.WriteLine();
        o.WriteLine($"== calibration of the reference arm ({report.ReferencePolicy}) against published VRET results ==");
        foreach (var c in report.Calibration)
            o.WriteLine($"{c.Model,-13} {c.Quantity,-62} target {F(c.Target, "0.00")} [{F(c.Low, "0.00")}, {F(c.High, "0.00")}]  simulated {F(c.Simulated, "0.00"),6}  {(c.Within is bool w ? (w ? "within" : "OUTSIDE") : "n/a")}");
    }
}
