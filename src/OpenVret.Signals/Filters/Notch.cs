namespace OpenVret.Signals.Filters;

/// <summary>
/// Second-order IIR notch (Mitra, Digital Signal Processing, 4th ed., eq. 11.84; same design as
/// <c>scipy.signal.iirnotch</c>) for mains interference at 50 or 60 Hz.
/// </summary>
public static class Notch
{
    public static SosFilter Design(double hertz, double qualityFactor, SampleRate rate)
    {
        if (!(hertz > 0 && hertz < rate.NyquistHertz))
            throw new SignalInputException("notch.hertz", hertz.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"notch frequency must lie between 0 and Nyquist ({rate.NyquistHertz} Hz)");
        if (!(qualityFactor > 0))
            throw new SignalInputException("notch.qualityFactor", qualityFactor.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be > 0");
        double w0 = 2 * Math.PI * hertz / rate.Hertz;
        double bw = w0 / qualityFactor;
        double beta = Math.Tan(bw / 2);
        double gain = 1 / (1 + beta);
        // Build coefficients directly.
        double b0 = gain, b1 = -2 * gain * Math.Cos(w0), b2 = gain;
        double a1 = -2 * gain * Math.Cos(w0), a2 = 2 * gain - 1;
        return SosFilter.FromCoefficients(new[] { b0, b1, b2, a1, a2 });
    }
}
