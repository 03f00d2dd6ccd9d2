using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OpenVret.Learning;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret train --dataset wesad|generic --data DIR --task binary --out DIR</c>: leave-one-subject-out
/// evaluation of the arousal classifier, with and without personalisation and TEMP features.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "wesad | wise | generic, or several separated by commas (e.g. wesad,wise) for the multi-lab model and its generalisation card", Required = true };
        var data = new Option<string>("--data") { Description = "dataset folder; with several datasets, one folder per dataset in the same order, separated by commas", Required = true };
        var task = new Option<string>("--task") { Description = "binary (stress vs baseline + amusement) | three-class (baseline / stress / amusement)", DefaultValueFactory = _ => "binary" };
        var model = new Option<string>("--model") { Description = "lightgbm | logistic", DefaultValueFactory = _ => "lightgbm" };
        var output = new Option<DirectoryInfo>("--out") { Description = "report folder (metrics.json)", Required = true };
        var window = new Option<double>("--window") { Description = "window length (s)", DefaultValueFactory = _ => 60 };
        var hop = new Option<double>("--hop") { Description = "hop between windows (s)", DefaultValueFactory = _ => 10 };
        var cmd = new Command("train", "Leave-one-subject-out training and evaluation of the arousal classifier");
        foreach (var o in new Option[] { dataset, data, task, model, output, window, hop }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var names = parse.GetValue(dataset)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var folders = parse.GetValue(data)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length != folders.Length)
                throw new OpenVret.Signals.SignalInputException("data", parse.GetValue(data)!, $"{names.Length} dataset(s) named in --dataset but {folders.Length} folder(s) given");
            if (names.Length > 1)
            {
                if (parse.GetValue(task) != "binary") throw new OpenVret.Signals.SignalInputException("task", parse.GetValue(task)!, "the multi-lab study is binary; run three-class per dataset");
                MultiLabTraining.Run(names, folders, parse.GetValue(output)!.FullName);
                return;
            }
            if (parse.GetValue(task) is not ("binary" or "three-class"))
                throw new OpenVret.Signals.SignalInputException("task", parse.GetValue(task)!, "binary or three-class");
            var kind = parse.GetValue(model) switch
            {
                "lightgbm" => ModelKind.LightGbm, "logistic" => ModelKind.Logistic,
                var m => throw new OpenVret.Signals.SignalInputException("model", m!, "lightgbm or logistic"),
            };
            var sw = Stopwatch.StartNew();
            var ds = DatasetLayouts.Load(names[0], Path.GetFullPath(folders[0]));
            foreach (var p in ds.Problems) Console.Error.WriteLine($"note: {p}");
            var windows = new Dictionary<string, List<LabelledWindow>>();
            foreach (var s in ds.Subjects) windows[s.Id] = WindowTable.Build(s, parse.GetValue(window), parse.GetValue(hop));
            Console.Out.WriteLine($"{ds.Subjects.Count} subjects, {windows.Values.Sum(w => w.Count)} windows ({parse.GetValue(window)} s, hop {parse.GetValue(hop)} s) in {sw.Elapsed.TotalSeconds:0} s");
            if (parse.GetValue(task) == "three-class")
            {
                var dir3 = parse.GetValue(output)!.FullName;
                Directory.CreateDirectory(dir3);
                var results = new List<object>();
                Console.Out.WriteLine($"{"configuration",-28} {"macroF1",8} {"balAcc",7} {"acc",6} {"worst subject",16}");
                foreach (var (name, personalize) in new[] { ("personalised", true), ("not personalised", false) })
                {
                    var (pooled, per) = MulticlassLoso.Run(ds.Subjects, windows, kind, personalize);
                    var worst = per.MinBy(p => p.Metrics.MacroF1);
                    Console.Out.WriteLine($"{name,-28} {pooled.MacroF1,8:0.000} {pooled.BalancedAccuracy,7:0.000} {pooled.Accuracy,6:0.000} {$"{worst.Subject} {worst.Metrics.MacroF1:0.000}",16}");
                    results.Add(new
                    {
                        configuration = name, macro_f1 = pooled.MacroF1, balanced_accuracy = pooled.BalancedAccuracy, accuracy = pooled.Accuracy, n_windows = pooled.N,
                        n_subjects = per.Count, classes = pooled.Classes,
                        confusion = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 3).Select(j => pooled.Confusion[i, j]).ToArray()).ToArray(),
                        per_subject = per.Select(p => new { subject = p.Subject, macro_f1 = p.Metrics.MacroF1, balanced_accuracy = p.Metrics.BalancedAccuracy, n = p.Metrics.N }),
                    });
                }
                var first = (dynamic)results[0];
                File.WriteAllText(Path.Combine(dir3, "metrics.json"), System.Text.Json.JsonSerializer.Serialize(new
                {
                    task = "three-class", model = kind.ToString(), dataset = ds.Name, macro_f1 = first.macro_f1, balanced_accuracy = first.balanced_accuracy, accuracy = first.accuracy,
                    n_windows = first.n_windows, n_subjects = first.n_subjects, per_subject = first.per_subject, configurations = results, seconds = sw.Elapsed.TotalSeconds,
                }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                Console.Out.WriteLine($"written {Path.Combine(dir3, "metrics.json")}; total {sw.Elapsed.TotalSeconds:0} s");
                return;
            }
            var runs = new List<(string Name, LosoResult Result)>();
            foreach (var (name, personalize, temp) in new[] { ("personalised, with TEMP", true, true), ("personalised, without TEMP", true, false), ("not personalised, with TEMP", false, true), ("not personalised, without TEMP", false, false) })
                runs.Add((name, Loso.Run(ds.Subjects, windows, new LosoOptions { Model = kind, Personalize = personalize, UseTemperature = temp })));
            // Users with fewer sensors: the same model family trained and tested with only some modalities.
            foreach (var (name, modalities) in new[] { ("personalised, EDA only", new[] { "EDA." }), ("personalised, pulse (PPG) only", new[] { "PPG." }), ("personalised, EDA + pulse", new[] { "EDA.", "PPG." }) })
                runs.Add((name, Loso.Run(ds.Subjects, windows, new LosoOptions { Model = kind, AvailableModalities = modalities })));
            Console.Out.WriteLine($"{"configuration",-32} {"macroF1",8} {"95% CI (subjects)",18} {"balAcc",7} {"acc",6} {"AUROC",6} {"ECE",6} {"Brier",6} {"worst subject F1",18}");
            foreach (var (name, r) in runs)
            {
                var worst = r.PerSubject.OrderBy(s => s.Metrics.MacroF1).First();
                Console.Out.WriteLine($"{name,-32} {r.Pooled.MacroF1,8:0.000} {$"[{r.MacroF1Ci.Low:0.000}, {r.MacroF1Ci.High:0.000}]",18} {r.Pooled.BalancedAccuracy,7:0.000} {r.Pooled.Accuracy,6:0.000} {r.Pooled.Auroc,6:0.000} {r.Pooled.Ece,6:0.000} {r.Pooled.Brier,6:0.000} {$"{worst.Subject} {worst.Metrics.MacroF1:0.000}",18}");
            }
            var dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            var main = runs[0].Result;
            var subgroups = ModelReport.Subgroups(main.PerSubject, main.Predictions);
            foreach (var g in subgroups.Where(g => g.Flagged)) Console.Out.WriteLine($"subgroup flagged: {g.Attribute} = {g.Value}: macro-F1 {g.MacroF1:0.000} vs overall {main.Pooled.MacroF1:0.000}");
            ModelReport.WriteMetrics(Path.Combine(dir, "metrics.json"), "binary", ds.Name, runs[0].Name, main.Pooled, main.PerSubject, main.MacroF1Ci, subgroups,
                new { model = kind.ToString(), threshold_mean = main.MeanThreshold, configurations = runs.Select(r => new { name = r.Name, macro_f1 = r.Result.Pooled.MacroF1, balanced_accuracy = r.Result.Pooled.BalancedAccuracy, auroc = r.Result.Pooled.Auroc, ece = r.Result.Pooled.Ece }), seconds = sw.Elapsed.TotalSeconds });
            ModelReport.Reliability(main.Predictions, Path.Combine(dir, "reliability.png"), $"Reliability, LOSO ({runs[0].Name}), ECE {main.Pooled.Ece:0.000}");
            if (kind == ModelKind.Logistic)
            {
                var model = ArousalModel.Train(ds.Subjects, windows, ds.Name);
                model.Save(Path.Combine(dir, "arousal-model.json"));
                ModelReport.ModelCard(dir, model, main, runs, subgroups,
                    $"openvret train --dataset {parse.GetValue(dataset)} --data <WESAD folder> --task binary --model logistic --out {parse.GetValue(output)!.Name}");
                Console.Out.WriteLine($"written {Path.Combine(dir, "arousal-model.json")}, model-card.md, model-card.json");
            }
            else Console.Out.WriteLine("note: only the logistic model is saved as a deployable model (LightGBM is evaluated, not saved)");
            Console.Out.WriteLine($"written {Path.Combine(dir, "metrics.json")}, reliability.png; total {sw.Elapsed.TotalSeconds:0} s");
        }));
        return cmd;
    }
}
