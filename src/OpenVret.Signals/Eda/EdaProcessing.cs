using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Eda;

/// <summary>One skin-conductance response.</summary>
public sealed record Scr(int? Onset, int Peak, int? HalfRecovery, double AmplitudeMicrosiemens, double HeightMicrosiemens, double RiseTimeSeconds, double? RecoveryTimeSeconds);

/// <summary>Tonic/phasic split of a cleaned EDA signal.</summary>
public sealed record EdaDecomposition(double[] Clean, double[] Tonic, double[] Phasic);

/// <summary>
/// Electrodermal activity: cleaning, tonic/phasic decomposition and SCR detection with NeuroKit2's
/// defaults (Makowski et al. 2021): 3 Hz low-pass (order 4, skipped at 6 Hz or less); tonic = 0.05 Hz
/// low-pass, phasic = 0.05 Hz high-pass (Butterworth order 2, zero-phase; the high-pass method reviewed by
/// Boucsein 2012, Electrodermal Activity, 2nd ed.); SCR peaks are phasic maxima of at least 10 % of the
/// largest one, onsets the preceding local minima, half-recovery the first return below 50 % of the amplitude.
/// </summary>
public static class EdaProcessing
{
    public const double DecompositionCutoffHertz = 0.05;

    public static double[] Clean(ReadOnlySpan<double> eda, SampleRate rate)
    {
        if (rate.Hertz <= 6) return eda.ToArray();
        return Butterworth.Design(4, new FilterBand.LowPass(3), rate).FilterZeroPhase(eda);
    }

    public static EdaDecomposition Decompose(ReadOnlySpan<double> clean, SampleRate rate)
    {
        var phasic = Butterworth.Design(2, new FilterBand.HighPass(DecompositionCutoffHertz), rate).FilterZeroPhase(clean);
        var tonic = Butterworth.Design(2, new FilterBand.LowPass(DecompositionCutoffHertz), rate).FilterZeroPhase(clean);
        return new EdaDecomposition(clean.ToArray(), tonic, phasic);
    }

    /// <param name="relativeAmplitudeMin">Minimum peak prominence as a fraction of the most prominent phasic peak (NeuroKit: 0.1).</param>
    /// <param name="absoluteAmplitudeMin">Minimum SCR amplitude in µS (0.01 µS, Boucsein 2012); NeuroKit has none, so a flat record yields a response from filter ripple.</param>
    public static List<Scr> DetectScrs(ReadOnlySpan<double> phasic, SampleRate rate, double relativeAmplitudeMin = 0.1, double recoveryFraction = 0.5, double absoluteAmplitudeMin = 0.01)
    {
        var peaks = PeakFinding.LocalMaxima(phasic);
        var result = new List<Scr>();
        if (peaks.Count == 0) return result;
        var prominence = new double[peaks.Count];
        double maxProminence = 0;
        for (int i = 0; i < peaks.Count; i++)
        {
            prominence[i] = PeakFinding.Prominence(phasic, peaks[i], 0, phasic.Length);
            maxProminence = Math.Max(maxProminence, prominence[i]);
        }
        if (!(maxProminence > 0)) return result;
        var troughs = PeakFinding.LocalMinima(phasic);
        var kept = new List<(int Peak, int? Onset)>();
        for (int i = 0; i < peaks.Count; i++)
        {
            int p = peaks[i];
            if (prominence[i] / maxProminence < relativeAmplitudeMin || prominence[i] < absoluteAmplitudeMin) continue;
            // Onset: last local minimum strictly before the peak (none for a response already rising at the start).
            int idx = troughs.BinarySearch(p);
            if (idx < 0) idx = ~idx;
            kept.Add((p, idx == 0 ? null : troughs[idx - 1]));
        }
        for (int k = 0; k < kept.Count; k++)
        {
            var (peak, onsetOrNull) = kept[k];
            if (onsetOrNull is not int onset)
            {
                result.Add(new Scr(null, peak, null, double.NaN, phasic[peak], double.NaN, null));
                continue;
            }
            double amp = phasic[peak] - phasic[onset];
            double target = phasic[onset] + amp * recoveryFraction;
            int end = k + 1 < kept.Count && kept[k + 1].Onset is int nextOnset && nextOnset > peak ? nextOnset : phasic.Length;
            // Search up to the segment minimum so the next rise is never picked.
            int argMin = peak; double min = phasic[peak];
            for (int i = peak; i < end; i++) if (phasic[i] < min) { min = phasic[i]; argMin = i; }
            int? recovery = null;
            if (min < target)
                for (int i = peak; i < argMin; i++)
                    if (phasic[i] <= target) { recovery = i; break; }
            result.Add(new Scr(onset, peak, recovery, amp, phasic[peak], (peak - onset) / rate.Hertz,
                recovery is int r ? (r - peak) / rate.Hertz : null));
        }
        return result;
    }

    /// <summary>Window features: SCL mean/SD/slope (tonic), SCR count, rate, amplitude, rise and recovery times.</summary>
    public static FeatureSet Features(EdaDecomposition d, List<Scr> scrs, SampleRate rate)
    {
        var f = new FeatureSet();
        int n = d.Tonic.Length;
        double duration = n / rate.Hertz;
        f.Set("SCL_Mean", d.Tonic.Average());
        f.Set("SCL_SD", Hrv.HrvAnalysis.Sd(d.Tonic));
        f.Set("SCL_Slope", Slope(d.Tonic, rate));
        f.Set("EDA_Phasic_SD", Hrv.HrvAnalysis.Sd(d.Phasic));
        f.Set("SCR_Peaks_N", scrs.Count);
        f.Set("SCR_Rate", scrs.Count / duration * 60);
        if (scrs.Count > 0)
        {
            var withOnset = scrs.Where(s => s.Onset.HasValue).ToList();
            f.Set("SCR_Peaks_Amplitude_Mean", withOnset.Count > 0 ? withOnset.Average(s => s.AmplitudeMicrosiemens) : double.NaN);
            f.Set("SCR_RiseTime_Mean", withOnset.Count > 0 ? withOnset.Average(s => s.RiseTimeSeconds) : double.NaN);
            var rec = scrs.Where(s => s.RecoveryTimeSeconds.HasValue).Select(s => s.RecoveryTimeSeconds!.Value).ToList();
            if (rec.Count > 0) f.Set("SCR_RecoveryTime_Mean", rec.Average());
            else f.Missing("SCR_RecoveryTime_Mean", "no_recovery", "no SCR recovered to half amplitude inside the record");
        }
        else
        {
            foreach (var name in new[] { "SCR_Peaks_Amplitude_Mean", "SCR_RiseTime_Mean", "SCR_RecoveryTime_Mean" })
                f.Missing(name, "no_scr", "no skin-conductance response in the record");
        }
        return f;
    }

    /// <summary>Least-squares slope per minute.</summary>
    public static double Slope(ReadOnlySpan<double> y, SampleRate rate)
    {
        int n = y.Length;
        if (n < 2) return double.NaN;
        double mx = (n - 1) / 2.0, my = 0;
        foreach (var v in y) my += v; my /= n;
        double sxy = 0, sxx = 0;
        for (int i = 0; i < n; i++) { sxy += (i - mx) * (y[i] - my); sxx += (i - mx) * (i - mx); }
        return sxy / sxx * rate.Hertz * 60;
    }
}
