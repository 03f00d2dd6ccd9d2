using System.Text.Json;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;
using OpenVret.Signals;

namespace OpenVret.Learning;

/// <summary>How a feature is compared with its personal baseline.</summary>
public enum FeatureChange
{
    /// <summary>Value minus the baseline median (counts, slopes, proportions).</summary>
    Difference,
    /// <summary>log((value + e) / (baseline + e)): the relative change, blind to a sensor's or a person's scale (skin conductance that is 0.3 µS in one lab and 12 µS in another).</summary>
    LogRatio,
}

/// <summary>
/// A trained arousal model as plain data: the features it reads and how each is compared with the session's
/// baseline (<see cref="Changes"/>; absent = differences, as in models before version 2), a logistic model, Platt
/// calibration, the decision threshold (chosen on training folds), the cut-points of the graded level, the
/// range of baselines seen in training (for the out-of-distribution flag) and the prior of the per-patient
/// adaptation. Saved as JSON beside its model card and generalisation card.
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
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>Per feature, how it is compared with the baseline; null = <see cref="FeatureChange.Difference"/> for all.</summary>
    public IReadOnlyList<FeatureChange>? Changes { get; init; }
    /// <summary>Per feature, the 2.5th and 97.5th percentile of the training subjects' baseline medians (raw units); null = unknown.</summary>
    public IReadOnlyList<double[]>? BaselineRange { get; init; }
    /// <summary>The per-patient adaptation's prior, chosen on training subjects; null = no adaptation.</summary>
    public AdaptationPrior? Adaptation { get; init; }
    /// <summary>PPG features are treated as missing in a window whose pulse quality is poor or whose wrist moves.</summary>
    public bool GatePulseOnQuality { get; init; }

    public FeatureChange ChangeOf(int i) => Changes is { } c && i < c.Count ? c[i] : FeatureChange.Difference;

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static ArousalModel Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "arousal-model.json");
        if (!File.Exists(path)) throw new SignalInputException("model", path, "no arousal-model.json there");
        ArousalModel? m;
        try { m = JsonSerializer.Deserialize<ArousalModel>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new SignalInputException("model", path, $"not an arousal model ({e.Message})"); }
        if (m is null || m.Features is null || m.Linear is null) throw new SignalInputException("model", path, "not an arousal model");
        if (m.Linear.Weights.Length != m.Features.Count) throw new SignalInputException("model.Linear.Weights", m.Linear.Weights.Length.ToString(), $"expected one weight per feature ({m.Features.Count})");
        if (m.Changes is { } ch && ch.Count != m.Features.Count) throw new SignalInputException("model.Changes", ch.Count.ToString(), $"expected one per feature ({m.Features.Count})");
        return m;
    }

    /// <summary>
    /// The relative change of one feature against its baseline, as the model compares them. The offset e keeps
    /// the ratio finite near zero: 0.05 µS for skin conductance levels, 0.01 for other EDA spreads, 1 for beats per
    /// minute and milliseconds.
    /// </summary>
    public static float Change(FeatureChange change, string feature, float value, float baseline)
    {
        if (!float.IsFinite(value) || !float.IsFinite(baseline)) return float.NaN;
        if (change == FeatureChange.Difference) return value - baseline;
        double e = RatioOffset(feature);
        return (float)Math.Log((Math.Max(0, value) + e) / (Math.Max(0, baseline) + e));
    }

    /// <summary>The value whose change against <paramref name="baseline"/> is <paramref name="change"/> (the inverse of <see cref="Change"/>).</summary>
    public static double ValueFrom(FeatureChange kind, string feature, double change, double baseline) =>
        kind == FeatureChange.Difference ? change + baseline : Math.Exp(change) * (Math.Max(0, baseline) + RatioOffset(feature)) - RatioOffset(feature);

    private static double RatioOffset(string feature) =>
        feature.StartsWith("EDA.SCL_Mean", StringComparison.Ordinal) ? 0.05 : feature.StartsWith("EDA.", StringComparison.Ordinal) ? 0.01 : 1.0;

    /// <summary>
    /// Trains the deployable model on every subject with the WESAD-only procedure of version 1 (differences against
    /// the baseline, all features); <see cref="Transfer.CrossLab"/> trains the multi-lab model.
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
            new[] { 0.25, 0.5, 0.75 }, WindowTable.DefaultBaselineSeconds, datasetName, "research and non-commercial use (trained on WESAD; see model-card.md)");
    }
}

/// <summary>
/// Per-patient adaptation as a Bayesian recalibration: the adapted logit is a·z + b + sum d_i x_i, where z is the
/// model's calibrated logit and x_i the model's standardised features, with Gaussian priors a ~ N(1, SlopeSd),
/// b ~ N(0, InterceptSd), d_i ~ N(0, WeightSd) (a per-patient correction that stays near the population model
/// until the patient's own labelled windows say otherwise). The prior's widths are chosen on training subjects.
/// </summary>
public sealed record AdaptationPrior(double SlopeSd, double InterceptSd, double WeightSd);

/// <summary>One feature's signed effect on the calibrated probability, and a sentence a clinician can read.</summary>
public sealed record Contribution(string Feature, double Value, double BaselineValue, double ProbabilityEffect, string Text);

/// <summary>
/// What the live estimator says about one feature vector. <see cref="LowConfidence"/>: the probability should not
/// be shown or acted on as a number (the reasons say why: the baseline lies outside what the model was trained
/// on, too few features, too short a baseline); <see cref="CalibratedBy"/> says how this patient's estimate was
/// personalised, e.g. "baseline 3 min (13 windows) + 3 ratings".
/// </summary>
public sealed record ArousalEstimate(double Probability, int Level, double Uncertainty, bool AboveThreshold, IReadOnlyList<Contribution> TopContributions, IReadOnlyList<string> MissingFeatures)
{
    public bool LowConfidence { get; init; }
    public IReadOnlyList<string> LowConfidenceReasons { get; init; } = [];
    public string CalibratedBy { get; init; } = "";
}

/// <summary>The live arousal estimator the session consumes.</summary>
public interface IArousalEstimator
{
    /// <summary>Personalises from the session's baseline step (feature vectors from the first minutes of rest).</summary>
    void Calibrate(IEnumerable<IReadOnlyDictionary<string, double>> baselineWindows);
    ArousalEstimate Estimate(IReadOnlyDictionary<string, double> features);
}

/// <summary>
/// The live estimator for an <see cref="ArousalModel"/>. Each feature is compared with the session's baseline
/// median (a difference or a log ratio, as the model says), then scored, calibrated, adapted to the patient when
/// labelled windows are given (<see cref="Adapt"/>, e.g. from SUDS ratings), and graded. Each feature's
/// contribution is the change in probability if that feature stood at its baseline value (exact for the linear
/// model). The uncertainty is 1 - |2p - 1|, widened by the share of missing features.
/// </summary>
public sealed class ArousalEstimator : IArousalEstimator
{
    /// <summary>SUDS (0-100) at or above which a rating labels the windows around it as stress, and at or below which as calm.</summary>
    public const double SudsStressAt = 50, SudsCalmAt = 25;
    /// <summary>At most this many labelled windows are kept for adaptation (the most recent).</summary>
    public const int MaxAdaptationWindows = 240;

    private readonly ArousalModel _model;
    private readonly float[] _baseline;
    private readonly float[] _x;
    private readonly double[] _s;
    private readonly int _n;
    private readonly int _quality = -1, _motion = -1;
    private readonly bool[] _pulse;
    private int _baselineWindows;
    private List<string> _outOfRange = new();
    private readonly List<(double Z, double[] S, bool Stress)> _examples = new();
    private int _ratings;
    // Adapted logit = _a z + _b + sum _d[i] s_i.
    private double _a = 1, _b;
    private double[] _d;

    public ArousalEstimator(ArousalModel model)
    {
        _model = model;
        _n = model.Features.Count;
        _baseline = Enumerable.Repeat(float.NaN, _n).ToArray();
        _x = new float[_n];
        _s = new double[_n];
        _d = new double[_n];
        _pulse = model.Features.Select(f => f.StartsWith("PPG.", StringComparison.Ordinal)).ToArray();
    }

    public bool Calibrated { get; private set; }
    /// <summary>Labelled windows the adaptation has used, and how many ratings they came from.</summary>
    public int AdaptationWindows => _examples.Count;
    public int Ratings => _ratings;
    /// <summary>Features whose baseline lies outside the range seen in training (the out-of-distribution flag).</summary>
    public IReadOnlyList<string> OutOfRange => _outOfRange;

    public void Calibrate(IEnumerable<IReadOnlyDictionary<string, double>> baselineWindows)
    {
        var rows = baselineWindows.ToList();
        if (rows.Count < 3) throw new SignalInputException("baselineWindows", rows.Count.ToString(), "calibration needs at least 3 baseline windows");
        for (int i = 0; i < _n; i++)
            _baseline[i] = Personalization.Median(rows.Select(r => r.TryGetValue(_model.Features[i], out var x) ? (float)x : float.NaN));
        _baselineWindows = rows.Count;
        CheckRange();
        Calibrated = true;
    }

    /// <summary>The baseline medians per model feature (NaN where the baseline had none); what a host persists.</summary>
    public IReadOnlyDictionary<string, double> BaselineMedians =>
        _model.Features.Select((f, i) => (f, (double)_baseline[i])).ToDictionary(x => x.f, x => x.Item2, StringComparer.Ordinal);

    /// <summary>Restores a baseline saved from <see cref="BaselineMedians"/> (e.g. after a server restart).</summary>
    public void Restore(IReadOnlyDictionary<string, double> medians, int windows = 0)
    {
        for (int i = 0; i < _n; i++)
            _baseline[i] = medians.TryGetValue(_model.Features[i], out var v) ? (float)v : float.NaN;
        _baselineWindows = windows;
        CheckRange();
        Calibrated = true;
    }

    private void CheckRange()
    {
        _outOfRange = new List<string>();
        if (_model.BaselineRange is not { } range) return;
        for (int i = 0; i < _n && i < range.Count; i++)
        {
            if (!float.IsFinite(_baseline[i]) || range[i] is not { Length: 2 } r || !double.IsFinite(r[0]) || !double.IsFinite(r[1])) continue;
            // A quarter of the training range is allowed on either side before a baseline counts as unlike training.
            double margin = 0.25 * Math.Max(r[1] - r[0], 1e-9);
            if (_baseline[i] < r[0] - margin || _baseline[i] > r[1] + margin) _outOfRange.Add(_model.Features[i]);
        }
    }

    /// <summary>Estimates from the streaming extractor's output directly (single-channel or prefixed names).</summary>
    public ArousalEstimate Estimate(OpenVret.Signals.FeatureSet features) =>
        Estimate(features.Values.ToDictionary(kv => kv.Key, kv => kv.Value));

    public ArousalEstimate Estimate(IReadOnlyDictionary<string, double> features)
    {
        Load(features);
        return Score(explain: true);
    }

    /// <summary>Offline: the same estimate from values in the model's feature order and the window's quality.</summary>
    public ArousalEstimate Estimate(ReadOnlySpan<float> modelFeatures, bool poorPulse, bool explain = false)
    {
        if (!Calibrated) throw new SignalInputException("estimator", "not calibrated", "run the baseline step first (Calibrate)");
        for (int i = 0; i < _n; i++)
        {
            float v = _model.GatePulseOnQuality && poorPulse && _pulse[i] ? float.NaN : modelFeatures[i];
            _x[i] = ArousalModel.Change(_model.ChangeOf(i), _model.Features[i], v, _baseline[i]);
        }
        return Score(explain);
    }

    private void Load(IReadOnlyDictionary<string, double> features)
    {
        if (!Calibrated) throw new SignalInputException("estimator", "not calibrated", "run the baseline step first (Calibrate)");
        bool poor = _model.GatePulseOnQuality && PoorPulse(features);
        for (int i = 0; i < _n; i++)
        {
            double v = features.TryGetValue(_model.Features[i], out var f) ? f : double.NaN;
            if (poor && _pulse[i]) v = double.NaN;
            _x[i] = ArousalModel.Change(_model.ChangeOf(i), _model.Features[i], (float)v, _baseline[i]);
        }
    }

    /// <summary>Pulse quality below 0.5 or wrist motion: the window's PPG features are not trusted.</summary>
    public static bool PoorPulse(IReadOnlyDictionary<string, double> f) =>
        (f.TryGetValue("PPG.PPG_Quality_Mean", out var q) && !(q >= 0.5)) || (f.TryGetValue("ACC.ACC_Motion", out var m) && m == 1);

    private double BaseLogit(double score) => -(_model.Calibration.A * score + _model.Calibration.B);

    private ArousalEstimate Score(bool explain)
    {
        var lin = _model.Linear;
        int missing = 0;
        List<string>? missingNames = null;
        double score = lin.Bias, extra = 0;
        for (int i = 0; i < _n; i++)
        {
            if (!float.IsFinite(_x[i])) { missing++; (missingNames ??= new()).Add(_model.Features[i]); }
            _s[i] = lin.Standardised(_x[i], i);
            score += lin.Weights[i] * _s[i];
            extra += _d[i] * _s[i];
        }
        double logit = _a * BaseLogit(score) + _b + extra;
        double p = 1 / (1 + Math.Exp(-logit));
        int level = _model.LevelCutPoints.Count(c => p >= c);
        double uncertainty = Math.Min(1, (1 - Math.Abs(2 * p - 1)) + (double)missing / _n);
        var contributions = new List<Contribution>(explain ? _n : 0);
        if (explain)
        {
            for (int i = 0; i < _n; i++)
            {
                if (!float.IsFinite(_x[i])) continue;
                double s0 = lin.Standardised(0, i);
                double without = logit - _a * (BaseLogit(score) - BaseLogit(score - lin.Weights[i] * (_s[i] - s0))) - _d[i] * (_s[i] - s0);
                double effect = p - 1 / (1 + Math.Exp(-without));
                double value = ValueOf(i), baseline = _baseline[i];
                contributions.Add(new Contribution(_model.Features[i], value, baseline, effect, Describe(_model.Features[i], value, baseline, effect)));
            }
        }
        var top = contributions.OrderByDescending(c => Math.Abs(c.ProbabilityEffect)).Take(3).ToList();
        var reasons = new List<string>();
        if (_outOfRange.Count > 0) reasons.Add($"this patient's baseline is unlike the training data ({string.Join(", ", _outOfRange.Select(Readable))})");
        if (missing * 2 >= _n) reasons.Add($"{missing} of {_n} features missing");
        if (_baselineWindows is > 0 and < 3) reasons.Add($"baseline of only {_baselineWindows} windows");
        return new ArousalEstimate(p, level, uncertainty, p >= Threshold, top, (IReadOnlyList<string>?)missingNames ?? Array.Empty<string>())
        {
            LowConfidence = reasons.Count > 0, LowConfidenceReasons = reasons, CalibratedBy = CalibratedBy,
        };
    }

    private double ValueOf(int i) => ArousalModel.ValueFrom(_model.ChangeOf(i), _model.Features[i], _x[i], _baseline[i]);

    /// <summary>The decision threshold: the model's, or 0.5 once the patient's own windows have recalibrated the probability.</summary>
    public double Threshold => _examples.Count > 0 && _model.Adaptation is not null ? 0.5 : _model.Threshold;

    /// <summary>How this patient's estimate was personalised, for the console and the record.</summary>
    public string CalibratedBy
    {
        get
        {
            if (!Calibrated) return "not calibrated";
            string b = _baselineWindows > 0 ? $"baseline {_model.CalibrationSeconds / 60:0.#} min ({_baselineWindows} windows)" : "baseline restored";
            if (_examples.Count == 0) return b;
            return _ratings > 0 ? $"{b} + {_ratings} rating{(_ratings == 1 ? "" : "s")} ({_examples.Count} windows)" : $"{b} + {_examples.Count} labelled windows";
        }
    }

    /// <summary>
    /// Adapts to this patient from labelled windows (feature vectors with stress yes/no), refitting the
    /// per-patient recalibration (see <see cref="AdaptationPrior"/>). A model without a prior ignores them.
    /// </summary>
    public void Adapt(IEnumerable<(IReadOnlyDictionary<string, double> Features, bool Stress)> windows, bool fromRating = false)
    {
        int before = _examples.Count;
        foreach (var (f, stress) in windows) { Load(f); AddExample(stress); }
        if (fromRating && _examples.Count > before) _ratings++;
        Refit();
    }

    /// <summary>Offline adaptation from windows in the model's feature order.</summary>
    public void Adapt(IEnumerable<(float[] Features, bool PoorPulse, bool Stress)> windows)
    {
        foreach (var (f, poor, stress) in windows)
        {
            for (int i = 0; i < _n; i++)
                _x[i] = ArousalModel.Change(_model.ChangeOf(i), _model.Features[i], _model.GatePulseOnQuality && poor && _pulse[i] ? float.NaN : f[i], _baseline[i]);
            AddExample(stress);
        }
        Refit();
    }

    /// <summary>
    /// A SUDS rating (0-100) labels the windows the patient was rating: at or above <see cref="SudsStressAt"/> as
    /// stress, at or below <see cref="SudsCalmAt"/> as calm; in between it is too ambiguous and is not used.
    /// Returns whether the rating was used.
    /// </summary>
    public bool AddRating(double suds, IEnumerable<IReadOnlyDictionary<string, double>> windows)
    {
        if (!double.IsFinite(suds) || suds < 0 || suds > 100) throw new SignalInputException("suds", suds.ToString(System.Globalization.CultureInfo.InvariantCulture), "a SUDS rating is 0-100");
        if (suds > SudsCalmAt && suds < SudsStressAt) return false;
        var list = windows.ToList();
        if (list.Count == 0) return false;
        Adapt(list.Select(w => (w, suds >= SudsStressAt)), fromRating: true);
        return true;
    }

    private void AddExample(bool stress)
    {
        if (!Calibrated) throw new SignalInputException("estimator", "not calibrated", "run the baseline step first (Calibrate)");
        var lin = _model.Linear;
        double score = lin.Bias;
        var s = new double[_n];
        for (int i = 0; i < _n; i++) { s[i] = lin.Standardised(_x[i], i); score += lin.Weights[i] * s[i]; }
        _examples.Add((BaseLogit(score), s, stress));
        if (_examples.Count > MaxAdaptationWindows) _examples.RemoveAt(0);
    }

    /// <summary>MAP fit of (a, b, d) by Newton's method with step halving (the posterior never gets worse) on the labelled windows under the model's prior.</summary>
    private void Refit()
    {
        if (_model.Adaptation is not { } prior || _examples.Count == 0) return;
        bool weights = prior.WeightSd > 0;
        int k = 2 + (weights ? _n : 0);
        var theta = new double[k];
        theta[0] = 1;
        var g = new double[k];
        var h = new double[k, k];
        var row = new double[k];
        double pa = 1 / (prior.SlopeSd * prior.SlopeSd), pb = 1 / (prior.InterceptSd * prior.InterceptSd), pd = weights ? 1 / (prior.WeightSd * prior.WeightSd) : 0;
        void Row(double z, double[] s)
        {
            // The population logit is bounded so that one extreme window cannot dominate the fit.
            row[0] = Math.Clamp(z, -12, 12); row[1] = 1;
            if (weights) for (int i = 0; i < _n; i++) row[2 + i] = s[i];
        }
        double Objective(double[] t)
        {
            double f = 0.5 * pa * (t[0] - 1) * (t[0] - 1) + 0.5 * pb * t[1] * t[1];
            for (int i = 2; i < k; i++) f += 0.5 * pd * t[i] * t[i];
            foreach (var (z, s, stress) in _examples)
            {
                Row(z, s);
                double l = 0;
                for (int j = 0; j < k; j++) l += t[j] * row[j];
                // -log p(y | l), computed stably.
                f += stress ? Softplus(-l) : Softplus(l);
            }
            return f;
        }
        double current = Objective(theta);
        for (int it = 0; it < 30; it++)
        {
            Array.Clear(g); Array.Clear(h);
            g[0] = pa * (theta[0] - 1); h[0, 0] = pa;
            g[1] = pb * theta[1]; h[1, 1] = pb;
            for (int i = 2; i < k; i++) { g[i] = pd * theta[i]; h[i, i] = pd; }
            foreach (var (z, s, stress) in _examples)
            {
                Row(z, s);
                double l = 0;
                for (int j = 0; j < k; j++) l += theta[j] * row[j];
                double p = 1 / (1 + Math.Exp(-l)), r = p - (stress ? 1 : 0), w = Math.Max(p * (1 - p), 1e-9);
                for (int j = 0; j < k; j++)
                {
                    g[j] += r * row[j];
                    for (int m = 0; m <= j; m++) h[j, m] += w * row[j] * row[m];
                }
            }
            for (int j = 0; j < k; j++) for (int m = j + 1; m < k; m++) h[j, m] = h[m, j];
            var step = Solve(h, g);
            if (step is null) break;
            double scale = 1, next = double.PositiveInfinity;
            var trial = new double[k];
            for (int half = 0; half < 20; half++, scale /= 2)
            {
                for (int j = 0; j < k; j++) trial[j] = theta[j] - scale * step[j];
                next = Objective(trial);
                if (next <= current) break;
            }
            if (!(next <= current)) break;
            Array.Copy(trial, theta, k);
            bool done = current - next < 1e-10;
            current = next;
            if (done) break;
        }
        _a = theta[0]; _b = theta[1];
        _d = new double[_n];
        if (weights) for (int i = 0; i < _n; i++) _d[i] = theta[2 + i];
    }

    private static double Softplus(double x) => x > 30 ? x : x < -30 ? Math.Exp(x) : Math.Log(1 + Math.Exp(x));

    /// <summary>Solves H x = g for a symmetric positive-definite H (Cholesky); null if it is not.</summary>
    private static double[]? Solve(double[,] h, double[] g)
    {
        int k = g.Length;
        var l = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j <= i; j++)
            {
                double sum = h[i, j];
                for (int m = 0; m < j; m++) sum -= l[i, m] * l[j, m];
                if (i == j) { if (sum <= 0) return null; l[i, i] = Math.Sqrt(sum); }
                else l[i, j] = sum / l[j, j];
            }
        var y = new double[k];
        for (int i = 0; i < k; i++) { double sum = g[i]; for (int m = 0; m < i; m++) sum -= l[i, m] * y[m]; y[i] = sum / l[i, i]; }
        var x = new double[k];
        for (int i = k - 1; i >= 0; i--) { double sum = y[i]; for (int m = i + 1; m < k; m++) sum -= l[m, i] * x[m]; x[i] = sum / l[i, i]; }
        return x;
    }

    private static string Readable(string feature) => feature switch
    {
        "EDA.SCL_Mean" => "skin conductance level", "EDA.SCR_Peaks_N" => "skin conductance responses", "EDA.EDA_Phasic_SD" => "phasic EDA variability",
        "PPG.PPG_Rate_Mean" => "pulse rate", "PPG.HRV_RMSSD" => "heart-rate variability (RMSSD)", "PPG.HRV_MeanNN" => "mean beat interval", "PPG.HRV_SDNN" => "heart-rate variability (SDNN)",
        "TEMP.TEMP_Mean" => "skin temperature", "ACC.ACC_Magnitude_SD" => "movement", "EDA.SCL_SD" => "skin conductance variability",
        _ => feature,
    };

    private static string Describe(string feature, double value, double baseline, double effect)
    {
        string name = Readable(feature);
        string change = baseline != 0 && Math.Abs(baseline) > 1e-6 && Math.Sign(value) == Math.Sign(baseline) && Math.Abs(value / baseline) >= 1.5
            ? $"{value / baseline:0.#}x baseline" : $"{value:0.##} vs baseline {baseline:0.##}";
        return $"{name} {change} {(effect >= 0 ? "raised" : "lowered")} stress probability by {Math.Abs(effect):0.00}";
    }
}
