using System.Diagnostics;
using OpenVret.Learning;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Transfer;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret train --dataset wesad,wise --data A,B --out DIR</c>: the generalisation study (leave-one-dataset-out
/// first, adaptation and baseline curves, LOSO inside each dataset), the deployable model trained on all datasets,
/// its model card and its generalisation card.
/// </summary>
public static class MultiLabTraining
{
    public static void Run(IReadOnlyList<string> names, IReadOnlyList<string> folders, string outDir)
    {
        var sw = Stopwatch.StartNew();
        var labs = new List<LabData>();
        for (int i = 0; i < names.Count; i++)
        {
            var ds = DatasetLayouts.Load(names[i], Path.GetFullPath(folders[i]));
            foreach (var p in ds.Problems) Console.Error.WriteLine($"note: {names[i]}: {p}");
            labs.Add(EvaluateCommand.Windows(ds, names[i]));
            Console.Out.WriteLine($"{names[i]}: {ds.Subjects.Count} subjects, {labs[^1].Windows.Values.Sum(w => w.Count)} windows ({sw.Elapsed.TotalSeconds:0} s)");
        }
        var o = new CrossLabOptions();
        var study = Generalisation.Run(labs, o, Console.Out.WriteLine);
        var (model, selection) = CrossLab.Train(labs, o, "arousal-multilab-logistic", "research and non-commercial use (trained on WESAD and WISE-stress; see model-card.md)");
        Directory.CreateDirectory(outDir);
        model.Save(Path.Combine(outDir, "arousal-model.json"));
        Console.Out.WriteLine($"deployable model: {selection.Space.Name}, L2 {selection.L2}, prior {selection.Prior}; chosen by {selection.Scheme}");
        GeneralisationCard.Write(outDir, model, selection, study, labs, $"openvret train --dataset {string.Join(",", names)} --data {string.Join(",", folders.Select(f => "<" + Path.GetFileName(Path.GetFullPath(f).TrimEnd('/')) + ">"))} --out {Path.GetFileName(outDir)}", sw.Elapsed.TotalSeconds);
        Console.Out.WriteLine($"written arousal-model.json, model-card.md/json, generalisation-card.md/json, metrics.json in {outDir}; total {sw.Elapsed.TotalSeconds:0} s");
    }
}
