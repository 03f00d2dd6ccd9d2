using System.Numerics.Tensors;

namespace OpenVret.Signals.Ecg;

/// <summary>
/// Template-matching signal quality: each beat's Pearson correlation with the average beat template,
/// the approach of Orphanidou et al. (2015), IEEE J Biomed Health Inform 19(3):832-838, used for ECG and PPG.
/// 1 = identical morphology; below about 0.66 a beat is unreliable.
/// </summary>
public static class BeatQuality
{
    public const double AcceptableCorrelation = 0.66;

    /// <summary>Per-beat correlation with the average template (NaN where the window leaves the signal).</summary>
    public static double[] PerBeat(ReadOnlySpan<double> cleaned, IReadOnlyList<int> beats, SampleRate rate)
    {
        var q = new double[beats.Count];
        Array.Fill(q, double.NaN);
        if (beats.Count < 3) return q;
        // Window: half the median inter-beat interval either side of the fiducial point.
        var ibis = new double[beats.Count - 1];
        for (int i = 1; i < beats.Count; i++) ibis[i - 1] = beats[i] - beats[i - 1];
        Array.Sort(ibis);
        int half = Math.Max(2, (int)(ibis[ibis.Length / 2] / 2));
        int width = 2 * half + 1;
        var usable = new List<int>();
        for (int b = 0; b < beats.Count; b++)
            if (beats[b] - half >= 0 && beats[b] + half < cleaned.Length) usable.Add(b);
        if (usable.Count < 3) return q;
        // Average template (Orphanidou et al. 2015), centred once: then each beat's correlation needs only its
        // own mean, its sum of squares and one dot product (SIMD, System.Numerics.Tensors).
        var template = new double[width];
        foreach (var b in usable) TensorPrimitives.Add(template, cleaned.Slice(beats[b] - half, width), template);
        TensorPrimitives.Divide(template, usable.Count, template);
        TensorPrimitives.Subtract(template, TensorPrimitives.Sum(template) / width, template);
        double tt = TensorPrimitives.Dot(template, template);
        foreach (var b in usable)
            q[b] = Correlation(cleaned.Slice(beats[b] - half, width), template, tt);
        return q;
    }

    /// <summary>Pearson correlation of <paramref name="a"/> with a zero-mean template whose sum of squares is <paramref name="tt"/>.</summary>
    private static double Correlation(ReadOnlySpan<double> a, ReadOnlySpan<double> centredTemplate, double tt)
    {
        int w = a.Length;
        double ma = TensorPrimitives.Sum(a) / w;
        double aa = TensorPrimitives.Dot(a, a);
        double saa = aa - w * ma * ma; // a beat window's mean is small beside its QRS/pulse: no real cancellation
        if (!(saa > 1e-12 * aa) || !(tt > 0)) return 0;
        // sum (a - ma)(t - 0) = sum a t, because the template sums to zero.
        return TensorPrimitives.Dot(a, centredTemplate) / Math.Sqrt(saa * tt);
    }

    /// <summary>Mean of the finite per-beat values (NaN if none).</summary>
    public static double Mean(double[] perBeat)
    {
        double s = 0; int n = 0;
        foreach (var v in perBeat) if (double.IsFinite(v)) { s += v; n++; }
        return n > 0 ? s / n : double.NaN;
    }
}
