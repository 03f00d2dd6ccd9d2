using System.CommandLine;
using OpenVret.Learning;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;

namespace OpenVret.Cli;

/// <summary><c>openvret evaluate --model DIR --dataset generic|wesad --data DIR --out DIR</c>: external validation of a saved model.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var modelOpt = new Option<DirectoryInfo>("--model") { Description = "folder with arousal-model.json", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "generic | wesad", DefaultValueFactory = _ => "generic" };
        var data = new Option<DirectoryInfo>("--data") { Description = "dataset folder", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "report folder", Required = true };
        var cmd = new Command("evaluate", "Score a trained model on a dataset it never saw: the same metrics and calibration");
        foreach (var o in new Option[] { modelOpt, dataset, data, output }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var model = ArousalModel.Load(parse.GetValue(modelOpt)!.FullName);
            var ds = parse.GetValue(dataset) == "wesad" ? WesadLoader.Load(parse.GetValue(data)!.FullName) : GenericLoader.Load(parse.GetValue(data)!.FullName);
            foreach (var p in ds.Problems) Console.Error.WriteLine($"note: {p}");
            var (predictions, perSubject, notEvaluable) = Evaluate(model, ds);
            foreach (var n in notEvaluable) Console.Error.WriteLine($"note: {n}");
            if (predictions.Count == 0) throw new OpenVret.Signals.SignalInputException("data", parse.GetValue(data)!.FullName, "no evaluable subject (each needs a baseline segment and stress/non-stress windows)");
            var m = BinaryMetrics.Of(predictions);
            var subgroups = ModelReport.Subgroups(perSubject, predictions);
            var dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            ModelReport.WriteMetrics(Path.Combine(dir, "metrics.json"), "binary", ds.Name, $"external validation of {model.Name}", m, perSubject, null, subgroups);
            ModelReport.Reliability(predictions, Path.Combine(dir, "reliability.png"), $"Reliability on {ds.Name}, ECE {m.Ece:0.000}");
            Console.Out.WriteLine($"{perSubject.Count} subjects, {m.N} windows: macro-F1 {m.MacroF1:0.000}, balanced accuracy {m.BalancedAccuracy:0.000}, accuracy {m.Accuracy:0.000}, AUROC {m.Auroc:0.000}, ECE {m.Ece:0.000}, Brier {m.Brier:0.000}");
            Console.Out.WriteLine($"written {Path.Combine(dir, "metrics.json")}, reliability.png");
        }));
        return cmd;
    }

    /// <summary>Each subject is calibrated on its own first minutes of baseline, as live, and scored on the rest.</summary>
    public static (List<Prediction>, List<SubjectResult>, List<string>) Evaluate(ArousalModel model, Dataset ds)
    {
        var predictions = new List<Prediction>(); var perSubject = new List<SubjectResult>(); var notEvaluable = new List<string>();
        foreach (var s in ds.Subjects)
        {
            var windows = WindowTable.Build(s);
            var calib = windows.Where(w => w.InCalibration).ToList();
            if (calib.Count < 3) { notEvaluable.Add($"{s.Id}: no baseline calibration period; not evaluable"); continue; }
            var estimator = new ArousalEstimator(model);
            estimator.Calibrate(calib.Select(ToDict));
            var preds = windows.Where(w => !w.InCalibration && w.Label is "baseline" or "stress" or "amusement")
                .Select(w => { var e = estimator.Estimate(ToDict(w)); return new Prediction(s.Id, w.Label == "stress", e.Probability, e.AboveThreshold); }).ToList();
            if (preds.Count == 0) { notEvaluable.Add($"{s.Id}: no labelled windows outside calibration; not evaluable"); continue; }
            predictions.AddRange(preds);
            perSubject.Add(new SubjectResult(s.Id, BinaryMetrics.Of(preds), s.Attributes));
        }
        return (predictions, perSubject, notEvaluable);
    }

    private static IReadOnlyDictionary<string, double> ToDict(LabelledWindow w) =>
        WindowTable.FeatureNames.Select((n, i) => (n, (double)w.Features[i])).ToDictionary(x => x.n, x => x.Item2);
}
