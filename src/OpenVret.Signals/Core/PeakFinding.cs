namespace OpenVret.Signals;

/// <summary>Local extrema and their prominence (definitions as in <c>scipy.signal.find_peaks</c>).</summary>
public static class PeakFinding
{
    /// <summary>
    /// Indices of local maxima in [from, to). A plateau counts once, at its middle (rounded down), like scipy.
    /// </summary>
    public static List<int> LocalMaxima(ReadOnlySpan<double> x, int from = 0, int to = -1)
    {
        if (to < 0) to = x.Length;
        var res = new List<int>(Math.Max(4, (to - from) / 16));
        int i = from + 1, iMax = to - 1;
        while (i < iMax)
        {
            if (x[i - 1] < x[i])
            {
                int ahead = i + 1;
                while (ahead < iMax && x[ahead] == x[i]) ahead++;
                if (x[ahead] < x[i])
                {
                    res.Add((i + ahead - 1) / 2);
                    i = ahead;
                }
            }
            i++;
        }
        return res;
    }

    /// <summary>Local minima in [from, to), plateaus at their middle.</summary>
    public static List<int> LocalMinima(ReadOnlySpan<double> x, int from = 0, int to = -1)
    {
        if (to < 0) to = x.Length;
        var res = new List<int>(Math.Max(4, (to - from) / 16));
        int i = from + 1, iMax = to - 1;
        while (i < iMax)
        {
            if (x[i - 1] > x[i])
            {
                int ahead = i + 1;
                while (ahead < iMax && x[ahead] == x[i]) ahead++;
                if (x[ahead] > x[i])
                {
                    res.Add((i + ahead - 1) / 2);
                    i = ahead;
                }
            }
            i++;
        }
        return res;
    }

    /// <summary>
    /// Prominence of the peak at <paramref name="peak"/> within the segment [from, to): height above the
    /// higher of the two lowest points reached before meeting a higher sample on each side.
    /// </summary>
    public static double Prominence(ReadOnlySpan<double> x, int peak, int from, int to)
    {
        double h = x[peak];
        double leftMin = h;
        for (int i = peak - 1; i >= from; i--)
        {
            if (x[i] > h) break;
            if (x[i] < leftMin) leftMin = x[i];
        }
        double rightMin = h;
        for (int i = peak + 1; i < to; i++)
        {
            if (x[i] > h) break;
            if (x[i] < rightMin) rightMin = x[i];
        }
        return h - Math.Max(leftMin, rightMin);
    }

    /// <summary>Most prominent local maximum in [from, to), or -1 if there is none.</summary>
    public static int MostProminentMaximum(ReadOnlySpan<double> x, int from, int to)
    {
        var peaks = LocalMaxima(x, from, to);
        int best = -1; double bestProm = double.NegativeInfinity;
        foreach (var p in peaks)
        {
            double prom = Prominence(x, p, from, to);
            if (prom > bestProm) { bestProm = prom; best = p; }
        }
        return best;
    }

    /// <summary>Second-order central differences, first-order at the ends (as numpy.gradient).</summary>
    public static double[] Gradient(ReadOnlySpan<double> x)
    {
        var g = new double[x.Length];
        Gradient(x, g);
        return g;
    }

    /// <summary>Gradient into <paramref name="g"/> (same length as <paramref name="x"/>).</summary>
    public static void Gradient(ReadOnlySpan<double> x, Span<double> g)
    {
        int n = x.Length;
        if (n < 2) { g.Clear(); return; }
        g[0] = x[1] - x[0];
        g[n - 1] = x[n - 1] - x[n - 2];
        for (int i = 1; i < n - 1; i++) g[i] = (x[i + 1] - x[i - 1]) * 0.5;
    }
}
