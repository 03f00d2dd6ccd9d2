using OpenVret.Cli;
using OpenVret.Learning;
using OpenVret.Learning.Datasets;
using OpenVret.Signals;
using OpenVret.Signals.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Learning.Tests;

public sealed class EstimatorTests(ITestOutputHelper output)
{
    private static string ShippedModel()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "OpenVret.slnx"))) d = d.Parent;
        return Path.Combine(d!.FullName, "models", "arousal-wesad-wrist-binary");
    }

    private static IReadOnlyDictionary<string, double> Vector(double scl, double scr, double hr, double temp) => new Dictionary<string, double>
    {
        ["EDA.SCL_Mean"] = scl, ["EDA.SCR_Peaks_N"] = scr, ["EDA.SCL_SD"] = 0.05, ["EDA.EDA_Phasic_SD"] = 0.02 * scr, ["EDA.SCL_Slope"] = 0,
        ["EDA.SCR_Peaks_Amplitude_Mean"] = 0.1, ["PPG.PPG_Rate_Mean"] = hr, ["PPG.HRV_MeanNN"] = 60000 / hr, ["PPG.HRV_SDNN"] = 50, ["PPG.HRV_RMSSD"] = 40,
        ["PPG.HRV_pNN50"] = 20, ["PPG.HRV_SD1"] = 28, ["PPG.HRV_SD2"] = 60, ["TEMP.TEMP_Mean"] = temp, ["TEMP.TEMP_SD"] = 0.02, ["TEMP.TEMP_Slope"] = 0,
        ["ACC.ACC_Magnitude_Mean"] = 1, ["ACC.ACC_Magnitude_SD"] = 0.02, ["ACC.ACC_ENMO"] = 0.01,
    };

    [Fact]
    public void TheShippedModelLoadsCalibratesAndExplainsItself()
    {
        var model = ArousalModel.Load(ShippedModel());
        Assert.Equal(WindowTable.FeatureNames.Length, model.Features.Count);
        Assert.True(File.Exists(Path.Combine(ShippedModel(), "model-card.md")));
        var est = new ArousalEstimator(model);
        Assert.Contains("Calibrate", Assert.Throws<SignalInputException>(() => est.Estimate(Vector(2, 1, 70, 33))).Message);
        est.Calibrate(Enumerable.Range(0, 10).Select(i => Vector(2 + 0.01 * i, 1, 70, 33)));
        var calm = est.Estimate(Vector(2.02, 1, 71, 33));
        var stressed = est.Estimate(Vector(6, 8, 95, 32.5));
        output.WriteLine($"calm p={calm.Probability:0.00} level {calm.Level}; stressed p={stressed.Probability:0.00} level {stressed.Level}: {string.Join("; ", stressed.TopContributions.Select(c => c.Text))}");
        Assert.True(stressed.Probability > calm.Probability);
        Assert.True(stressed.Level >= calm.Level);
        Assert.Equal(3, stressed.TopContributions.Count);
        Assert.Contains(stressed.TopContributions, c => c.Text.Contains("stress probability by"));
        // Missing features are named and widen the uncertainty.
        var partial = new Dictionary<string, double>(Vector(2.02, 1, 71, 33));
        foreach (var k in partial.Keys.Where(k => k.StartsWith("PPG.")).ToList()) partial.Remove(k);
        var e = est.Estimate(partial);
        Assert.Contains("PPG.PPG_Rate_Mean", e.MissingFeatures);
        Assert.True(e.Uncertainty > calm.Uncertainty);
    }

    [SharedDataFact("wesad-e4", "e4_alignment_offsets.csv")]
    public void EvaluateReadsTheGenericLayoutAndWritesTheFullReport()
    {
        // A pipeline check, not an external validation: the generic layout (ROOT/labels.csv + ROOT/<subject>/E4
        // files) is built from three WESAD subjects the shipped model was trained on.
        var wesad = WesadLoader.Load(SharedData.Data("wesad-e4"));
        var root = Directory.CreateTempSubdirectory("generic").FullName;
        var lines = new List<string> { "subject,label,start_unix,end_unix" };
        foreach (var s in wesad.Subjects.Where(s => s.Id is "S10" or "S11" or "S13"))
        {
            var src = SharedData.Data("wesad-e4", "data", s.Id, $"{s.Id}_E4_Data");
            Directory.CreateDirectory(Path.Combine(root, s.Id));
            foreach (var f in new[] { "ACC.csv", "BVP.csv", "EDA.csv", "TEMP.csv" }) File.Copy(Path.Combine(src, f), Path.Combine(root, s.Id, f));
            double t0 = double.Parse(File.ReadLines(Path.Combine(src, "EDA.csv")).First(), System.Globalization.CultureInfo.InvariantCulture);
            foreach (var seg in s.Segments) lines.Add($"{s.Id},{seg.Label},{t0 + seg.StartSeconds:0.###},{t0 + seg.EndSeconds:0.###}");
        }
        // A fourth subject with no signal files: reported, not fatal.
        lines.Add("S99,baseline,1500000000,1500000600");
        File.WriteAllLines(Path.Combine(root, "labels.csv"), lines);
        var out_ = Path.Combine(root, "report");
        var o = new StringWriter(); var err = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(o); Console.SetError(err);
        int code;
        try { code = OpenVretCommand.Build().Parse(new[] { "evaluate", "--model", ShippedModel(), "--dataset", "generic", "--data", root, "--out", out_ }).Invoke(); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
        output.WriteLine(o.ToString() + err);
        Assert.True(code == 0, err.ToString());
        Assert.Contains("S99", err.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(out_, "metrics.json")));
        Assert.Equal(3, doc.RootElement.GetProperty("n_subjects").GetInt32());
        foreach (var key in new[] { "macro_f1", "balanced_accuracy", "accuracy", "auroc", "ece", "brier", "n_windows", "per_subject" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        Assert.True(File.Exists(Path.Combine(out_, "reliability.png")));
    }
}

public sealed class SimulatedExternalTests(ITestOutputHelper output)
{
    [Fact]
    public void TheShippedModelIsCheckedOnSimulatedSubjectsFromOtherSites()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "OpenVret.slnx"))) d = d.Parent;
        var model = ArousalModel.Load(Path.Combine(d!.FullName, "models", "arousal-wesad-wrist-binary"));
        var root = Directory.CreateTempSubdirectory("simext").FullName;
        OpenVret.Simulation.SimulatedDataset.Write(root, 3, 5);
        var ds = GenericLoader.Load(root);
        Assert.Equal(3, ds.Subjects.Count);
        Assert.All(ds.Subjects, s => Assert.Equal(new[] { "baseline", "stress", "amusement" }, s.Segments.Select(x => x.Label)));
        var r = OpenVret.Learning.Transfer.CrossLab.Evaluate(model, EvaluateCommand.Windows(ds, "simulated"), model.CalibrationSeconds, 0);
        var (preds, notEvaluable) = (r.Predictions, r.NotEvaluable);
        Assert.Empty(notEvaluable);
        var m = Evaluation.BinaryMetrics.Of(preds);
        output.WriteLine($"simulated external: macro-F1 {m.MacroF1:0.000}, AUROC {m.Auroc:0.000}, ECE {m.Ece:0.000}");
        Assert.True(m.Auroc > 0.8, $"AUROC {m.Auroc:0.000}: stress windows should rank above rest on simulated physiology");
    }
}
