using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Rsp;

/// <summary>Breath fiducials: inhalation peaks and exhalation troughs (sample indices, alternating).</summary>
public sealed record Breaths(int[] Peaks, int[] Troughs);

public enum DerivedRespirationSource
{
    /// <summary>Beat-to-beat amplitude of the R-peak / systolic peak (Moody et al. 1985, Computers in Cardiology 12:113).</summary>
    BeatAmplitude,
    /// <summary>Respiratory sinus arrhythmia: the inter-beat interval series (Schäfer &amp; Kratky 2008, Ann Biomed Eng 36:476).</summary>
    BeatInterval,
}

/// <summary>
/// Respiration from a belt (or any breathing waveform): 0.05-3 Hz band-pass (Butterworth order 2, zero-phase),
/// extrema between zero crossings, then removal of breaths smaller than 30 % of the median amplitude
/// (Khodadad et al. 2018, Physiol Meas 39:115008; NeuroKit2's "khodadad2018").
/// </summary>
public static class RespirationProcessing
{
    public static double[] Clean(ReadOnlySpan<double> rsp, SampleRate rate)
    {
        double high = Math.Min(3, rate.NyquistHertz * 0.9);
        return Butterworth.Design(2, new FilterBand.BandPass(0.05, high), rate).FilterZeroPhase(rsp);
    }

    public static Breaths DetectBreaths(ReadOnlySpan<double> clean, double relativeAmplitudeMin = 0.3)
    {
        int n = clean.Length;
        double mean = 0; foreach (var v in clean) mean += v; mean /= Math.Max(1, n);
        var crossings = new List<int>();
        for (int i = 1; i < n; i++)
            if ((clean[i - 1] - mean) * (clean[i] - mean) < 0 || (clean[i] == mean && clean[i - 1] != mean)) crossings.Add(i);
        // One extremum between each pair of crossings: a maximum above the mean, a minimum below.
        var ext = new List<(int Index, bool IsPeak)>();
        for (int c = 0; c + 1 < crossings.Count; c++)
        {
            int a = crossings[c], b = crossings[c + 1];
            bool above = clean[(a + b) / 2] > mean;
            int best = a;
            for (int i = a; i < b; i++)
                if (above ? clean[i] > clean[best] : clean[i] < clean[best]) best = i;
            ext.Add((best, above));
        }
        // Remove shallow breaths: each pass takes the median excursion once, drops every excursion below
        // the threshold (a peak-trough pair), then merges neighbours of the same kind; until none is left.
        while (ext.Count > 3)
        {
            var amps = new double[ext.Count - 1];
            for (int i = 0; i + 1 < ext.Count; i++) amps[i] = Math.Abs(clean[ext[i].Index] - clean[ext[i + 1].Index]);
            var sorted = (double[])amps.Clone(); Array.Sort(sorted);
            double threshold = relativeAmplitudeMin * sorted[sorted.Length / 2];
            var drop = new bool[ext.Count];
            bool any = false;
            for (int i = 0; i < amps.Length; i++)
                if (amps[i] < threshold && !drop[i]) { drop[i] = drop[i + 1] = true; any = true; i++; }
            if (!any) break;
            var kept = new List<(int Index, bool IsPeak)>(ext.Count);
            for (int i = 0; i < ext.Count; i++)
            {
                if (drop[i]) continue;
                if (kept.Count > 0 && kept[^1].IsPeak == ext[i].IsPeak)
                {
                    // Same kind twice in a row: keep the more extreme one.
                    bool later = ext[i].IsPeak ? clean[ext[i].Index] > clean[kept[^1].Index] : clean[ext[i].Index] < clean[kept[^1].Index];
                    if (later) kept[^1] = ext[i];
                    continue;
                }
                kept.Add(ext[i]);
            }
            ext = kept;
        }
        return new Breaths(ext.Where(e => e.IsPeak).Select(e => e.Index).ToArray(), ext.Where(e => !e.IsPeak).Select(e => e.Index).ToArray());
    }

    /// <summary>Rate (breaths/min from trough-to-trough intervals), amplitude and variability of breathing.</summary>
    public static FeatureSet Features(ReadOnlySpan<double> clean, Breaths breaths, SampleRate rate)
    {
        var f = new FeatureSet();
        var t = breaths.Troughs;
        if (t.Length < 2)
        {
            foreach (var n in new[] { "RSP_Rate_Mean", "RSP_Rate_SD", "RSP_Amplitude_Mean" })
                f.Missing(n, "too_few_breaths", $"{t.Length} breath(s) detected; need at least 2");
            return f;
        }
        var rates = new double[t.Length - 1];
        for (int i = 1; i < t.Length; i++) rates[i - 1] = 60 * rate.Hertz / (t[i] - t[i - 1]);
        f.Set("RSP_Rate_Mean", 60 * rate.Hertz * (t.Length - 1) / (t[^1] - t[0]));
        f.Set("RSP_Rate_SD", Hrv.HrvAnalysis.Sd(rates));
        var amps = new List<double>();
        foreach (var p in breaths.Peaks)
        {
            int idx = Array.BinarySearch(t, p); if (idx < 0) idx = ~idx;
            if (idx > 0) amps.Add(clean[p] - clean[t[idx - 1]]);
        }
        if (amps.Count > 0) f.Set("RSP_Amplitude_Mean", amps.Average());
        else f.Missing("RSP_Amplitude_Mean", "too_few_breaths", "no complete inhalation");
        return f;
    }

    /// <summary>
    /// Respiration rate derived from beats (ECG R-peaks or PPG systolic peaks): the chosen beat series is
    /// resampled at 4 Hz, band-passed 0.1-0.5 Hz (6-30 breaths/min) and its breaths counted as above.
    /// </summary>
    /// <param name="beats">Beat sample indices at <paramref name="rate"/>.</param>
    /// <param name="amplitudes">The cleaned signal's value at each beat (used by <see cref="DerivedRespirationSource.BeatAmplitude"/>).</param>
    public static FeatureSet DerivedRate(IReadOnlyList<int> beats, IReadOnlyList<double> amplitudes, SampleRate rate,
        DerivedRespirationSource source = DerivedRespirationSource.BeatAmplitude)
    {
        var f = new FeatureSet();
        const string name = "RSP_Rate_Derived";
        if (beats.Count < 8)
        {
            f.Missing(name, "too_few_beats", $"{beats.Count} beats; derived respiration needs at least 8");
            return f;
        }
        var t = new double[beats.Count - 1]; var y = new double[beats.Count - 1];
        for (int i = 1; i < beats.Count; i++)
        {
            t[i - 1] = beats[i] / rate.Hertz;
            y[i - 1] = source == DerivedRespirationSource.BeatAmplitude ? amplitudes[i] : (beats[i] - beats[i - 1]) / rate.Hertz;
        }
        var r4 = new SampleRate(4);
        var grid = Resampling.Grid(t[0], t[^1], r4);
        double duration = grid.Length / 4.0;
        if (duration < 20)
        {
            f.Missing(name, "record_too_short", $"{duration:0.#} s of beats; derived respiration needs 20 s");
            return f;
        }
        var series = Resampling.Interpolate(t, y, grid, Resampling.Method.CubicSpline);
        var band = Butterworth.Design(2, new FilterBand.BandPass(0.1, 0.5), r4);
        if (series.Length <= band.PadLength + 1)
        {
            f.Missing(name, "record_too_short", "too few beats for the respiration band-pass");
            return f;
        }
        var resp = band.FilterZeroPhase(series);
        var breaths = DetectBreaths(resp);
        var feats = Features(resp, breaths, r4);
        double v = feats["RSP_Rate_Mean"];
        if (double.IsFinite(v)) f.Set(name, v);
        else f.Missing(name, "too_few_breaths", "no breathing cycle found in the beat series");
        return f;
    }
}
