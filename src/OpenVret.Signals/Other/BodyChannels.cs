using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Other;

/// <summary>Skin temperature features: mean, SD and slope (°C per minute).</summary>
public static class SkinTemperature
{
    /// <summary>Plausible human skin temperature range (°C); values outside are sensor start-up or detachment.</summary>
    public const double MinPlausible = 15, MaxPlausible = 45;

    public static FeatureSet Features(ReadOnlySpan<double> celsius, SampleRate rate)
    {
        var f = new FeatureSet();
        var ok = new List<double>(celsius.Length);
        foreach (var v in celsius) if (double.IsFinite(v) && v >= MinPlausible && v <= MaxPlausible) ok.Add(v);
        int dropped = celsius.Length - ok.Count;
        if (ok.Count < 2)
        {
            foreach (var n in new[] { "TEMP_Mean", "TEMP_SD", "TEMP_Slope" })
                f.Missing(n, "implausible_temperature", $"{dropped} of {celsius.Length} samples outside {MinPlausible}-{MaxPlausible} °C or non-finite");
            return f;
        }
        if (dropped > 0) f.Flag(new QualityFlag("implausible_temperature", $"{dropped} samples outside {MinPlausible}-{MaxPlausible} °C were ignored"));
        var arr = ok.ToArray();
        f.Set("TEMP_Mean", arr.Average());
        f.Set("TEMP_SD", Hrv.HrvAnalysis.Sd(arr));
        f.Set("TEMP_Slope", Eda.EdaProcessing.Slope(arr, rate));
        return f;
    }
}

/// <summary>
/// Accelerometer: vector magnitude, activity counts (mean absolute deviation of the magnitude, in g, per
/// window; van Hees et al. 2013 PLoS ONE 8:e61691 style ENMO) and a motion flag for artefact rejection.
/// </summary>
public static class Accelerometer
{
    /// <summary>ENMO above this (g) marks a window as moving: cardiac and EDA features there are unreliable.</summary>
    public const double MotionThresholdG = 0.1;

    /// <summary>Magnitude in g of three axes given in <paramref name="unit"/>.</summary>
    public static double[] Magnitude(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> z, SignalUnit unit)
    {
        if (x.Length != y.Length || x.Length != z.Length)
            throw new SignalInputException("acc.axes", $"{x.Length}/{y.Length}/{z.Length}", "the three axes must have the same length");
        double scale = unit == SignalUnit.E4AccelerometerCount ? 1 / 64.0 : 1;
        var m = new double[x.Length];
        for (int i = 0; i < m.Length; i++) m[i] = Math.Sqrt(x[i] * x[i] + y[i] * y[i] + z[i] * z[i]) * scale;
        return m;
    }

    public static FeatureSet Features(ReadOnlySpan<double> magnitudeG)
    {
        var f = new FeatureSet();
        int n = 0; double mean = 0, enmo = 0;
        foreach (var v in magnitudeG) if (double.IsFinite(v)) { n++; mean += v; enmo += Math.Max(0, v - 1); }
        if (n < 2)
        {
            foreach (var name in new[] { "ACC_Magnitude_Mean", "ACC_Magnitude_SD", "ACC_ENMO", "ACC_Motion" })
                f.Missing(name, "no_data", "no finite accelerometer samples");
            return f;
        }
        mean /= n; enmo /= n;
        double ss = 0; foreach (var v in magnitudeG) if (double.IsFinite(v)) ss += (v - mean) * (v - mean);
        double sd = Math.Sqrt(ss / (n - 1));
        double mad = 0; foreach (var v in magnitudeG) if (double.IsFinite(v)) mad += Math.Abs(v - mean); mad /= n;
        f.Set("ACC_Magnitude_Mean", mean);
        f.Set("ACC_Magnitude_SD", sd);
        f.Set("ACC_ENMO", enmo);
        f.Set("ACC_ActivityCount", mad);
        f.Set("ACC_Motion", mad > MotionThresholdG || sd > MotionThresholdG ? 1 : 0);
        return f;
    }
}

/// <summary>EEG band power by Welch (2 s Hann windows, 50 % overlap), absolute (µV²) and relative to 1-45 Hz.</summary>
public static class EegBandPower
{
    public static readonly (string Name, double Low, double High)[] Bands =
    {
        ("Delta", 1, 4), ("Theta", 4, 8), ("Alpha", 8, 13), ("Beta", 13, 30), ("Gamma", 30, 45),
    };

    public static FeatureSet Features(ReadOnlySpan<double> eegMicrovolt, SampleRate rate, string prefix = "EEG")
    {
        var f = new FeatureSet();
        int nperseg = Math.Min(eegMicrovolt.Length, rate.SamplesIn(2));
        if (eegMicrovolt.Length < rate.SamplesIn(2))
        {
            foreach (var b in Bands) { f.Missing($"{prefix}_{b.Name}", "record_too_short", "EEG band power needs at least 2 s"); f.Missing($"{prefix}_{b.Name}_Relative", "record_too_short", "EEG band power needs at least 2 s"); }
            return f;
        }
        var (freq, psd) = Spectrum.Welch(eegMicrovolt, rate, nperseg);
        double total = Spectrum.BandPower(freq, psd, 1, Math.Min(45, rate.NyquistHertz));
        foreach (var b in Bands)
        {
            if (b.Low >= rate.NyquistHertz)
            {
                f.Missing($"{prefix}_{b.Name}", "rate_too_low", $"{b.Name} band lies above Nyquist ({rate.NyquistHertz} Hz)");
                f.Missing($"{prefix}_{b.Name}_Relative", "rate_too_low", $"{b.Name} band lies above Nyquist");
                continue;
            }
            double p = Spectrum.BandPower(freq, psd, b.Low, Math.Min(b.High, rate.NyquistHertz));
            f.Set($"{prefix}_{b.Name}", p);
            f.Set($"{prefix}_{b.Name}_Relative", p / total);
        }
        return f;
    }
}
