namespace OpenVret.Signals.Tests.Support;

/// <summary>One-to-one matching of detected to reference events within a tolerance; F1 score.</summary>
public static class PeakMatch
{
    public static (double F1, int TruePositives, int FalsePositives, int FalseNegatives) F1(IReadOnlyList<int> detected, IReadOnlyList<int> reference, int toleranceSamples)
    {
        int i = 0, j = 0, tp = 0;
        var d = detected.OrderBy(x => x).ToArray();
        var r = reference.OrderBy(x => x).ToArray();
        while (i < d.Length && j < r.Length)
        {
            if (Math.Abs(d[i] - r[j]) <= toleranceSamples) { tp++; i++; j++; }
            else if (d[i] < r[j]) i++;
            else j++;
        }
        int fp = d.Length - tp, fn = r.Length - tp;
        double f1 = tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        return (f1, tp, fp, fn);
    }
}
