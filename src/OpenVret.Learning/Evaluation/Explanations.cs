namespace OpenVret.Learning.Evaluation;

/// <summary>
/// Permutation importance (Breiman 2001; Fisher et al. 2019) on held-out data: per fold, one feature at a time is
/// shuffled among the held-out rows and the rows re-scored; at the end, the drop in pooled AUROC per feature.
/// Used by the arousal classifier's leave-one-subject-out and by outcome prediction's leave-one-site-out.
/// </summary>
public sealed class PermutationImportance(IReadOnlyList<string> names, int seed)
{
    private readonly List<Prediction>[] _permuted = names.Select(_ => new List<Prediction>()).ToArray();
    private readonly Random _rng = new(seed);

    /// <summary>Adds one fold: its held-out feature rows, their predictions, and the fold's model as a probability.</summary>
    public void AddFold(IReadOnlyList<float[]> rows, IReadOnlyList<Prediction> predictions, Func<float[], double> probability)
    {
        for (int j = 0; j < names.Count; j++)
        {
            var values = rows.Select(r => r[j]).OrderBy(_ => _rng.Next()).ToArray();
            for (int i = 0; i < rows.Count; i++)
            {
                var x = (float[])rows[i].Clone();
                x[j] = values[i];
                _permuted[j].Add(predictions[i] with { Probability = probability(x) });
            }
        }
    }

    /// <summary>Drop in AUROC per feature against the unshuffled pooled predictions, largest first.</summary>
    public IReadOnlyDictionary<string, double> AurocDrop(IReadOnlyList<Prediction> pooled)
    {
        double auroc = BinaryMetrics.AurocOf(pooled);
        return names.Select((n, j) => (n, Drop: auroc - BinaryMetrics.AurocOf(_permuted[j]))).OrderByDescending(x => x.Drop).ToDictionary(x => x.n, x => x.Drop);
    }
}

/// <summary>One feature's share of one prediction: the change in probability when the feature is replaced by its training mean.</summary>
public sealed record Contribution(string Feature, double Value, double Delta);

/// <summary>Per-case explanations that work for any model (occlusion: each feature set to its training mean in turn).</summary>
public static class Occlusion
{
    public static IReadOnlyList<Contribution> Explain(float[] x, IReadOnlyList<string> names, float[] trainingMeans, Func<float[], double> probability, int top = 3)
    {
        double p = probability(x);
        var list = new List<Contribution>(names.Count);
        for (int j = 0; j < names.Count; j++)
        {
            if (!float.IsFinite(x[j])) continue;
            var y = (float[])x.Clone();
            y[j] = trainingMeans[j];
            list.Add(new Contribution(names[j], x[j], p - probability(y)));
        }
        return list.OrderByDescending(c => Math.Abs(c.Delta)).Take(top).ToList();
    }
}

/// <summary>Errors by subgroup (site, sex, age band, ...): the same table for the arousal classifier and outcome models.</summary>
public sealed record Subgroup(string Attribute, string Value, int Subjects, int Cases, double MacroF1, double BalancedAccuracy, double Auroc, double Brier, bool Flagged);

public static class Subgroups
{
    /// <summary>
    /// Metrics per attribute value over the subjects that have it; flagged when balanced accuracy is more than
    /// <paramref name="flagDrop"/> below the overall.
    /// </summary>
    public static List<Subgroup> Of(IReadOnlyList<Prediction> predictions, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> attributes, double flagDrop = 0.10)
    {
        var overall = BinaryMetrics.Of(predictions).BalancedAccuracy;
        var res = new List<Subgroup>();
        foreach (var attribute in attributes.Values.SelectMany(a => a.Keys).Distinct().OrderBy(a => a, StringComparer.Ordinal))
            foreach (var g in attributes.Where(kv => kv.Value.ContainsKey(attribute)).GroupBy(kv => kv.Value[attribute]).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var ids = g.Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
                var p = predictions.Where(x => ids.Contains(x.Subject)).ToList();
                if (p.Count == 0) continue;
                var m = BinaryMetrics.Of(p);
                res.Add(new Subgroup(attribute, g.Key, ids.Count, m.N, m.MacroF1, m.BalancedAccuracy, m.Auroc, m.Brier, overall - m.BalancedAccuracy > flagDrop));
            }
        return res;
    }
}
