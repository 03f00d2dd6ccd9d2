using System.CommandLine;
using OpenVret.Learning;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;
using OpenVret.Learning.Transfer;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret evaluate --model DIR --dataset generic|wesad|wise --data DIR --out DIR [--baseline-seconds S] [--adapt-seconds N]</c>:
/// external validation of a saved model, scored by the live estimator exactly as a session would use it.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var modelOpt = new Option<DirectoryInfo>("--model") { Description = "folder with arousal-model.json", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "generic | wesad | wise", DefaultValueFactory = _ => "generic" };
        var data = new Option<DirectoryInfo>("--data") { Description = "dataset folder", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "report folder", Required = true };
        var baselineSeconds = new Option<double?>("--baseline-seconds") { Description = "seconds of each subject's first baseline that personalise the model (default: the model's, which is the live default)" };
        var adaptSeconds = new Option<double>("--adapt-seconds") { Description = "the first N s of the first run of each label per subject are given as labelled adaptation data and not scored (0 = baseline only)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("evaluate", "Score a trained model on a dataset it never saw: the same metrics and calibration, the live estimator, optional per-patient adaptation");
        foreach (var o in new Option[] { modelOpt, dataset, data, output, baselineSeconds, adaptSeconds }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var model = ArousalModel.Load(parse.GetValue(modelOpt)!.FullName);
            double baseline = parse.GetValue(baselineSeconds) ?? model.CalibrationSeconds;
            double adapt = parse.GetValue(adaptSeconds);
            if (!(baseline >= 60 && baseline <= 3600)) throw new OpenVret.Signals.SignalInputException("baseline-seconds", baseline.ToString(System.Globalization.CultureInfo.InvariantCulture), "between 60 (one feature window) and 3600");
            if (!(adapt >= 0 && adapt <= 3600)) throw new OpenVret.Signals.SignalInputException("adapt-seconds", adapt.ToString(System.Globalization.CultureInfo.InvariantCulture), "between 0 and 3600");
            var ds = DatasetLayouts.Load(parse.GetValue(dataset)!, parse.GetValue(data)!.FullName);
            foreach (var p in ds.Problems) Console.Error.WriteLine($"note: {p}");
            var lab = Windows(ds, parse.GetValue(dataset)!);
            var r = CrossLab.Evaluate(model, lab, baseline, adapt);
            foreach (var n in r.NotEvaluable) Console.Error.WriteLine($"note: {n}");
            var m = r.Pooled;
            var subgroups = ModelReport.Subgroups(r.PerSubject, r.Predictions);
            var dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            ModelReport.WriteMetrics(Path.Combine(dir, "metrics.json"), "binary", ds.Name, $"external validation of {model.Name}", m, r.PerSubject, null, subgroups,
                new { baseline_seconds = baseline, adapt_seconds = adapt, adaptation_windows = r.AdaptationWindows, low_confidence_windows = r.LowConfidenceWindows, out_of_range_subjects = r.OutOfRangeSubjects, not_evaluable = r.NotEvaluable });
            ModelReport.Reliability(r.Predictions, Path.Combine(dir, "reliability.png"), $"Reliability on {ds.Name}, ECE {m.Ece:0.000}");
            Console.Out.WriteLine($"{r.PerSubject.Count} subjects, {m.N} windows (baseline {baseline:0} s, adaptation {adapt:0} s): macro-F1 {m.MacroF1:0.000}, balanced accuracy {m.BalancedAccuracy:0.000}, accuracy {m.Accuracy:0.000}, AUROC {m.Auroc:0.000}, ECE {m.Ece:0.000}, Brier {m.Brier:0.000}; per-subject median AUROC {r.MedianSubjectAuroc:0.000}");
            Console.Out.WriteLine($"written {Path.Combine(dir, "metrics.json")}, reliability.png");
        }));
        return cmd;
    }

    /// <summary>Windows of every subject with the live extractor (60 s windows, 10 s hop), in parallel over subjects.</summary>
    public static LabData Windows(Dataset ds, string key)
    {
        var windows = new System.Collections.Concurrent.ConcurrentDictionary<string, List<LabelledWindow>>();
        Parallel.ForEach(ds.Subjects, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, s => windows[s.Id] = WindowTable.Build(s));
        return new LabData(key, ds, windows.ToDictionary(kv => kv.Key, kv => kv.Value));
    }
}
