using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;

namespace OpenVret.Learning.Transfer;

/// <summary>A set of features and how each is compared with the personal baseline: one candidate of the model selection.</summary>
public sealed record FeatureSpace(string Name, IReadOnlyList<string> Features, IReadOnlyList<FeatureChange> Changes, bool GatePulse)
{
    private int[]? _index;
    /// <summary>Where each feature sits in <see cref="WindowTable.FeatureNames"/>.</summary>
    public int[] Index => _index ??= Features.Select(f => Array.IndexOf(WindowTable.FeatureNames, f) is var i and >= 0 ? i
        : throw new ArgumentException($"feature {f} is not in the window table")).ToArray();

    /// <summary>The candidates the selection chooses from (on training data only). See docs/arousal.md.</summary>
    public static IReadOnlyList<FeatureSpace> Candidates => _candidates ??= Build();
    private static List<FeatureSpace>? _candidates;

    private static readonly string[] Pulse = ["PPG.PPG_Rate_Mean", "PPG.HRV_MeanNN", "PPG.HRV_SDNN", "PPG.HRV_RMSSD", "PPG.HRV_pNN50", "PPG.HRV_SD1", "PPG.HRV_SD2"];
    private static readonly string[] Eda = ["EDA.SCL_Mean", "EDA.SCL_SD", "EDA.SCL_Slope", "EDA.EDA_Phasic_SD", "EDA.SCR_Peaks_N", "EDA.SCR_Peaks_Amplitude_Mean"];
    private static readonly string[] Temperature = ["TEMP.TEMP_Mean", "TEMP.TEMP_SD", "TEMP.TEMP_Slope"];
    private static readonly string[] Motion = ["ACC.ACC_Magnitude_Mean", "ACC.ACC_Magnitude_SD", "ACC.ACC_ENMO"];
    // Scale-like features (levels, spreads, amplitudes, rates): their relative change transfers across sensors and people.
    private static readonly HashSet<string> ScaleLike = ["PPG.PPG_Rate_Mean", "PPG.HRV_MeanNN", "PPG.HRV_SDNN", "PPG.HRV_RMSSD", "PPG.HRV_SD1", "PPG.HRV_SD2",
        "EDA.SCL_Mean", "EDA.SCL_SD", "EDA.EDA_Phasic_SD", "EDA.SCR_Peaks_Amplitude_Mean"];

    private static List<FeatureSpace> Build()
    {
        FeatureSpace Make(string name, IEnumerable<string> f, bool relative, bool gate)
        {
            var list = f.ToList();
            return new FeatureSpace(name, list, list.Select(x => relative && ScaleLike.Contains(x) ? FeatureChange.LogRatio : FeatureChange.Difference).ToList(), gate);
        }
        // Skin temperature is not offered: its change from the baseline grows with time in the session (the baseline
        // always comes first), which is a protocol, not arousal. Wrist motion is not offered as a predictor either:
        // gesturing while speaking is part of lab stressors but not of exposure; motion gates the pulse features instead.
        return
        [
            Make("pulse + EDA, differences", Pulse.Concat(Eda), relative: false, gate: true),
            Make("pulse + EDA, relative changes", Pulse.Concat(Eda), relative: true, gate: true),
            Make("pulse rate + EDA level and responses, relative changes", ["PPG.PPG_Rate_Mean", "PPG.HRV_RMSSD", "EDA.SCL_Mean", "EDA.EDA_Phasic_SD", "EDA.SCR_Peaks_N"], relative: true, gate: true),
        ];
    }
}

/// <summary>A dataset ready for training or evaluation: its subjects and their windows (raw features, baseline not yet applied).</summary>
public sealed record LabData(string Key, Dataset Data, IReadOnlyDictionary<string, List<LabelledWindow>> Windows);

/// <summary>One candidate's inner cross-validation result.</summary>
public sealed record CandidateScore(string Space, float L2, double InnerAuroc, string Scheme);

/// <summary>What the selection chose and why, for the cards.</summary>
public sealed record Selection(FeatureSpace Space, float L2, AdaptationPrior Prior, IReadOnlyList<CandidateScore> Scores, IReadOnlyList<(AdaptationPrior Prior, double LogLoss)> PriorScores,
    string Scheme, IReadOnlyList<string> Skipped);

/// <summary>Options of <see cref="CrossLab.Train"/>.</summary>
public sealed record CrossLabOptions
{
    public double BaselineSeconds { get; init; } = WindowTable.DefaultBaselineSeconds;
    public int InnerFolds { get; init; } = 5;
    public int Seed { get; init; } = 1;
    public IReadOnlyList<FeatureSpace> Spaces { get; init; } = FeatureSpace.Candidates;
    public IReadOnlyList<float> L2 { get; init; } = [0.1f, 1f, 10f, 100f];
    /// <summary>Adaptation seconds simulated when the prior is chosen.</summary>
    public double PriorAdaptSeconds { get; init; } = 120;
    public IReadOnlyList<AdaptationPrior> Priors { get; init; } =
    [
        new(0.25, 0.5, 0), new(0.5, 1, 0), new(1, 2, 0), new(0.5, 1, 0.1), new(0.5, 1, 0.3), new(1, 2, 0.3),
    ];
}

/// <summary>Scores of one evaluation: pooled and per subject, with the windows used for adaptation set aside.</summary>
public sealed record LabEvaluation(string Dataset, double BaselineSeconds, double AdaptSeconds, BinaryMetrics Pooled, IReadOnlyList<SubjectResult> PerSubject,
    IReadOnlyList<Prediction> Predictions, IReadOnlyList<string> NotEvaluable, int AdaptationWindows, int LowConfidenceWindows, int OutOfRangeSubjects)
{
    public double MedianSubjectAuroc => Median(PerSubject.Select(s => s.Metrics.Auroc));
    public double MedianSubjectMacroF1 => Median(PerSubject.Select(s => s.Metrics.MacroF1));
    private static double Median(IEnumerable<double> v)
    {
        var a = v.Where(double.IsFinite).OrderBy(x => x).ToArray();
        return a.Length == 0 ? double.NaN : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}

/// <summary>
/// Training and evaluation across labs. Every choice (feature space, L2, adaptation prior, calibration,
/// threshold) is made on the training subjects only: by leave-one-dataset-out inner folds when the training
/// data come from two or more datasets (the question that matters: does it hold in a lab it has not seen?), by
/// subject folds otherwise. Evaluation runs the live estimator on each held-out subject: baseline from the
/// first <see cref="CrossLabOptions.BaselineSeconds"/> of its rest, optional adaptation from the first N s of
/// the first run of each label, never scoring a window used for either.
/// </summary>
public static class CrossLab
{
    public static (ArousalModel Model, Selection Selection) Train(IReadOnlyList<LabData> training, CrossLabOptions o, string name, string licence)
    {
        var skipped = new List<string>();
        var subjects = new List<(string Dataset, Subject Subject, List<LabelledWindow> Windows, float[] Baseline)>();
        foreach (var lab in training)
            foreach (var s in lab.Data.Subjects)
            {
                if (!lab.Windows.TryGetValue(s.Id, out var w)) continue;
                var marked = WindowTable.WithBaseline(w, s, o.BaselineSeconds);
                var baseline = BaselineOf(marked);
                if (baseline is null) { skipped.Add($"{lab.Key}/{s.Id}: fewer than 3 baseline windows"); continue; }
                subjects.Add((lab.Key, s, marked, baseline));
            }
        if (subjects.Count < 4) throw new OpenVret.Signals.SignalInputException("training", subjects.Count.ToString(), "at least 4 subjects with a baseline are needed");
        var datasets = subjects.Select(s => s.Dataset).Distinct().ToList();
        // Inner folds: by dataset when there are several (leave-one-dataset-out), else by subject.
        var folds = datasets.Count >= 2
            ? datasets.Select(d => subjects.Select((s, i) => (s, i)).Where(x => x.s.Dataset == d).Select(x => x.i).ToHashSet()).ToList()
            : Enumerable.Range(0, Math.Min(o.InnerFolds, subjects.Count)).Select(k => Enumerable.Range(0, subjects.Count).Where(i => i % Math.Min(o.InnerFolds, subjects.Count) == k).ToHashSet()).ToList();
        string scheme = datasets.Count >= 2 ? $"leave-one-dataset-out over {string.Join(", ", datasets)}" : $"{folds.Count} folds by subject";
        List<(float[] X, bool Y)> Rows(FeatureSpace space, IEnumerable<int> which) =>
            which.SelectMany(i => RowsOf(space, subjects[i].Windows, subjects[i].Baseline)).ToList();

        var scores = new List<CandidateScore>();
        (FeatureSpace Space, float L2, double Auroc)? best = null;
        foreach (var space in o.Spaces)
            foreach (var l2 in o.L2)
            {
                // Mean of the held-out folds' AUROCs: each fold is a lab (or a group of subjects) the model did not see.
                var aurocs = new List<double>();
                foreach (var held in folds)
                {
                    var train = Rows(space, Enumerable.Range(0, subjects.Count).Where(i => !held.Contains(i)));
                    var test = Rows(space, held);
                    if (train.Count == 0 || test.Count == 0) continue;
                    var m = ScoreModel.Train(train, ModelKind.Logistic, o.Seed, new ModelSettings(l2));
                    aurocs.Add(BinaryMetrics.AurocOf(test.Select(r => new Prediction("", r.Y, m.Score(r.X), false)).ToList()));
                }
                double auroc = aurocs.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
                scores.Add(new CandidateScore(space.Name, l2, auroc, scheme));
                if (best is null || auroc > best.Value.Auroc + 1e-9) best = (space, l2, auroc);
            }
        var (chosen, chosenL2, _) = best!.Value;

        // Calibration, threshold and the adaptation prior from out-of-fold scores of the chosen candidate, on the same
        // folds as the selection: with several datasets every training subject is scored by a model that never saw
        // its lab, so the probabilities are calibrated for a lab the model has not seen; with one, by subject folds.
        var oof = new List<(double Score, bool Y, int Subject)>();
        var foldModels = new List<(HashSet<int> Held, ScoreModel Model)>();
        foreach (var held in folds)
        {
            var m = ScoreModel.Train(Rows(chosen, Enumerable.Range(0, subjects.Count).Where(i => !held.Contains(i))), ModelKind.Logistic, o.Seed, new ModelSettings(chosenL2));
            foldModels.Add((held, m));
            foreach (var i in held) oof.AddRange(RowsOf(chosen, subjects[i].Windows, subjects[i].Baseline).Select(r => (m.Score(r.X), r.Y, i)));
        }
        var platt = PlattScaling.Fit(oof.Select(x => (x.Score, x.Y)).ToList());
        double threshold = MacroF1Threshold(oof.Select(x => (platt.Probability(x.Score), x.Y)).ToList());
        var final = ScoreModel.Train(Rows(chosen, Enumerable.Range(0, subjects.Count)), ModelKind.Logistic, o.Seed, new ModelSettings(chosenL2));
        var range = chosen.Index.Select(c =>
        {
            var v = subjects.Select(s => (double)s.Baseline[c]).Where(double.IsFinite).OrderBy(x => x).ToArray();
            return v.Length < 2 ? new[] { double.NaN, double.NaN } : new[] { Quantile(v, 0.025), Quantile(v, 0.975) };
        }).ToList();
        ArousalModel Make(LinearModel linear, AdaptationPrior? prior) => new(name, "binary: stress vs calm (baseline, rest, amusement, meditation)", chosen.Features.ToList(), linear, platt, threshold,
            [0.25, 0.5, 0.75], o.BaselineSeconds, string.Join(" + ", training.Select(t => t.Data.Name)), licence)
        {
            Changes = chosen.Changes.ToList(), BaselineRange = range, Adaptation = prior, GatePulseOnQuality = chosen.GatePulse,
        };

        // The adaptation prior: simulated on the training subjects with their out-of-fold models, scored by the
        // log loss of the windows not used for adaptation.
        var priorScores = new List<(AdaptationPrior, double)>();
        foreach (var prior in o.Priors)
        {
            double loss = 0; int n = 0;
            foreach (var (held, m) in foldModels)
                foreach (var i in held)
                {
                    var ev = EvaluateSubject(Make(m.Linear!, prior), subjects[i].Subject, subjects[i].Windows, o.BaselineSeconds, o.PriorAdaptSeconds);
                    if (ev is null) continue;
                    foreach (var p in ev.Value.Predictions) { loss -= Math.Log(Math.Clamp(p.Truth ? p.Probability : 1 - p.Probability, 1e-6, 1)); n++; }
                }
            priorScores.Add((prior, n > 0 ? loss / n : double.NaN));
        }
        var bestPrior = priorScores.Where(p => double.IsFinite(p.Item2)).MinBy(p => p.Item2).Item1 ?? o.Priors[0];
        return (Make(final.Linear!, bestPrior), new Selection(chosen, chosenL2, bestPrior, scores, priorScores, scheme, skipped));
    }

    /// <summary>The subject's baseline medians (raw, window-table order) from the windows wholly inside its baseline period; null if fewer than 3.</summary>
    public static float[]? BaselineOf(IReadOnlyList<LabelledWindow> marked)
    {
        var calib = marked.Where(w => w.UsedForBaseline).ToList();
        if (calib.Count < 3) return null;
        return Enumerable.Range(0, WindowTable.FeatureNames.Length).Select(i => Personalization.Median(calib.Select(w => w.Features[i]))).ToArray();
    }

    /// <summary>Training rows of one subject: every labelled window of the binary task, compared with the baseline as the space says.</summary>
    public static IEnumerable<(float[] X, bool Y)> RowsOf(FeatureSpace space, IReadOnlyList<LabelledWindow> windows, float[] baseline)
    {
        var idx = space.Index;
        foreach (var w in windows)
        {
            if (!ArousalLabels.IsUsed(w.Label)) continue;
            if (w.PoorQuality && !space.GatePulse) continue;
            var x = new float[idx.Length];
            for (int j = 0; j < idx.Length; j++)
            {
                string f = space.Features[j];
                float v = space.GatePulse && w.PoorQuality && f.StartsWith("PPG.", StringComparison.Ordinal) ? float.NaN : w.Features[idx[j]];
                x[j] = ArousalModel.Change(space.Changes[j], f, v, baseline[idx[j]]);
            }
            yield return (x, ArousalLabels.IsStress(w.Label));
        }
    }

    /// <summary>Scores a model on a dataset it did not see, as the live session would.</summary>
    public static LabEvaluation Evaluate(ArousalModel model, LabData lab, double baselineSeconds, double adaptSeconds)
    {
        var predictions = new List<Prediction>();
        var perSubject = new List<SubjectResult>();
        var notEvaluable = new List<string>();
        int adapted = 0, low = 0, ood = 0;
        foreach (var s in lab.Data.Subjects)
        {
            if (!lab.Windows.TryGetValue(s.Id, out var w)) continue;
            var ev = EvaluateSubject(model, s, w, baselineSeconds, adaptSeconds);
            if (ev is null) { notEvaluable.Add($"{s.Id}: fewer than 3 baseline windows in the first {baselineSeconds:0} s of its baseline; not evaluable"); continue; }
            var (preds, used, lowCount, outOfRange) = ev.Value;
            if (preds.Count == 0) { notEvaluable.Add($"{s.Id}: no labelled window left to score"); continue; }
            predictions.AddRange(preds);
            perSubject.Add(new SubjectResult(s.Id, BinaryMetrics.Of(preds), s.Attributes));
            adapted += used; low += lowCount; if (outOfRange) ood++;
        }
        if (predictions.Count == 0) throw new OpenVret.Signals.SignalInputException("data", lab.Data.Source, "no evaluable subject (each needs a baseline segment and labelled windows)");
        return new LabEvaluation(lab.Data.Name, baselineSeconds, adaptSeconds, BinaryMetrics.Of(predictions), perSubject, predictions, notEvaluable, adapted, low, ood);
    }

    /// <summary>
    /// One subject: baseline from the windows wholly inside its first <paramref name="baselineSeconds"/> of rest;
    /// with <paramref name="adaptSeconds"/> &gt; 0, the windows that start within the first N s of the first run of
    /// each label (and the baseline windows, as calm) adapt the estimator and are not scored. Null without a baseline.
    /// </summary>
    public static (List<Prediction> Predictions, int Adapted, int LowConfidence, bool OutOfRange)? EvaluateSubject(ArousalModel model, Subject s, IReadOnlyList<LabelledWindow> windows, double baselineSeconds, double adaptSeconds)
    {
        var marked = WindowTable.WithBaseline(windows, s, baselineSeconds);
        var baseline = marked.Where(w => w.UsedForBaseline).ToList();
        if (baseline.Count < 3) return null;
        var idx = model.Features.Select(f => Array.IndexOf(WindowTable.FeatureNames, f)).ToArray();
        if (idx.Any(i => i < 0)) throw new OpenVret.Signals.SignalInputException("model.Features", string.Join(",", model.Features.Where(f => Array.IndexOf(WindowTable.FeatureNames, f) < 0)), "not produced by the window table");
        float[] Pick(LabelledWindow w) => idx.Select(i => w.Features[i]).ToArray();
        var estimator = new ArousalEstimator(model);
        estimator.Calibrate(baseline.Select(w => (IReadOnlyDictionary<string, double>)model.Features.Select((f, j) => (f, (double)w.Features[idx[j]])).ToDictionary(x => x.f, x => x.Item2)));
        var adaptation = new HashSet<LabelledWindow>(ReferenceEqualityComparer.Instance);
        if (adaptSeconds > 0)
        {
            foreach (var label in marked.Where(w => ArousalLabels.IsUsed(w.Label)).Select(w => w.Label).Distinct())
            {
                double firstRun = marked.Where(w => w.Label == label).Min(w => w.RunStartSeconds);
                foreach (var w in marked.Where(w => w.Label == label && w.RunStartSeconds == firstRun && !w.InCalibration && w.StartSeconds < firstRun + adaptSeconds))
                    adaptation.Add(w);
            }
            estimator.Adapt(baseline.Concat(adaptation).Select(w => (Pick(w), w.PoorQuality, ArousalLabels.IsStress(w.Label))));
        }
        var preds = new List<Prediction>();
        int low = 0;
        foreach (var w in marked)
        {
            if (!ArousalLabels.IsUsed(w.Label) || w.InCalibration || adaptation.Contains(w)) continue;
            var e = estimator.Estimate(Pick(w), w.PoorQuality);
            if (e.LowConfidence) low++;
            preds.Add(new Prediction(s.Id, ArousalLabels.IsStress(w.Label), e.Probability, e.AboveThreshold));
        }
        return (preds, adaptation.Count, low, estimator.OutOfRange.Count > 0);
    }

    /// <summary>The threshold that maximises macro-F1 (the figure reported) on out-of-fold probabilities.</summary>
    public static double MacroF1Threshold(IReadOnlyList<(double P, bool Y)> c)
    {
        double best = 0.5, bestScore = -1;
        for (double t = 0.05; t <= 0.95 + 1e-9; t += 0.01)
        {
            var m = BinaryMetrics.Of(c.Select(x => new Prediction("", x.Y, x.P, x.P >= t)).ToList());
            if (m.MacroF1 > bestScore + 1e-12) { bestScore = m.MacroF1; best = t; }
        }
        return best;
    }

    private static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(sorted.Length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
