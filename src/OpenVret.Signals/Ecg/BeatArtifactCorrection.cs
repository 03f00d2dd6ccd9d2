namespace OpenVret.Signals.Ecg;

/// <summary>What the artefact detector decided about the beats it changed.</summary>
public sealed record BeatCorrectionReport(int Ectopic, int Missed, int Extra, int LongShort, int Iterations)
{
    public int Total => Ectopic + Missed + Extra + LongShort;
}

/// <summary>
/// Detection and correction of ectopic, missed, extra and misaligned beats in an inter-beat series, after
/// Lipponen &amp; Tarvainen (2019), J Med Eng Technol 43(3):173-181 (the "Kubios" method; NeuroKit2's
/// signal_fixpeaks(method="kubios")). Extra beats are removed, missed beats inserted half-way, ectopic and
/// long/short beats moved half-way between their neighbours. Repeated until nothing changes.
/// </summary>
public static class BeatArtifactCorrection
{
    private const double Alpha = 5.2, C1 = 0.13, C2 = 0.17;
    private const int WindowHalf = 45, MedianOrder = 11;

    public static int[] Correct(IReadOnlyList<int> peaks, SampleRate rate, out BeatCorrectionReport report, int maxIterations = 10)
    {
        var current = peaks.ToArray();
        int ect = 0, mis = 0, ext = 0, ls = 0, it = 0;
        for (; it < maxIterations; it++)
        {
            if (current.Length < 4) break;
            var a = Find(current, rate.Hertz);
            if (a.Extra.Count + a.Missed.Count + a.Ectopic.Count + a.LongShort.Count == 0) break;
            var next = Apply(current, a);
            ect += a.Ectopic.Count; mis += a.Missed.Count; ext += a.Extra.Count; ls += a.LongShort.Count;
            if (next.SequenceEqual(current)) break;
            current = next;
        }
        report = new BeatCorrectionReport(ect, mis, ext, ls, it);
        return current;
    }

    internal sealed record Artifacts(List<int> Ectopic, List<int> Missed, List<int> Extra, List<int> LongShort);

    internal static Artifacts Find(int[] peaks, double fs)
    {
        int n = peaks.Length;
        var rr = new double[n];
        for (int i = 1; i < n; i++) rr[i] = (peaks[i] - peaks[i - 1]) / fs;
        rr[0] = Mean(rr.AsSpan(1));
        var drrs = new double[n];
        for (int i = 1; i < n; i++) drrs[i] = rr[i] - rr[i - 1];
        drrs[0] = Mean(drrs.AsSpan(1));
        var th1 = Threshold(drrs);
        for (int i = 0; i < n; i++) drrs[i] = th1[i] > 0 ? drrs[i] / th1[i] : 0;

        double Pad(int i)
        {
            // numpy "reflect" padding (mirror without repeating the edge)
            if (i < 0) i = -i;
            if (i >= n) i = 2 * (n - 1) - i;
            return drrs[Math.Clamp(i, 0, n - 1)];
        }
        var s12 = new double[n]; var s22 = new double[n];
        for (int d = 0; d < n; d++)
        {
            if (drrs[d] > 0) s12[d] = Math.Max(Pad(d - 1), Pad(d + 1));
            else if (drrs[d] < 0) s12[d] = Math.Min(Pad(d - 1), Pad(d + 1));
            s22[d] = drrs[d] >= 0 ? Math.Min(Pad(d + 1), Pad(d + 2)) : Math.Max(Pad(d + 1), Pad(d + 2));
        }
        var medrr = RollingMedian(rr, MedianOrder);
        var mrrs = new double[n];
        for (int i = 0; i < n; i++) { mrrs[i] = rr[i] - medrr[i]; if (mrrs[i] < 0) mrrs[i] *= 2; }
        var th2 = Threshold(mrrs);
        for (int i = 0; i < n; i++) mrrs[i] = th2[i] > 0 ? mrrs[i] / th2[i] : 0;

        var res = new Artifacts(new(), new(), new(), new());
        int k = 0;
        while (k < n - 2)
        {
            if (Math.Abs(drrs[k]) <= 1) { k++; continue; }
            bool eq1 = drrs[k] > 1 && s12[k] < -C1 * drrs[k] - C2;
            bool eq2 = drrs[k] < -1 && s12[k] > -C1 * drrs[k] + C2;
            if (eq1 || eq2) { res.Ectopic.Add(k); k++; continue; }
            var candidates = new List<int> { k };
            if (Math.Abs(drrs[k + 1]) < Math.Abs(drrs[k + 2])) candidates.Add(k + 1);
            foreach (var j in candidates)
            {
                bool eq3 = drrs[j] > 1 && s22[j] < -1;
                bool eq4 = Math.Abs(mrrs[j]) > 3;
                bool eq5 = drrs[j] < -1 && s22[j] > 1;
                if (!(eq3 || eq4 || eq5)) { k++; continue; }
                bool eq6 = Math.Abs(rr[j] / 2 - medrr[j]) < th2[j];
                bool eq7 = j + 1 < n && Math.Abs(rr[j] + rr[j + 1] - medrr[j]) < th2[j];
                if (eq5 && eq7) { res.Extra.Add(j); k++; continue; }
                if (eq3 && eq6) { res.Missed.Add(j); k++; continue; }
                res.LongShort.Add(j);
                k++;
            }
        }
        return res;
    }

    private static int[] Apply(int[] peaks, Artifacts a)
    {
        var extra = a.Extra.Distinct().OrderBy(i => i).ToList();
        var missed = a.Missed.Distinct().OrderBy(i => i).ToList();
        var ectopic = a.Ectopic.Distinct().OrderBy(i => i).ToList();
        var longShort = a.LongShort.Distinct().OrderBy(i => i).ToList();
        var p = peaks.ToList();
        if (extra.Count > 0)
        {
            for (int e = extra.Count - 1; e >= 0; e--) if (extra[e] < p.Count) p.RemoveAt(extra[e]);
            missed = Shift(extra, missed, -1); ectopic = Shift(extra, ectopic, -1); longShort = Shift(extra, longShort, -1);
        }
        if (missed.Count > 0)
        {
            var valid = missed.Where(i => i > 1 && i < p.Count).ToList();
            var added = valid.Select(i => (int)(p[i - 1] + (p[i] - p[i - 1]) / 2.0)).ToList();
            for (int k = valid.Count - 1; k >= 0; k--) p.Insert(valid[k], added[k]);
            ectopic = Shift(missed, ectopic, 1); longShort = Shift(missed, longShort, 1);
        }
        if (ectopic.Count > 0) p = Misaligned(ectopic, p);
        if (longShort.Count > 0) p = Misaligned(longShort, p);
        return p.ToArray();
    }

    /// <summary>Moves each listed beat half-way between its neighbours (all at once, then re-sorted).</summary>
    private static List<int> Misaligned(List<int> idx, List<int> p)
    {
        var valid = idx.Where(i => i > 1 && i < p.Count - 1).ToList();
        var moved = valid.Select(i => (int)(p[i - 1] + (p[i + 1] - p[i - 1]) / 2.0)).ToList();
        var set = new HashSet<int>(valid);
        var res = new List<int>(p.Count);
        for (int i = 0; i < p.Count; i++) if (!set.Contains(i)) res.Add(p[i]);
        res.AddRange(moved);
        res.Sort();
        return res;
    }

    /// <summary>Index bookkeeping after beats were removed (-1) or inserted (+1) before them.</summary>
    private static List<int> Shift(List<int> source, List<int> update, int by)
    {
        var u = update.ToList();
        foreach (var s in source)
            for (int k = 0; k < u.Count; k++) if (u[k] > s) u[k] += by;
        return u.Distinct().OrderBy(i => i).ToList();
    }

    private static double Mean(ReadOnlySpan<double> x)
    {
        if (x.Length == 0) return 0;
        double s = 0; foreach (var v in x) s += v; return s / x.Length;
    }

    /// <summary>alpha x quartile deviation of |x| in a centred window of 2*45+1 beats (shrinking at the ends).</summary>
    private static double[] Threshold(double[] x)
    {
        int n = x.Length;
        var th = new double[n];
        var window = new SortedWindow(2 * WindowHalf + 1);
        int added = 0;
        for (int i = 0; i < n; i++)
        {
            int to = Math.Min(n - 1, i + WindowHalf), from = i - WindowHalf;
            while (added <= to) window.Add(Math.Abs(x[added++]));
            if (from - 1 >= 0) window.Remove(Math.Abs(x[from - 1]));
            th[i] = Alpha * (window.Quantile(0.75) - window.Quantile(0.25)) / 2;
        }
        return th;
    }

    internal static double Quantile(double[] sorted, int m, double q)
    {
        if (m == 1) return sorted[0];
        double pos = q * (m - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, m - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>
    /// Median of up to <paramref name="order"/> values centred on each beat; the window shrinks at the ends.
    /// (scipy.signal.medfilt, which NeuroKit uses, pads with zeros instead: the median of the first and last
    /// beats is then pulled towards zero and they look like long beats, which on a one-minute window moved
    /// 8-13 of 70 clean beats.)
    /// </summary>
    private static double[] RollingMedian(double[] x, int order)
    {
        int n = x.Length, half = order / 2;
        var res = new double[n];
        var window = new SortedWindow(order);
        int added = 0;
        for (int i = 0; i < n; i++)
        {
            int to = Math.Min(n - 1, i + half), from = i - half;
            while (added <= to) window.Add(x[added++]);
            if (from - 1 >= 0) window.Remove(x[from - 1]);
            res[i] = window.Quantile(0.5);
        }
        return res;
    }
}

/// <summary>A multiset kept sorted for rolling quantiles: O(log w) search plus an O(w) shift per update.</summary>
internal sealed class SortedWindow(int capacity)
{
    private readonly double[] _v = new double[capacity + 1];
    private int _count;

    public void Add(double value)
    {
        int i = Array.BinarySearch(_v, 0, _count, value);
        if (i < 0) i = ~i;
        Array.Copy(_v, i, _v, i + 1, _count - i);
        _v[i] = value;
        _count++;
    }

    public void Remove(double value)
    {
        int i = Array.BinarySearch(_v, 0, _count, value);
        if (i < 0) throw new InvalidOperationException("value not in window");
        Array.Copy(_v, i + 1, _v, i, _count - i - 1);
        _count--;
    }

    /// <summary>Quantile with linear interpolation (pandas/numpy default).</summary>
    public double Quantile(double q) => BeatArtifactCorrection.Quantile(_v, _count, q);
}
