using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Ecg;

public enum EcgCleaningMethod
{
    /// <summary>NeuroKit2 default: 0.5 Hz high-pass Butterworth (order 5, zero-phase) then a 50 Hz moving-average comb (Makowski et al. 2021).</summary>
    NeuroKit,
    /// <summary>Pan &amp; Tompkins (1985) band-pass, 5-15 Hz, first order, causal from steady state.</summary>
    PanTompkins1985,
}

/// <summary>ECG cleaning: baseline wander and mains removal before beat detection.</summary>
public static class EcgCleaner
{
    /// <param name="powerlineHertz">Mains frequency (50 or 60 Hz) for the NeuroKit comb.</param>
    public static double[] Clean(ReadOnlySpan<double> ecg, SampleRate rate, EcgCleaningMethod method = EcgCleaningMethod.NeuroKit, double powerlineHertz = 50)
    {
        switch (method)
        {
            case EcgCleaningMethod.NeuroKit:
                {
                    // Both zero-phase stages run in place on the one output array.
                    var y = ecg.ToArray();
                    Butterworth.Design(5, new FilterBand.HighPass(0.5), rate).FilterZeroPhaseInPlace(y);
                    MovingAverage.FilterZeroPhaseInPlace(y, PowerlineWidth(rate, powerlineHertz));
                    return y;
                }
            case EcgCleaningMethod.PanTompkins1985:
                {
                    double high = Math.Min(15, rate.NyquistHertz * 0.95);
                    return Butterworth.Design(1, new FilterBand.BandPass(5, high), rate).FilterCausalSteadyStart(ecg);
                }
            default: throw new ArgumentOutOfRangeException(nameof(method));
        }
    }

    /// <summary>Moving-average width whose nulls fall on the mains frequency (2 taps below 100 Hz, as NeuroKit).</summary>
    public static int PowerlineWidth(SampleRate rate, double powerlineHertz) =>
        rate.Hertz >= 100 ? Math.Max(1, (int)(rate.Hertz / powerlineHertz)) : 2;
}
