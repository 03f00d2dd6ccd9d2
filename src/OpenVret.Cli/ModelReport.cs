using System.Text;
using System.Text.Json;
using OpenVret.Learning;
using OpenVret.Learning.Evaluation;
using ScottPlot;

namespace OpenVret.Cli;

/// <summary>Model card, subgroup table, reliability diagram and metrics.json for a trained or evaluated model.</summary>
public static class ModelReport
{
    public static List<Subgroup> Subgroups(IReadOnlyList<SubjectResult> perSubject, IReadOnlyList<Prediction> predictions) =>
        OpenVret.Learning.Evaluation.Subgroups.Of(predictions, perSubject.ToDictionary(s => s.Subject, s => s.Attributes));

    public static void Reliability(IReadOnlyList<Prediction> predictions, string path, string title, string what = "stress")
    {
        var plt = new Plot();
        var xs = new List<double>(); var ys = new List<double>();
        for (int b = 0; b < 10; b++)
        {
            var inBin = predictions.Where(p => Math.Min(9, (int)(p.Probability * 10)) == b).ToList();
            if (inBin.Count == 0) continue;
            xs.Add(inBin.Average(p => p.Probability)); ys.Add(inBin.Average(p => p.Truth ? 1.0 : 0.0));
        }
        var ideal = plt.Add.Line(0, 0, 1, 1);
        ideal.LinePattern = LinePattern.Dashed;
        ideal.LegendText = "perfect calibration";
        var sc = plt.Add.Scatter(xs.ToArray(), ys.ToArray());
        sc.LegendText = "observed frequency per bin";
        plt.XLabel($"predicted {what} probability");
        plt.YLabel($"observed fraction of {what} cases");
        plt.Title(title, size: 13);
        plt.Axes.SetLimits(0, 1, 0, 1);
        plt.ShowLegend(Alignment.UpperLeft);
        plt.SavePng(path, 600, 600);
    }

    public static void WriteMetrics(string path, string task, string dataset, string configuration, BinaryMetrics m, IReadOnlyList<SubjectResult> perSubject,
        (double, double)? ci, IReadOnlyList<Subgroup> subgroups, object? extra = null)
    {
        var doc = new Dictionary<string, object?>
        {
            ["task"] = task, ["positive"] = "stress", ["dataset"] = dataset, ["configuration"] = configuration,
            ["macro_f1"] = m.MacroF1, ["balanced_accuracy"] = m.BalancedAccuracy, ["accuracy"] = m.Accuracy, ["auroc"] = m.Auroc,
            ["ece"] = m.Ece, ["brier"] = m.Brier, ["n_windows"] = m.N, ["n_subjects"] = perSubject.Count,
            ["macro_f1_ci95"] = ci is { } c ? new[] { c.Item1, c.Item2 } : null,
            ["confusion"] = new[] { new[] { m.Confusion[0, 0], m.Confusion[0, 1] }, new[] { m.Confusion[1, 0], m.Confusion[1, 1] } },
            ["per_subject"] = perSubject.Select(s => new { subject = s.Subject, macro_f1 = s.Metrics.MacroF1, balanced_accuracy = s.Metrics.BalancedAccuracy, auroc = Finite(s.Metrics.Auroc), ece = s.Metrics.Ece, n = s.Metrics.N, attributes = s.Attributes }),
            ["median_subject_auroc"] = Finite(MedianOf(perSubject.Select(s => s.Metrics.Auroc))),
            ["median_subject_macro_f1"] = Finite(MedianOf(perSubject.Select(s => s.Metrics.MacroF1))),
            ["subgroups"] = subgroups,
            ["extra"] = extra,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>JSON has no NaN: a figure that does not exist (a subject with one class has no AUROC) is null.</summary>
    public static double? Finite(double v) => double.IsFinite(v) ? v : null;

    public static double MedianOf(IEnumerable<double> values)
    {
        var a = values.Where(double.IsFinite).OrderBy(x => x).ToArray();
        return a.Length == 0 ? double.NaN : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    /// <summary>The subgroup table of every model card (arousal and outcome).</summary>
    public static void SubgroupTable(StringBuilder md, IReadOnlyList<Subgroup> subgroups, string cases)
    {
        md.AppendLine("## Subgroups (flagged when balanced accuracy is more than 10 points below the overall)");
        md.AppendLine($"| attribute | value | subjects | {cases} | macro-F1 | balanced accuracy | AUROC | flagged |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var g in subgroups) md.AppendLine($"| {g.Attribute} | {g.Value} | {g.Subjects} | {g.Cases} | {g.MacroF1:0.000} | {g.BalancedAccuracy:0.000} | {g.Auroc:0.000} | {(g.Flagged ? "YES" : "")} |");
    }

    /// <summary>The end of every model card: known limitations and the command that reproduces it; writes model-card.md.</summary>
    public static void Closing(StringBuilder md, string folder, string command, params string[] limitations)
    {
        md.AppendLine("## Known limitations");
        foreach (var l in limitations) md.AppendLine("- " + l);
        md.AppendLine();
        md.AppendLine($"## Reproduce\n    {command}");
        File.WriteAllText(Path.Combine(folder, "model-card.md"), md.ToString());
    }

    /// <summary>The permutation-importance table of every model card.</summary>
    public static void ImportanceTable(StringBuilder md, IReadOnlyDictionary<string, double> importance, string validation, int top = 10)
    {
        md.AppendLine($"## What the model relies on (permutation importance: drop in {validation} AUROC when a feature is shuffled)");
        md.AppendLine("| feature | AUROC drop |");
        md.AppendLine("|---|---|");
        foreach (var (f, d) in importance.Take(top)) md.AppendLine($"| {f} | {d:0.000} |");
    }

    public static void ModelCard(string folder, ArousalModel model, LosoResult main, IReadOnlyList<(string Name, LosoResult Result)> configurations, IReadOnlyList<Subgroup> subgroups, string command)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Model card: {model.Name}");
        md.AppendLine();
        md.AppendLine("## What it is");
        md.AppendLine($"- Task: {model.Task}. Output: calibrated stress probability, a graded level 0-3 (cut-points {string.Join(", ", model.LevelCutPoints)}), an uncertainty, and the top feature contributions.");
        md.AppendLine($"- Model: logistic regression (ML.NET L-BFGS, L2 = 1) on mean-imputed, standardised features; Platt calibration and decision threshold ({model.Threshold:0.00}) fitted on inner cross-validation by subject.");
        md.AppendLine($"- Personalisation: every feature minus its median over the session's baseline step (first {model.CalibrationSeconds:0} s of rest).");
        md.AppendLine($"- Features ({model.Features.Count}, 60 s windows from OpenVret.Signals' streaming extractor): {string.Join(", ", model.Features)}.");
        md.AppendLine();
        md.AppendLine("## Data, provenance and licence");
        md.AppendLine($"- Trained on: {model.TrainedOn}. WESAD: P. Schmidt, A. Reiss, R. Duerichen, C. Marberger, K. Van Laerhoven, Introducing WESAD, a multimodal dataset for wearable stress and affect detection, ICMI 2018, doi:10.1145/3242969.3242985. Empatica E4 wrist signals only; labels aligned to the E4 timeline with the offsets in the data folder.");
        md.AppendLine($"- Licence of this model: {model.Licence}. WESAD is for scientific, non-commercial use with citation.");
        md.AppendLine();
        md.AppendLine("## Intended use and out-of-scope uses");
        md.AppendLine("- Intended: a live, explained indication of physiological stress arousal for a therapist during VR exposure, personalised at the session's baseline step, alongside SUDS and the therapist's judgement. It feeds the exposure engine's safety policy, which uses calibrated probabilities held for seconds.");
        md.AppendLine("- Out of scope: diagnosis; decisions without a therapist; populations, devices or protocols unlike WESAD's (healthy young adults, E4 wristband, TSST stressor) without external validation; amusement vs stress discrimination (three-class is not trained).");
        md.AppendLine();
        md.AppendLine("## Evaluation (leave-one-subject-out on WESAD)");
        md.AppendLine("| configuration | macro-F1 | balanced accuracy | AUROC | ECE | Brier |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var (name, r) in configurations)
            md.AppendLine($"| {name} | {r.Pooled.MacroF1:0.000} | {r.Pooled.BalancedAccuracy:0.000} | {r.Pooled.Auroc:0.000} | {r.Pooled.Ece:0.000} | {r.Pooled.Brier:0.000} |");
        md.AppendLine();
        md.AppendLine($"Deployed configuration: {configurations[0].Name}; macro-F1 95 % CI over subjects [{main.MacroF1Ci.Low:0.000}, {main.MacroF1Ci.High:0.000}]; worst subject {main.PerSubject.MinBy(s => s.Metrics.MacroF1)!.Subject} ({main.PerSubject.Min(s => s.Metrics.MacroF1):0.000}). Reliability diagram: reliability.png.");
        md.AppendLine();
        ImportanceTable(md, main.PermutationImportance, "LOSO");
        md.AppendLine();
        SubgroupTable(md, subgroups, "windows");
        md.AppendLine();
        Closing(md, folder, command,
            "15 subjects from one lab and one protocol; subgroups have 1-12 subjects, so subgroup figures are fragile.",
            "TEMP partly encodes time (baseline always comes first): without TEMP macro-F1 drops (see the table).",
            "Wrist BVP is noisy under motion; windows with poor pulse quality or motion are excluded from training but scored live (with higher uncertainty when features are missing).",
            "A wrist model trained on WESAD alone has been seen to fall to AUROC about 0.6 on another lab's data (data README). On 9 simulated patients from three sites (`openvret simulate-dataset`), this model kept AUROC 0.96, but ECE rose to 0.11 and two subjects of one site fell to macro-F1 about 0.5. Validate externally (`openvret evaluate`) before clinical use.");
        File.WriteAllText(Path.Combine(folder, "model-card.json"), JsonSerializer.Serialize(new
        {
            model.Name, model.Task, model.Features, model.Threshold, model.LevelCutPoints, model.TrainedOn, model.Licence,
            evaluation = configurations.Select(c => new { c.Name, c.Result.Pooled.MacroF1, c.Result.Pooled.BalancedAccuracy, c.Result.Pooled.Auroc, c.Result.Pooled.Ece, c.Result.Pooled.Brier }),
            subgroups, permutation_importance = main.PermutationImportance, command,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }
}
