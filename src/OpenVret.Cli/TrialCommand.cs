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
        var json = new Option<FileInfo?>("--json") { Description = "write every outcome per policy and per patient to this JSON file" };
        var plots = new Option<DirectoryInfo?>("--plots") { Description = "write PNG figures (fear, safety, sessions to criterion) into this folder" };
        var cmd = new Command("trial", "Run an in-silico trial: every virtual patient under every policy (paired), then a follow-up in a novel context");
        foreach (var o in new Option[] { policies, patients, sessions, seed, json, plots }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var options = new TrialOptions
            {
                Policies = parse.GetValue(policies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Patients = parse.GetValue(patients),
                Sessions = parse.GetValue(sessions),
                Seed = parse.GetValue(seed),
            };
            var sw = Stopwatch.StartNew();
            var report = TrialRunner.Run(options);
            Print(report, Console.Out);
            Console.Out.WriteLine($"{options.Patients} patients x {options.Policies.Count} policies x {options.Sessions} sessions in {sw.Elapsed.TotalSeconds:0.0} s. In-silico results are hypotheses about the model, not clinical evidence.");
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

    public static void Print(TrialReport report, TextWriter o)
    {
        o.WriteLine($"reference policy: {report.ReferencePolicy}; differences are paired (policy - reference) with bootstrap 95 % CI and Cohen's dz");
        o.WriteLine($"{"outcome",-22} {"policy",-12} {"mean",8} {"sd",8} {"diff",8} {"95% CI",20} {"dz",6}");
        foreach (var s in report.Summaries)
        {
            string diff = s.DifferenceFromReference is double d ? d.ToString("0.000", CultureInfo.InvariantCulture) : "";
            string ci = s.CiLow is double lo && s.CiHigh is double hi ? $"[{lo.ToString("0.000", CultureInfo.InvariantCulture)}, {hi.ToString("0.000", CultureInfo.InvariantCulture)}]" : "";
            string dz = s.EffectSizeDz is double z ? z.ToString("0.00", CultureInfo.InvariantCulture) : "";
            o.WriteLine($"{s.Outcome,-22} {s.Policy,-12} {s.Mean,8:0.000} {s.Sd,8:0.000} {diff,8} {ci,20} {dz,6}");
        }
    }
}
