using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenVret.Learning.Evaluation;
using OpenVret.Learning.Outcome;
using OpenVret.Simulation;
using ScottPlot;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret outcome simulate|train|evaluate</c>: session-level outcome prediction with a clinical baseline,
/// leave-one-site-out and repeated nested cross-validation, and an honest statement of added value.
/// </summary>
public static class OutcomeCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static Command Create()
    {
        var cmd = new Command("outcome", "Treatment-outcome prediction: simulate cohorts, train and validate across sites, evaluate externally");
        cmd.Subcommands.Add(Simulate());
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(Evaluate());
        return cmd;
    }

    private static Command Simulate()
    {
        var sites = new Option<int>("--sites") { DefaultValueFactory = _ => 4, Description = "number of sites" };
        var perSite = new Option<int>("--patients-per-site") { DefaultValueFactory = _ => 80 };
        var sessions = new Option<int>("--sessions") { DefaultValueFactory = _ => 5 };
        var signal = new Option<string>("--signal") { DefaultValueFactory = _ => "natural", Description = "natural (session data follow each patient's learning) | none (session data swapped between patients of a site)" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo>("--out") { Required = true, Description = "CSV file in the outcome schema" };
        var cmd = new Command("simulate", "Simulate a multi-site cohort in the outcome schema (docs/outcome.md)");
        foreach (var o in new Option[] { sites, perSite, sessions, signal, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var kind = parse.GetValue(signal) switch
            {
                "natural" => CohortSignal.Natural, "none" => CohortSignal.None,
                var s => throw new OutcomeDataException("--signal", 0, s!, "natural or none"),
            };
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var records = OutcomeCohort.Simulate(new CohortOptions
            {
                Sites = parse.GetValue(sites), PatientsPerSite = parse.GetValue(perSite), Sessions = parse.GetValue(sessions), Signal = kind, Seed = parse.GetValue(seed),
            });
            using (var w = new StreamWriter(parse.GetValue(output)!.FullName)) OutcomeSchema.Write(w, records);
            Console.Out.WriteLine($"{records.Count} patients, {records.Select(r => r.Site).Distinct().Count()} sites, responders {records.Count(r => r.Outcomes["responder"] == 1)}, in {sw.Elapsed.TotalSeconds:0.0} s -> {parse.GetValue(output)!.FullName}");
        }));
        return cmd;
    }

    private static (Option<FileInfo> Data, Option<string> Site, Option<string> Outcome, Option<int> Sessions, Option<int> Repeats, Option<int> Seed, Option<DirectoryInfo> Out) Common()
    {
        return (new Option<FileInfo>("--data") { Required = true, Description = "CSV in the outcome schema (docs/outcome.md)" },
            new Option<string>("--site-column") { DefaultValueFactory = _ => "site" },
            new Option<string>("--outcome") { DefaultValueFactory = _ => "responder", Description = "responder | remitter" },
            new Option<int>("--sessions") { DefaultValueFactory = _ => 3, Description = "early prediction: use the first N sessions" },
            new Option<int>("--repeats") { DefaultValueFactory = _ => 5, Description = "repeats of the nested 5-fold cross-validation" },
            new Option<int>("--seed") { DefaultValueFactory = _ => 1 },
            new Option<DirectoryInfo>("--out") { Required = true, Description = "report folder" });
    }

    private static Command Train()
    {
        var (data, site, outcome, sessions, repeats, seed, output) = Common();
        var cmd = new Command("train", "Clinical baseline vs multimodal models: leave-one-site-out and repeated nested CV, bootstrap CI of the difference, report folder with plots and a model card; final models trained on all data");
        foreach (var o in new Option[] { data, site, outcome, sessions, repeats, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var records = OutcomeSchema.Read(parse.GetValue(data)!.FullName, parse.GetValue(site)!);
            var o = new OutcomeOptions { Outcome = parse.GetValue(outcome)!, Sessions = parse.GetValue(sessions), Repeats = parse.GetValue(repeats), Seed = parse.GetValue(seed) };
            var folder = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(folder);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var (usable, missing) = OutcomeValidation.Labelled(records, o.Outcome);
            if (missing > 0) Console.Error.WriteLine($"note: {missing} patients without '{o.Outcome}' are left out");
            var results = new List<ValidationResult>();
            int sites = usable.Select(r => r.Site).Distinct().Count();
            if (sites >= 3) results.Add(OutcomeValidation.LeaveOneSiteOut(usable, o));
            else Console.Error.WriteLine($"note: {sites} site(s): leave-one-site-out needs 3 or more; only cross-validation is reported");
            results.Add(OutcomeValidation.RepeatedNestedCv(usable, o));
            // Final models on all data, calibrated by site (or by patient folds with one site).
            var finals = OutcomeValidation.Models(o.Sessions).Select(m =>
            {
                var features = m.Features(usable);
                return (m.Name, OutcomeValidation.Fit(usable, features, m.Kind, o.Outcome, r => r.Site, Math.Max(2, Math.Min(sites, 5)), o.Seed));
            }).ToList();
            OutcomeModelStore.Save(Path.Combine(folder, "models"), finals, o.Outcome, o.Sessions);
            var command = $"openvret outcome train --data {parse.GetValue(data)!.Name} --site-column {parse.GetValue(site)} --outcome {o.Outcome} --sessions {o.Sessions} --repeats {o.Repeats} --seed {o.Seed} --out {parse.GetValue(output)!.Name}";
            Report(folder, usable, results, o, command, finals.Select(f => f.Item2).ToList());
            Print(results);
            Console.Out.WriteLine($"report: {folder} ({sw.Elapsed.TotalSeconds:0} s)");
        }));
        return cmd;
    }

    private static Command Evaluate()
    {
        var (data, site, _, _, _, seed, output) = Common();
        var model = new Option<DirectoryInfo>("--model") { Required = true, Description = "report folder of openvret outcome train (its models/ subfolder)" };
        var cmd = new Command("evaluate", "External validation: apply trained outcome models unchanged to another dataset");
        foreach (var o in new Option[] { data, site, model, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var records = OutcomeSchema.Read(parse.GetValue(data)!.FullName, parse.GetValue(site)!);
            var dir = parse.GetValue(model)!.FullName;
            var models = OutcomeModelStore.Load(Directory.Exists(Path.Combine(dir, "models")) ? Path.Combine(dir, "models") : dir);
            var o = new OutcomeOptions { Outcome = models[0].Info.Outcome, Sessions = models[0].Info.Sessions, Seed = parse.GetValue(seed) };
            var result = OutcomeModelStore.Evaluate(models, records, o);
            var folder = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(folder);
            var (usable, _) = OutcomeValidation.Labelled(records, o.Outcome);
            Report(folder, usable, [result], o, $"openvret outcome evaluate --data {parse.GetValue(data)!.Name} --model {parse.GetValue(model)!.Name} --out {parse.GetValue(output)!.Name}", null);
            Print([result]);
        }));
        return cmd;
    }

    private static void Print(IReadOnlyList<ValidationResult> results)
    {
        foreach (var r in results)
        {
            Console.Out.WriteLine($"== {r.Scheme}");
            Console.Out.WriteLine($"{"model",-38} {"AUROC",6} {"balAcc",6} {"Brier",6} {"ECE",6}");
            foreach (var m in r.Models)
                Console.Out.WriteLine($"{m.Name,-38} {m.Metrics.Auroc,6:0.000} {m.Metrics.BalancedAccuracy,6:0.000} {m.Metrics.Brier,6:0.000} {m.Metrics.Ece,6:0.000}");
            foreach (var c in r.Comparisons.Where(c => c.Metric == "AUROC"))
                Console.Out.WriteLine($"{c.Model}: AUROC {c.Difference:+0.000;-0.000} [{c.Low:+0.000;-0.000}, {c.High:+0.000;-0.000}]: {c.Verdict}");
        }
    }

    /// <summary>metrics.json, report.md (with the verdicts in words), model-card.md, predictions.csv, reliability and decision-curve plots.</summary>
    private static void Report(string folder, IReadOnlyList<OutcomeRecord> data, IReadOnlyList<ValidationResult> results, OutcomeOptions o, string command,
        IReadOnlyList<OutcomeValidation.Fitted>? finals)
    {
        File.WriteAllText(Path.Combine(folder, "metrics.json"), JsonSerializer.Serialize(results.Select(r => new
        {
            scheme = r.Scheme,
            models = r.Models.Select(m => new
            {
                m.Name, features = m.Features.Columns, auroc = m.Metrics.Auroc, auroc_sd_over_repeats = m.AurocSd, balanced_accuracy = m.Metrics.BalancedAccuracy,
                brier = m.Metrics.Brier, ece = m.Metrics.Ece, n = m.Metrics.N, decision_curve = m.DecisionCurve, permutation_importance = m.Importance,
            }),
            comparisons = r.Comparisons, folds = r.Folds, subgroups = r.Subgroups,
        }), Json));
        int n = 0;
        foreach (var r in results)
        {
            n++;
            foreach (var (m, i) in r.Models.Select((m, i) => (m, i)))
                ModelReport.Reliability(m.Predictions, Path.Combine(folder, $"reliability-{n}-{i}.png"), $"{r.Scheme}: {m.Name}", o.Outcome);
            DecisionCurvePlot(r, Path.Combine(folder, $"decision-curve-{n}.png"));
        }
        // Per-patient predictions of the first scheme, with the main multimodal model's largest contributions.
        var main = results[0];
        var sb = new StringBuilder("patient,site,truth," + string.Join(',', main.Models.Select((_, i) => $"p_model{i}")) + ",top_contributions\n");
        var byPatient = data.ToDictionary(r => r.Patient, StringComparer.Ordinal);
        var multi = finals is { Count: > 1 } ? finals[1] : null;
        foreach (var p in main.Models[0].Predictions)
        {
            var rec = byPatient[p.Subject];
            string contributions = multi is null ? "" : string.Join(" ", Occlusion.Explain(multi.Features.Vector(rec), multi.Features.Columns, multi.Means, multi.Probability)
                .Select(c => $"{c.Feature}={c.Value.ToString("0.##", CultureInfo.InvariantCulture)}:{c.Delta.ToString("+0.000;-0.000", CultureInfo.InvariantCulture)}"));
            var probs = main.Models.Select(m => m.Predictions.First(x => x.Subject == p.Subject).Probability.ToString("0.0000", CultureInfo.InvariantCulture));
            sb.Append($"{p.Subject},{rec.Site},{(p.Truth ? 1 : 0)},{string.Join(',', probs)},\"{contributions}\"\n");
        }
        File.WriteAllText(Path.Combine(folder, "predictions.csv"), sb.ToString());

        var md = new StringBuilder();
        md.AppendLine($"# Outcome prediction: {o.Outcome} (early prediction from the first {o.Sessions} sessions)");
        md.AppendLine();
        int pos = data.Count(r => r.Outcomes[o.Outcome] == 1);
        md.AppendLine($"{data.Count} patients from {data.Select(r => r.Site).Distinct().Count()} sites ({string.Join(", ", data.GroupBy(r => r.Site).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"))}); {pos} with {o.Outcome} = 1 ({100.0 * pos / data.Count:0} %).");
        md.AppendLine();
        foreach (var r in results)
        {
            md.AppendLine($"## {r.Scheme}");
            md.AppendLine();
            md.AppendLine("| model | AUROC | balanced accuracy | Brier | ECE |");
            md.AppendLine("|---|---|---|---|---|");
            foreach (var m in r.Models)
                md.AppendLine($"| {m.Name} | {m.Metrics.Auroc:0.000}{(m.AurocSd is double sd ? $" (SD over repeats {sd:0.000})" : "")} | {m.Metrics.BalancedAccuracy:0.000} | {m.Metrics.Brier:0.000} | {m.Metrics.Ece:0.000} |");
            md.AppendLine();
            md.AppendLine("Difference from the clinical baseline (paired bootstrap over patients, 95 % interval):");
            md.AppendLine();
            foreach (var c in r.Comparisons)
                md.AppendLine($"- {c.Model}, {c.Metric}: {c.Difference:+0.000;-0.000} [{c.Low:+0.000;-0.000}, {c.High:+0.000;-0.000}]: **{c.Verdict}**");
            md.AppendLine();
            if (r.Folds.Count > 0)
            {
                md.AppendLine("Outer folds (training never included a test patient" + (r.Scheme.StartsWith("leave-one-site", StringComparison.Ordinal) ? " or the test site" : "") + "):");
                md.AppendLine();
                foreach (var f in r.Folds) md.AppendLine($"- test {f.Test}: trained on {f.TrainingPatients} patients from {string.Join(", ", f.TrainingSites)}; {f.TestPatients} tested; disjoint: {f.Disjoint}");
                md.AppendLine();
            }
            md.AppendLine($"Decision curve: decision-curve-{results.ToList().IndexOf(r) + 1}.png; reliability diagrams: reliability-{results.ToList().IndexOf(r) + 1}-*.png.");
            md.AppendLine();
        }
        File.WriteAllText(Path.Combine(folder, "report.md"), md.ToString());

        var card = new StringBuilder();
        card.AppendLine($"# Model card: outcome prediction ({o.Outcome})");
        card.AppendLine();
        card.AppendLine("## What it is");
        card.AppendLine($"- Task: predict {o.Outcome} after VR exposure therapy from baseline data and the first {o.Sessions} sessions.");
        card.AppendLine("- Models: a clinical baseline (L2 logistic regression on baseline severity and demographics), gradient-boosted trees (LightGBM) and L2 logistic regression adding per-session physiology, SUDS, expectancy and exposure statistics with between-session trends. Platt calibration and a balanced-accuracy threshold fitted on inner folds by site. The same training, calibration and explanation code as the arousal classifier.");
        card.AppendLine("- Explanations: permutation importance on held-out sites; per-patient contributions in predictions.csv (change in probability when a feature is set to its training mean).");
        card.AppendLine();
        card.AppendLine("## Intended use and out-of-scope uses");
        card.AppendLine("- Intended: research on whether session data add anything to the clinical baseline at a given clinic or network, and, where they demonstrably do, flagging patients for closer review.");
        card.AppendLine("- Out of scope: withholding or rationing treatment; use at a site whose data differ from the training sites without external validation (`openvret outcome evaluate`); use when the report says \"no added value\".");
        card.AppendLine();
        card.AppendLine("## Validation");
        foreach (var r in results)
        {
            card.AppendLine($"- {r.Scheme}: " + string.Join("; ", r.Models.Select(m => $"{m.Name} AUROC {m.Metrics.Auroc:0.000}, Brier {m.Metrics.Brier:0.000}, ECE {m.Metrics.Ece:0.000}")));
            foreach (var c in r.Comparisons.Where(c => c.Metric == "AUROC")) card.AppendLine($"  - {c.Model}: {c.Verdict} (ΔAUROC {c.Difference:+0.000;-0.000}, 95 % CI [{c.Low:+0.000;-0.000}, {c.High:+0.000;-0.000}])");
        }
        card.AppendLine();
        var gbt = results[0].Models[1];
        if (gbt.Importance.Count > 0) ModelReport.ImportanceTable(card, gbt.Importance, results[0].Scheme);
        card.AppendLine();
        ModelReport.SubgroupTable(card, results[0].Subgroups, "patients");
        card.AppendLine();
        ModelReport.Closing(card, folder, command,
            "Outcome prediction for VRET has been close to chance in the largest studies and has failed across sites; trust only the site-out and external figures, and their intervals.",
            "Patients without the outcome are left out (not imputed); dropouts are not modelled separately.",
            "Subgroups of few patients give fragile figures.");
    }

    private static void DecisionCurvePlot(ValidationResult r, string path)
    {
        var plt = new Plot();
        var t = r.Models[0].DecisionCurve.Select(d => d.Threshold).ToArray();
        foreach (var m in r.Models)
        {
            var line = plt.Add.Scatter(t, m.DecisionCurve.Select(d => d.NetBenefit).ToArray());
            line.LegendText = m.Name;
        }
        var all = plt.Add.Scatter(t, r.Models[0].DecisionCurve.Select(d => d.TreatAll).ToArray());
        all.LegendText = "flag everyone";
        all.LinePattern = LinePattern.Dashed;
        var none = plt.Add.HorizontalLine(0);
        none.LegendText = "flag no one";
        plt.XLabel("threshold probability");
        plt.YLabel("net benefit");
        plt.Title($"Decision curve ({r.Scheme})", size: 12);
        double top = Math.Max(0.05, r.Models.SelectMany(m => m.DecisionCurve).Max(d => Math.Max(d.NetBenefit, d.TreatAll)) * 1.1);
        plt.Axes.SetLimits(0, 0.65, -0.05, top);
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(path, 800, 500);
    }
}
