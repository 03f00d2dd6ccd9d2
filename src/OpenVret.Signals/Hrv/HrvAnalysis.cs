using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Hrv;

public enum HrvSpectrumMethod
{
    /// <summary>Welch periodogram of the evenly resampled NN series (Welch 1967; Task Force 1996), NeuroKit2's default.</summary>
    Welch,
    /// <summary>Lomb-Scargle periodogram of the uneven NN series, no resampling (Lomb 1976; Scargle 1982; Clifford &amp; Tarassenko 2005).</summary>
    LombScargle,
}

/// <summary>Options for HRV analysis. Defaults follow NeuroKit2 0.2.x so results are comparable.</summary>
public sealed record HrvOptions
{
    public HrvSpectrumMethod SpectrumMethod { get; init; } = HrvSpectrumMethod.Welch;
    /// <summary>
    /// Rate at which the NN series is resampled for Welch. 4 Hz is Kubios' choice; band powers up to 0.5 Hz
    /// do not depend on it (NeuroKit2 uses 100 Hz, which only costs time).
    /// </summary>
    public SampleRate InterpolationRate { get; init; } = new(4);
    public bool ComputeSampleEntropy { get; init; } = true;
    public int SampleEntropyDimension { get; init; } = 2;
    /// <summary>Tolerance as a fraction of the SD of the NN intervals (Richman &amp; Moorman 2000).</summary>
    public double SampleEntropyTolerance { get; init; } = 0.2;
}

/// <summary>A frequency band of the HRV spectrum.</summary>
public readonly record struct HrvBand(string Name, double LowHertz, double HighHertz)
{
    /// <summary>
    /// Shortest span of beats (s) for which the band's power is reported: 1 min for HF, 2 min for LF
    /// (Task Force 1996, sec. "Recording"), 5 min for VLF, 24 h for ULF.
    /// </summary>
    public double MinimumDurationSeconds { get; init; } = double.PositiveInfinity;
}

/// <summary>
/// Heart-rate variability from an inter-beat series: time domain, frequency domain and non-linear indices,
/// named as NeuroKit2 names them (HRV_MeanNN, HRV_RMSSD, HRV_LF...). References: Task Force of the ESC/NASPE
/// (1996) Circulation 93:1043-1065; Shaffer &amp; Ginsberg (2017) Front Public Health 5:258; Pham et al. (2021)
/// Sensors 21:3998.
/// </summary>
public static class HrvAnalysis
{
    public static readonly HrvBand[] Bands =
    {
        new("ULF", 0, 0.0033) { MinimumDurationSeconds = 86400 },
        new("VLF", 0.0033, 0.04) { MinimumDurationSeconds = 300 },
        new("LF", 0.04, 0.15) { MinimumDurationSeconds = 120 },
        new("HF", 0.15, 0.4) { MinimumDurationSeconds = 60 },
        new("VHF", 0.4, 0.5) { MinimumDurationSeconds = 60 },
    };

    /// <summary>All HRV domains.</summary>
    public static FeatureSet Compute(InterBeatIntervals nn, HrvOptions? options = null)
    {
        options ??= new HrvOptions();
        var f = Time(nn);
        f.AddRange(Frequency(nn, options));
        f.AddRange(Nonlinear(nn, options));
        return f;
    }

    public const int MinimumBeatsTime = 3;

    /// <summary>Time-domain indices (ms, %, bpm).</summary>
    public static FeatureSet Time(InterBeatIntervals nn)
    {
        var f = new FeatureSet();
        string[] names = { "HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_SDSD", "HRV_CVNN", "HRV_CVSD", "HRV_MedianNN", "HRV_MinNN", "HRV_MaxNN", "HRV_pNN50", "HRV_pNN20", "HR_Mean" };
        var x = nn.IntervalsMs;
        if (x.Length < MinimumBeatsTime)
        {
            foreach (var n in names) f.Missing(n, "too_few_beats", $"{x.Length} intervals; time-domain HRV needs at least {MinimumBeatsTime}");
            return f;
        }
        double mean = x.Average();
        double sdnn = Sd(x);
        double sumSq = 0, sumD = 0; int nn50 = 0, nn20 = 0;
        var d = new double[x.Length - 1];
        for (int i = 1; i < x.Length; i++)
        {
            double di = x[i] - x[i - 1];
            d[i - 1] = di; sumSq += di * di; sumD += di;
            if (Math.Abs(di) > 50) nn50++;
            if (Math.Abs(di) > 20) nn20++;
        }
        double rmssd = Math.Sqrt(sumSq / d.Length);
        var sorted = (double[])x.Clone(); Array.Sort(sorted);
        f.Set("HRV_MeanNN", mean);
        f.Set("HRV_SDNN", sdnn);
        f.Set("HRV_RMSSD", rmssd);
        f.Set("HRV_SDSD", Sd(d));
        f.Set("HRV_CVNN", sdnn / mean);
        f.Set("HRV_CVSD", rmssd / mean);
        f.Set("HRV_MedianNN", Median(sorted));
        f.Set("HRV_MinNN", sorted[0]);
        f.Set("HRV_MaxNN", sorted[^1]);
        // NeuroKit2 divides by the number of intervals (not of differences).
        f.Set("HRV_pNN50", 100.0 * nn50 / x.Length);
        f.Set("HRV_pNN20", 100.0 * nn20 / x.Length);
        f.Set("HR_Mean", 60000.0 / mean);
        return f;
    }

    /// <summary>Frequency-domain indices. HRV_ULF..HRV_VHF are on NeuroKit2's scale (PSD normalised to its maximum); HRV_*_ms2 are absolute powers in ms².</summary>
    public static FeatureSet Frequency(InterBeatIntervals nn, HrvOptions? options = null)
    {
        options ??= new HrvOptions();
        var f = new FeatureSet();
        double duration = nn.DurationSeconds;
        string[] derived = { "HRV_TP", "HRV_LFHF", "HRV_LFn", "HRV_HFn", "HRV_LnHF", "HRV_LF_ms2", "HRV_HF_ms2", "HRV_VLF_ms2" };
        if (nn.Count < 8 || duration < Bands.Min(b => b.MinimumDurationSeconds))
        {
            foreach (var b in Bands) f.Missing("HRV_" + b.Name, "record_too_short", $"{duration:0.#} s of beats; {b.Name} power needs {b.MinimumDurationSeconds:0} s");
            foreach (var n in derived) f.Missing(n, "record_too_short", $"{duration:0.#} s of beats is too short for spectral HRV");
            return f;
        }
        var (freq, psd, minHertz) = options.SpectrumMethod == HrvSpectrumMethod.LombScargle
            ? WithFloor(Spectrum.LombScargle(nn.TimesSeconds, nn.IntervalsMs, 0.5), 0)
            : WelchOnResampled(nn, options.InterpolationRate);
        double max = 0;
        foreach (var p in psd) if (p > max) max = p;
        var power = new Dictionary<string, double>();
        foreach (var b in Bands)
        {
            if (duration < b.MinimumDurationSeconds)
            {
                f.Missing("HRV_" + b.Name, "record_too_short", $"{duration:0.#} s of beats; {b.Name} power needs {b.MinimumDurationSeconds:0} s");
                continue;
            }
            double abs = Spectrum.BandPower(freq, psd, Math.Max(b.LowHertz, minHertz), b.HighHertz);
            power[b.Name] = abs;
            f.Set("HRV_" + b.Name, max > 0 ? abs / max : double.NaN);
        }
        double tp = power.Values.Where(double.IsFinite).Sum();
        double lf = power.GetValueOrDefault("LF", double.NaN), hf = power.GetValueOrDefault("HF", double.NaN);
        f.Set("HRV_TP", max > 0 ? tp / max : double.NaN);
        if (double.IsFinite(lf) && double.IsFinite(hf) && hf > 0) f.Set("HRV_LFHF", lf / hf);
        else f.Missing("HRV_LFHF", "record_too_short", "LF or HF power missing");
        f.Set("HRV_LFn", lf / tp);
        f.Set("HRV_HFn", hf / tp);
        f.Set("HRV_LnHF", Math.Log(hf / max));
        bool absolute = options.SpectrumMethod == HrvSpectrumMethod.Welch;
        f.Set("HRV_LF_ms2", absolute ? lf : double.NaN);
        f.Set("HRV_HF_ms2", absolute ? hf : double.NaN);
        f.Set("HRV_VLF_ms2", absolute ? power.GetValueOrDefault("VLF", double.NaN) : double.NaN);
        return f;
    }

    private static (double[] Freq, double[] Psd, double MinHertz) WithFloor((double[] F, double[] P) s, double min) => (s.F, s.P, min);

    private static (double[] Freq, double[] Psd, double MinHertz) WelchOnResampled(InterBeatIntervals nn, SampleRate rate)
    {
        var grid = Resampling.Grid(nn.TimesSeconds[0], nn.TimesSeconds[^1], rate);
        var y = Resampling.Interpolate(nn.TimesSeconds, nn.IntervalsMs, grid, Resampling.Method.QuadraticSpline);
        // NeuroKit2's default layout: Welch segments of half the record with 50 % overlap, FFT length twice
        // the segment, bins below 4/duration unused. NeuroKit lays the segments on a 100 Hz grid; we lay
        // segments of the same duration and count on our grid: the same estimate at a fraction of the cost.
        const double referenceHertz = 100;
        int nRef = (int)Math.Floor((nn.TimesSeconds[^1] - nn.TimesSeconds[0]) * referenceHertz + 1e-9) + 1;
        int npersegRef = nRef / 2, stepRef = npersegRef - npersegRef / 2;
        int segments = (nRef - npersegRef / 2) / stepRef;
        double scale = rate.Hertz / referenceHertz;
        int nperseg = Math.Max(2, (int)Math.Round(npersegRef * scale));
        int step = Math.Max(1, (int)Math.Round(stepRef * scale));
        var (f, p) = Spectrum.Welch(y, rate, nperseg, 2 * nperseg, step, segments);
        // NeuroKit keeps bins with f >= 4 fs / N evaluated in floating point on its own grid, so the first bin
        // kept is k = 4 or 5 depending on the record's length. Keep the same bins.
        int nfftRef = 2 * npersegRef;
        double minRef = 2 * referenceHertz / (nRef / 2.0);
        int firstBin = 0;
        while (firstBin / (nfftRef * (1.0 / referenceHertz)) < minRef) firstBin++;
        double floor = f.Length > 1 ? (firstBin - 0.5) * f[1] : 0;
        return (f, p, floor);
    }

    /// <summary>Non-linear indices: Poincaré SD1/SD2 (Brennan et al. 2001) and sample entropy (Richman &amp; Moorman 2000).</summary>
    public static FeatureSet Nonlinear(InterBeatIntervals nn, HrvOptions? options = null)
    {
        options ??= new HrvOptions();
        var f = new FeatureSet();
        var x = nn.IntervalsMs;
        if (x.Length < MinimumBeatsTime)
        {
            foreach (var n in new[] { "HRV_SD1", "HRV_SD2", "HRV_SD1SD2", "HRV_S", "HRV_CSI", "HRV_SampEn" })
                f.Missing(n, "too_few_beats", $"{x.Length} intervals; Poincaré indices need at least {MinimumBeatsTime}");
            return f;
        }
        var diff = new double[x.Length - 1];
        var sum = new double[x.Length - 1];
        for (int i = 0; i + 1 < x.Length; i++)
        {
            diff[i] = (x[i + 1] - x[i]) / Math.Sqrt(2);
            sum[i] = (x[i + 1] + x[i]) / Math.Sqrt(2);
        }
        double sd1 = Sd(diff), sd2 = Sd(sum);
        f.Set("HRV_SD1", sd1);
        f.Set("HRV_SD2", sd2);
        f.Set("HRV_SD1SD2", sd1 / sd2);
        f.Set("HRV_S", Math.PI * sd1 * sd2);
        f.Set("HRV_CSI", sd2 / sd1);
        if (options.ComputeSampleEntropy)
        {
            int m = options.SampleEntropyDimension;
            double r = options.SampleEntropyTolerance * Sd(x);
            var (value, matches) = SampleEntropy.Compute(x, m, r);
            if (double.IsFinite(value)) f.Set("HRV_SampEn", value);
            else f.Missing("HRV_SampEn", "undefined", $"{matches} template matches of length {m + 1}; sample entropy is undefined (record too short or too regular)");
        }
        return f;
    }

    internal static double Sd(ReadOnlySpan<double> x)
    {
        if (x.Length < 2) return double.NaN;
        double m = 0; foreach (var v in x) m += v; m /= x.Length;
        double s = 0; foreach (var v in x) s += (v - m) * (v - m);
        return Math.Sqrt(s / (x.Length - 1));
    }

    internal static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
