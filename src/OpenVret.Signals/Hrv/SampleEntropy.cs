namespace OpenVret.Signals.Hrv;

/// <summary>
/// Sample entropy SampEn(m, r) = -ln(A/B), where B and A count template pairs of length m and m+1 within
/// Chebyshev distance r, self-matches excluded (Richman &amp; Moorman 2000, Am J Physiol 278:H2039).
/// Templates are sorted by their first value so only candidates within r are compared: near-linear for
/// physiological series instead of O(N²).
/// </summary>
public static class SampleEntropy
{
    public static (double Value, long MatchesLonger) Compute(ReadOnlySpan<double> x, int m, double r)
    {
        int n = x.Length;
        int count = n - m; // templates of length m that also have an (m+1)-th point
        if (count < 2 || !(r > 0)) return (double.NaN, 0);
        var order = new int[count];
        var keys = new double[count];
        for (int i = 0; i < count; i++) { order[i] = i; keys[i] = x[i]; }
        Array.Sort(keys, order);
        long b = 0, a = 0;
        for (int p = 0; p < count; p++)
        {
            int i = order[p];
            double xi = keys[p];
            for (int q = p + 1; q < count && keys[q] - xi <= r; q++)
            {
                int j = order[q];
                bool match = true;
                for (int k = 1; k < m; k++)
                    if (Math.Abs(x[i + k] - x[j + k]) > r) { match = false; break; }
                if (!match) continue;
                b++;
                if (Math.Abs(x[i + m] - x[j + m]) <= r) a++;
            }
        }
        if (a == 0 || b == 0) return (double.NaN, a);
        return (-Math.Log((double)a / b), a);
    }
}
