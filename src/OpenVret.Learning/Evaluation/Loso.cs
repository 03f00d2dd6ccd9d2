using OpenVret.Learning.Datasets;

namespace OpenVret.Learning.Evaluation;

public sealed record LosoOptions
{
    public ModelKind Model { get; init; } = ModelKind.LightGbm;
    public bool Personalize { get; init; } = true;
    public bool UseTemperature { get; init; } = true;
    /// <summary>Feature-name prefixes the user's devices provide (e.g. "EDA." only); the others are missing for every window. Null = all.</summary>
    public IReadOnlyList<string>? AvailableModalities { get; init; }
    /// <summary>Labels counted as the positive class (binary task: stress vs everything else in <see cref="Labels"/>).</summary>
    public string Positive { get; init; } = "stress";
    public IReadOnlyList<string> Labels { get; init; } = new[] { "baseline", "stress", "amusement" };
    /// <summary>Inner folds (by subject, inside each training fold) whose out-of-fold scores fit calibration and the threshold.</summary>
    public int InnerFolds { get; init; } = 4;
    public int Seed { get; init; } = 1;
}

public sealed record SubjectResult(string Subject, BinaryMetrics Metrics, IReadOnlyDictionary<string, string> Attributes);
/// <summary>Which subjects each fold trained (and calibrated) on: the evidence that the test subject never did.</summary>
public sealed record Fold(string Test, IReadOnlyList<string> Training);

public sealed record LosoResult(LosoOptions Options, BinaryMetrics Pooled, IReadOnlyList<SubjectResult> PerSubject, IReadOnlyList<Prediction> Predictions,
    double MeanThreshold, (double Low, double High) MacroF1Ci, (double Low, double High) BalancedAccuracyCi, IReadOnlyList<Fold> Folds,
    IReadOnlyDictionary<string, double> PermutationImportance);

/// <summary>
/// Leave-one-subject-out: for each subject, a model is trained on the others. Platt calibration and the
/// decision threshold are fitted on out-of-fold scores of an inner cross-validation by subject inside the
/// training fold. The model is then scored on the left-out subject's windows, minus that subject's
/// calibration period. No window of the test subject
/// touches training, calibration or the threshold; its personalisation statistics come only from its own
/// first minutes of rest, as they would live.
/// </summary>
public static class Loso
{
    public static LosoResult Run(IReadOnlyList<Subject> subjects, IReadOnlyDictionary<string, List<LabelledWindow>> windows, LosoOptions o)
    {
        int[] columns = o.UseTemperature ? Enumerable.Range(0, WindowTable.FeatureNames.Length).ToArray() : WindowTable.WithoutTemperature;
        var prepared = windows.ToDictionary(kv => kv.Key, kv =>
            (o.Personalize ? Personalization.Apply(kv.Value) : kv.Value)
                .Where(w => o.Labels.Contains(w.Label))
                .Select(w => w with { Features = columns.Select(c => Available(o, WindowTable.FeatureNames[c]) ? w.Features[c] : float.NaN).ToArray() }).ToList());
        var ids = subjects.Select(s => s.Id).Where(prepared.ContainsKey).ToList();
        var predictions = new List<Prediction>();
        var perSubject = new List<SubjectResult>();
        var thresholds = new List<double>();
        var folds = new List<Fold>();
        // Permutation importance (Breiman 2001; Fisher et al. 2019), computed on each held-out subject: the
        // drop in pooled AUROC when one feature is shuffled among that subject's windows.
        var importance = new PermutationImportance(columns.Select(c => WindowTable.FeatureNames[c]).ToList(), o.Seed + 7);
        foreach (var test in ids)
        {
            var train = ids.Where(i => i != test).ToList();
            folds.Add(new Fold(test, train));
            // Inner cross-validation by subject: out-of-fold scores for every training subject fit Platt scaling
            // and the threshold; the final model is then trained on all training subjects.
            var (platt, threshold) = CalibrateOnInnerFolds(train, ids => Rows(prepared, ids, o), o.Model, o.InnerFolds, o.Seed);
            var model = ScoreModel.Train(Rows(prepared, train, o), o.Model, o.Seed);
            thresholds.Add(threshold);
            var scored = prepared[test].Where(w => !w.InCalibration).ToList();
            if (scored.Count == 0) continue;
            var testPreds = scored
                .Select(w => { double p = platt.Probability(model.Score(w.Features)); return new Prediction(test, w.Label == o.Positive, p, p >= threshold); })
                .ToList();
            importance.AddFold(scored.Select(w => w.Features).ToList(), testPreds, x => platt.Probability(model.Score(x)));
            predictions.AddRange(testPreds);
            perSubject.Add(new SubjectResult(test, BinaryMetrics.Of(testPreds), subjects.First(s => s.Id == test).Attributes));
        }
        var pooled = BinaryMetrics.Of(predictions);
        return new LosoResult(o, pooled, perSubject, predictions, thresholds.Average(),
            BootstrapOverSubjects(perSubject, r => r.Metrics.MacroF1, o.Seed), BootstrapOverSubjects(perSubject, r => r.Metrics.BalancedAccuracy, o.Seed + 1), folds, importance.AurocDrop(predictions));
    }

    private static bool Available(LosoOptions o, string feature) => o.AvailableModalities is null || o.AvailableModalities.Any(feature.StartsWith);

    private static List<(float[] Features, bool Label)> Rows(Dictionary<string, List<LabelledWindow>> prepared, IEnumerable<string> ids, LosoOptions o) =>
        ids.SelectMany(i => prepared[i]).Where(w => !w.PoorQuality).Select(w => (w.Features, w.Label == o.Positive)).ToList();

    /// <summary>
    /// Platt scaling and the decision threshold from out-of-fold scores: the training subjects are split into
    /// <paramref name="folds"/> groups by subject, and each group is scored by a model trained on the others.
    /// </summary>
    public static (PlattScaling Platt, double Threshold) CalibrateOnInnerFolds(IReadOnlyList<string> subjects,
        Func<IEnumerable<string>, List<(float[] Features, bool Label)>> rows, ModelKind kind, int folds, int seed)
    {
        var (platt, threshold, _) = SelectAndCalibrate(subjects, rows, kind, folds, seed, [new ModelSettings()]);
        return (platt, threshold);
    }

    /// <summary>
    /// Model selection and calibration on inner folds: each candidate setting is scored out of fold (AUROC); the
    /// best one's out-of-fold scores also fit Platt scaling and the threshold. With one candidate it only calibrates.
    /// </summary>
    public static (PlattScaling Platt, double Threshold, ModelSettings Settings) SelectAndCalibrate(IReadOnlyList<string> subjects,
        Func<IEnumerable<string>, List<(float[] Features, bool Label)>> rows, ModelKind kind, int folds, int seed, IReadOnlyList<ModelSettings> candidates)
    {
        (ModelSettings Settings, double Auroc, List<(double Score, bool Truth)> Oof)? best = null;
        foreach (var candidate in candidates)
        {
            var outOfFold = new List<(double, bool)>();
            for (int k = 0; k < folds; k++)
            {
                var held = subjects.Where((_, i) => i % folds == k).ToHashSet();
                var inner = ScoreModel.Train(rows(subjects.Where(i => !held.Contains(i))), kind, seed, candidate);
                outOfFold.AddRange(rows(held).Select(r => (inner.Score(r.Features), r.Label)));
            }
            double auroc = candidates.Count == 1 ? 0 : BinaryMetrics.AurocOf(outOfFold.Select(x => new Prediction("", x.Item2, x.Item1, false)).ToList());
            if (best is null || auroc > best.Value.Auroc + 1e-9) best = (candidate, auroc, outOfFold);
        }
        var platt = PlattScaling.Fit(best!.Value.Oof);
        return (platt, BestThreshold(best.Value.Oof.Select(c => (platt.Probability(c.Score), c.Truth)).ToList()), best.Value.Settings);
    }

    /// <summary>The threshold that maximises balanced accuracy on the calibration subjects.</summary>
    public static double BestThreshold(List<(double P, bool Truth)> c)
    {
        double best = 0.5, bestScore = -1;
        for (double t = 0.05; t <= 0.95; t += 0.01)
        {
            int tp = c.Count(x => x.Truth && x.P >= t), fn = c.Count(x => x.Truth && x.P < t);
            int tn = c.Count(x => !x.Truth && x.P < t), fp = c.Count(x => !x.Truth && x.P >= t);
            double bal = 0.5 * ((tp + fn > 0 ? (double)tp / (tp + fn) : 0) + (tn + fp > 0 ? (double)tn / (tn + fp) : 0));
            if (bal > bestScore + 1e-12) { bestScore = bal; best = t; }
        }
        return best;
    }

    /// <summary>Percentile bootstrap 95 % interval of the mean over subjects.</summary>
    private static (double, double) BootstrapOverSubjects(IReadOnlyList<SubjectResult> r, Func<SubjectResult, double> f, int seed)
    {
        var v = r.Select(f).Where(double.IsFinite).ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN);
        var rng = new Random(seed);
        var means = Enumerable.Range(0, 2000).Select(_ => Enumerable.Range(0, v.Length).Average(_ => v[rng.Next(v.Length)])).OrderBy(x => x).ToArray();
        return (means[49], means[1949]);
    }
}
