using System.Numerics;
using System.Runtime.Intrinsics;

namespace OpenVret.Signals.Hrv;

/// <summary>
/// Sample entropy SampEn(m, r) = -ln(A/B), where B and A count template pairs of length m and m+1 within
/// Chebyshev distance r, self-matches excluded (Richman &amp; Moorman 2000, Am J Physiol 278:H2039).
/// Templates are sorted by their first value so only candidates within r are compared: near-linear for
/// physiological series instead of O(N²). The other coordinates of the templates are copied into arrays in
/// that sorted order, so the candidates are compared from contiguous memory without branches.
/// </summary>
public static class SampleEntropy
{
    public static (double Value, long MatchesLonger) Compute(ReadOnlySpan<double> x, int m, double r)
    {
        int n = x.Length;
        int count = n - m; // templates of length m that also have an (m+1)-th point
        if (count < 2 || !(r > 0) || m < 1) return (double.NaN, 0);
        var order = new int[count];
        var keys = new double[count];
        for (int i = 0; i < count; i++) { order[i] = i; keys[i] = x[i]; }
        Array.Sort(keys, order);
        // coords[k][p] = x[order[p] + k] for k = 1..m (k = m is the extra point of the longer template).
        var coords = new double[m + 1][];
        for (int k = 1; k <= m; k++)
        {
            var c = coords[k] = new double[count];
            for (int p = 0; p < count; p++) c[p] = x[order[p] + k];
        }
        long b = 0, a = 0;
        var last = coords[m];
        int end = 1;
        for (int p = 0; p < count; p++)
        {
            double xi = keys[p];
            // keys ascend, so the end of the candidate run [p + 1, end) only moves forward.
            if (end < p + 1) end = p + 1;
            while (end < count && keys[end] - xi <= r) end++;
            double yi = last[p];
            if (m == 1)
            {
                b += end - p - 1;
                a += CountWithin(last, p + 1, end, yi, r);
                continue;
            }
            if (m == 2)
            {
                var (bb, aa) = CountPairs(coords[1], last, p + 1, end, coords[1][p], yi, r);
                b += bb; a += aa;
                continue;
            }
            for (int q = p + 1; q < end; q++)
            {
                bool match = true;
                for (int k = 1; k < m; k++)
                    if (Math.Abs(coords[k][q] - coords[k][p]) > r) { match = false; break; }
                if (!match) continue;
                b++;
                if (Math.Abs(last[q] - yi) <= r) a++;
            }
        }
        if (a == 0 || b == 0) return (double.NaN, a);
        return (-Math.Log((double)a / b), a);
    }

    private static int CountWithin(double[] v, int from, int to, double centre, double r)
    {
        int n = 0;
        for (int q = from; q < to; q++) n += Math.Abs(v[q] - centre) <= r ? 1 : 0;
        return n;
    }

    /// <summary>In [from, to): how many have |second - s| &lt;= r (B), and how many of those also |last - y| &lt;= r (A).</summary>
    private static (int B, int A) CountPairs(double[] second, double[] last, int from, int to, double s, double y, double r)
    {
        int b = 0, a = 0, q = from;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s); var vy = Vector256.Create(y); var vr = Vector256.Create(r);
            for (; q + 4 <= to; q += 4)
            {
                var m1 = Vector256.LessThanOrEqual(Vector256.Abs(Vector256.Create(second.AsSpan(q, 4)) - vs), vr);
                var m2 = Vector256.LessThanOrEqual(Vector256.Abs(Vector256.Create(last.AsSpan(q, 4)) - vy), vr);
                b += BitOperations.PopCount(m1.ExtractMostSignificantBits());
                a += BitOperations.PopCount((m1 & m2).ExtractMostSignificantBits());
            }
        }
        for (; q < to; q++)
        {
            bool m1 = Math.Abs(second[q] - s) <= r;
            b += m1 ? 1 : 0;
            a += m1 && Math.Abs(last[q] - y) <= r ? 1 : 0;
        }
        return (b, a);
    }
}
