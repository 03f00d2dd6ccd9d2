using System.Text.Json;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;
using OpenVret.Signals;

namespace OpenVret.Learning;

/// <summary>
/// A trained arousal model as plain data: the features it reads, the subject-centring it expects (median of
/// the session's baseline step), a logistic model, Platt calibration, the decision threshold (chosen on
/// training folds), and the cut-points of the graded level. Saved as JSON beside its model card.
/// </summary>
public sealed record ArousalModel(
    string Name,
    string Task,
    IReadOnlyList<string> Features,
    LinearModel Linear,
    PlattScaling Calibration,
    double Threshold,
    double[] LevelCutPoints,
    double CalibrationSeconds,
    string TrainedOn,
    string Licence)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static ArousalModel Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "arousal-model.json");
        if (!File.Exists(path)) throw new SignalInputException("model", path, "no arousal-model.json there");
        return JsonSerializer.Deserialize<ArousalModel>(File.ReadAllText(path), Json)
            ?? throw new SignalInputException("model", path, "not an arousal model");
    }

    /// <summary>
    /// Trains the deployable model on every subject: the logistic model on all of them, and calibration and
    /// threshold from inner cross-validation by subject (the same procedure as each LOSO fold).
    /// </summary>
    public static ArousalModel Train(IReadOnlyList<Subject> subjects, IReadOnlyDictionary<string, List<LabelledWindow>> windows, string datasetName, int seed = 1, int innerFolds = 5)
    {
        var o = new LosoOptions { Model = ModelKind.Logistic };
        var prepared = windows.ToDictionary(kv => kv.Key, kv => Personalization.Apply(kv.Value).Where(w => o.Labels.Contains(w.Label) && !w.PoorQuality).ToList());
        var ids = subjects.Select(s => s.Id).Where(prepared.ContainsKey).ToList();
        List<(float[] Features, bool Label)> Rows(IEnumerable<string> which) => which.SelectMany(i => prepared[i]).Select(w => (w.Features, w.Label == o.Positive)).ToList();
        var (platt, threshold) = Loso.CalibrateOnInnerFolds(ids, Rows, ModelKind.Logistic, innerFolds, seed);
        var final = ScoreModel.Train(Rows(ids), ModelKind.Logistic, seed);
        return new ArousalModel("arousal-binary-logistic", "binary: stress vs baseline + amusement", WindowTable.FeatureNames, final.Linear!, platt, threshold,
            new[] { 0.25, 0.5, 0.75 }, 300, datasetName, "research and non-commercial use (trained on WESAD; see model-card.md)");
    }
}

/// <summary>One feature's signed effect on the calibrated probability, and a sentence a clinician can read.</summary>
public sealed record Contribution(string Feature, double Value, double BaselineValue, double ProbabilityEffect, string Text);

/// <summary>What the live estimator says about one feature vector.</summary>
public sealed record ArousalEstimate(double Probability, int Level, double Uncertainty, bool AboveThreshold, IReadOnlyList<Contribution> TopContributions, IReadOnlyList<string> MissingFeatures);

/// <summary>The live arousal estimator the session consumes.</summary>
public interface IArousalEstimator
{
    /// <summary>Personalises from the session's baseline step (feature vectors from the first minutes of rest).</summary>
    void Calibrate(IEnumerable<IReadOnlyDictionary<string, double>> baselineWindows);
    ArousalEstimate Estimate(IReadOnlyDictionary<string, double> features);
}

/// <summary>
/// The live estimator for an <see cref="ArousalModel"/>. Features are centred on the session's baseline
/// medians, then scored, calibrated and graded. Each feature's contribution is the change in probability if
/// that feature stood at its baseline value (exact for the linear model). The uncertainty is 1 - |2p - 1|,
/// widened by the share of missing features.
/// </summary>
public sealed class ArousalEstimator(ArousalModel model) : IArousalEstimator
{
    private readonly float[] _baseline = Enumerable.Repeat(float.NaN, model.Features.Count).ToArray();
    private readonly float[] _x = new float[model.Features.Count];
    public bool Calibrated { get; private set; }

    public void Calibrate(IEnumerable<IReadOnlyDictionary<string, double>> baselineWindows)
    {
        var rows = baselineWindows.ToList();
        if (rows.Count < 3) throw new SignalInputException("baselineWindows", rows.Count.ToString(), "calibration needs at least 3 baseline windows");
        for (int i = 0; i < model.Features.Count; i++)
            _baseline[i] = Personalization.Median(rows.Select(r => r.TryGetValue(model.Features[i], out var x) ? (float)x : float.NaN));
        Calibrated = true;
    }

    /// <summary>The baseline medians per model feature (NaN where the baseline had none); what a host persists.</summary>
    public IReadOnlyDictionary<string, double> BaselineMedians =>
        model.Features.Select((f, i) => (f, (double)_baseline[i])).ToDictionary(x => x.f, x => x.Item2, StringComparer.Ordinal);

    /// <summary>Restores a baseline saved from <see cref="BaselineMedians"/> (e.g. after a server restart).</summary>
    public void Restore(IReadOnlyDictionary<string, double> medians)
    {
        for (int i = 0; i < model.Features.Count; i++)
            _baseline[i] = medians.TryGetValue(model.Features[i], out var v) ? (float)v : float.NaN;
        Calibrated = true;
    }

    /// <summary>Estimates from the streaming extractor's output directly (single-channel or prefixed names).</summary>
    public ArousalEstimate Estimate(OpenVret.Signals.FeatureSet features) =>
        Estimate(features.Values.ToDictionary(kv => kv.Key, kv => kv.Value));

    public ArousalEstimate Estimate(IReadOnlyDictionary<string, double> features)
    {
        if (!Calibrated) throw new SignalInputException("estimator", "not calibrated", "run the baseline step first (Calibrate)");
        var lin = model.Linear;
        int n = model.Features.Count, missing = 0;
        var missingNames = new List<string>();
        for (int i = 0; i < n; i++)
        {
            double v = features.TryGetValue(model.Features[i], out var f) ? f : double.NaN;
            if (!double.IsFinite(v) || !float.IsFinite(_baseline[i])) { _x[i] = float.NaN; missing++; missingNames.Add(model.Features[i]); }
            else _x[i] = (float)(v - _baseline[i]);
        }
        double score = lin.Score(_x);
        double p = model.Calibration.Probability(score);
        int level = model.LevelCutPoints.Count(c => p >= c);
        double uncertainty = Math.Min(1, (1 - Math.Abs(2 * p - 1)) + (double)missing / n);
        // Contribution: probability now minus probability with this feature at its baseline (centred value 0).
        var contributions = new List<Contribution>(n);
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(_x[i])) continue;
            double delta = lin.Weights[i] * (lin.Standardised(_x[i], i) - lin.Standardised(0, i));
            double effect = p - model.Calibration.Probability(score - delta);
            contributions.Add(new Contribution(model.Features[i], _x[i] + _baseline[i], _baseline[i], effect, Describe(model.Features[i], _x[i] + _baseline[i], _baseline[i], effect)));
        }
        var top = contributions.OrderByDescending(c => Math.Abs(c.ProbabilityEffect)).Take(3).ToList();
        return new ArousalEstimate(p, level, uncertainty, p >= model.Threshold, top, missingNames);
    }

    private static string Describe(string feature, double value, double baseline, double effect)
    {
        string name = feature switch
        {
            "EDA.SCL_Mean" => "skin conductance level", "EDA.SCR_Peaks_N" => "skin conductance responses", "EDA.EDA_Phasic_SD" => "phasic EDA variability",
            "PPG.PPG_Rate_Mean" => "pulse rate", "PPG.HRV_RMSSD" => "heart-rate variability (RMSSD)", "TEMP.TEMP_Mean" => "skin temperature",
            "ACC.ACC_Magnitude_SD" => "movement", _ => feature,
        };
        string change = baseline != 0 && Math.Abs(baseline) > 1e-6 && Math.Sign(value) == Math.Sign(baseline) && Math.Abs(value / baseline) >= 1.5
            ? $"{value / baseline:0.#}x baseline" : $"{value:0.##} vs baseline {baseline:0.##}";
        return $"{name} {change} {(effect >= 0 ? "raised" : "lowered")} stress probability by {Math.Abs(effect):0.00}";
    }
}
