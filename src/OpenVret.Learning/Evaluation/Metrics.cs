namespace OpenVret.Learning.Evaluation;

/// <summary>A scored window: the truth (positive class), the calibrated probability and the decision.</summary>
public sealed record Prediction(string Subject, bool Truth, double Probability, bool Decision);

/// <summary>Binary classification metrics with the definitions most papers use.</summary>
public sealed record BinaryMetrics(int N, double Accuracy, double BalancedAccuracy, double MacroF1, double Auroc, double Ece, double Brier, int[,] Confusion)
{
    public static BinaryMetrics Of(IReadOnlyList<Prediction> p)
    {
        int tp = p.Count(x => x.Truth && x.Decision), tn = p.Count(x => !x.Truth && !x.Decision);
        int fp = p.Count(x => !x.Truth && x.Decision), fn = p.Count(x => x.Truth && !x.Decision);
        double acc = (double)(tp + tn) / Math.Max(1, p.Count);
        double tpr = tp + fn > 0 ? (double)tp / (tp + fn) : double.NaN, tnr = tn + fp > 0 ? (double)tn / (tn + fp) : double.NaN;
        double bal = double.IsNaN(tpr) ? tnr : double.IsNaN(tnr) ? tpr : (tpr + tnr) / 2;
        double f1Pos = 2.0 * tp / Math.Max(1, 2 * tp + fp + fn), f1Neg = 2.0 * tn / Math.Max(1, 2 * tn + fp + fn);
        bool onlyOneClass = tp + fn == 0 || tn + fp == 0;
        double macro = onlyOneClass ? (tp + fn == 0 ? f1Neg : f1Pos) : (f1Pos + f1Neg) / 2;
        return new BinaryMetrics(p.Count, acc, bal, macro, AurocOf(p), EceOf(p), p.Average(x => Math.Pow(x.Probability - (x.Truth ? 1 : 0), 2)), new[,] { { tn, fp }, { fn, tp } });
    }

    /// <summary>Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties counted half; NaN with one class.</summary>
    public static double AurocOf(IReadOnlyList<Prediction> p)
    {
        var sorted = p.Select(x => (x.Probability, x.Truth)).OrderBy(x => x.Probability).ToArray();
        long pos = sorted.Count(x => x.Truth), neg = sorted.Length - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        double rankSum = 0;
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j < sorted.Length && sorted[j].Probability == sorted[i].Probability) j++;
            double avgRank = (i + j + 1) / 2.0;
            for (int k = i; k < j; k++) if (sorted[k].Truth) rankSum += avgRank;
            i = j;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / (pos * neg);
    }

    /// <summary>Expected calibration error over 10 equal-width probability bins (Naeini et al. 2015).</summary>
    public static double EceOf(IReadOnlyList<Prediction> p, int bins = 10)
    {
        double ece = 0;
        for (int b = 0; b < bins; b++)
        {
            var inBin = p.Where(x => Math.Min(bins - 1, (int)(x.Probability * bins)) == b).ToList();
            if (inBin.Count == 0) continue;
            ece += (double)inBin.Count / p.Count * Math.Abs(inBin.Average(x => x.Probability) - inBin.Average(x => x.Truth ? 1.0 : 0.0));
        }
        return ece;
    }
}

/// <summary>Platt (1999) scaling: p = 1 / (1 + exp(a s + b)) fitted by Newton's method on held-out scores.</summary>
public sealed record PlattScaling(double A, double B)
{
    public double Probability(double score) => 1 / (1 + Math.Exp(A * score + B));

    public static PlattScaling Fit(IReadOnlyList<(double Score, bool Truth)> data)
    {
        int pos = data.Count(d => d.Truth), neg = data.Count - pos;
        // Platt's smoothed targets.
        double hi = (pos + 1.0) / (pos + 2.0), lo = 1.0 / (neg + 2.0);
        double a = 0, b = Math.Log((neg + 1.0) / (pos + 1.0));
        for (int it = 0; it < 100; it++)
        {
            double g1 = 0, g2 = 0, h11 = 1e-12, h22 = 1e-12, h21 = 0;
            foreach (var (s, truth) in data)
            {
                double t = truth ? hi : lo;
                double p = 1 / (1 + Math.Exp(a * s + b));
                double d1 = t - p, w = p * (1 - p);
                g1 += s * d1; g2 += d1;
                h11 += s * s * w; h22 += w; h21 += s * w;
            }
            double det = h11 * h22 - h21 * h21;
            if (Math.Abs(det) < 1e-18) break;
            double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
            a += da; b += db;
            if (Math.Abs(da) + Math.Abs(db) < 1e-9) break;
        }
        return new PlattScaling(a, b);
    }
}
