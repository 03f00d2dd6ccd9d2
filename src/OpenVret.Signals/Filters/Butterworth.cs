using System.Globalization;
using System.Numerics;

namespace OpenVret.Signals.Filters;

/// <summary>Pass band of a filter.</summary>
public abstract record FilterBand
{
    public sealed record LowPass(double CutoffHertz) : FilterBand;
    public sealed record HighPass(double CutoffHertz) : FilterBand;
    public sealed record BandPass(double LowHertz, double HighHertz) : FilterBand;
    public sealed record BandStop(double LowHertz, double HighHertz) : FilterBand;
}

/// <summary>
/// Digital Butterworth filter design as second-order sections: analog prototype poles, frequency
/// pre-warping and the bilinear transform (Butterworth 1930; Oppenheim &amp; Schafer, Discrete-Time Signal
/// Processing, 3rd ed., sec. 7.1). Same transfer function as <c>scipy.signal.butter(..., output="sos")</c>.
/// </summary>
public static class Butterworth
{
    // Designs are immutable and streaming asks for the same few every hop: keep them.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, FilterBand, double), SosFilter> Designs = new();

    public static SosFilter Design(int order, FilterBand band, SampleRate rate)
    {
        if (Designs.TryGetValue((order, band, rate.Hertz), out var cached)) return cached;
        var designed = DesignNew(order, band, rate);
        if (Designs.Count < 4096) Designs.TryAdd((order, band, rate.Hertz), designed);
        return designed;
    }

    private static SosFilter DesignNew(int order, FilterBand band, SampleRate rate)
    {
        if (order < 1 || order > 16)
            throw new SignalInputException("order", order.ToString(CultureInfo.InvariantCulture), "Butterworth order must be between 1 and 16");
        double fs = rate.Hertz;
        void CheckCut(string name, double f)
        {
            if (!double.IsFinite(f) || f <= 0 || f >= fs / 2)
                throw new SignalInputException(name, f.ToString(CultureInfo.InvariantCulture),
                    $"cut-off must lie strictly between 0 and the Nyquist frequency ({fs / 2} Hz at {rate})");
        }
        // Pre-warped analog frequencies (rad/s) for bilinear transform with fs2 = 2*fs.
        double fs2 = 2 * fs;
        double Warp(double f) => fs2 * Math.Tan(Math.PI * f / fs);

        // Analog low-pass prototype poles (cut-off 1 rad/s).
        var proto = new Complex[order];
        for (int k = 0; k < order; k++)
        {
            double theta = Math.PI * (2 * k + order + 1) / (2.0 * order);
            proto[k] = new Complex(Math.Cos(theta), Math.Sin(theta));
        }

        List<Complex> zA = new(), pA = new();
        double kA;
        switch (band)
        {
            case FilterBand.LowPass lp:
                {
                    CheckCut("lowpass.cutoffHertz", lp.CutoffHertz);
                    double wc = Warp(lp.CutoffHertz);
                    foreach (var p in proto) pA.Add(p * wc);
                    kA = Math.Pow(wc, order);
                    break;
                }
            case FilterBand.HighPass hp:
                {
                    CheckCut("highpass.cutoffHertz", hp.CutoffHertz);
                    double wc = Warp(hp.CutoffHertz);
                    foreach (var p in proto) pA.Add(wc / p);
                    for (int i = 0; i < order; i++) zA.Add(Complex.Zero);
                    Complex prod = Complex.One;
                    foreach (var p in proto) prod *= -p;
                    kA = (1 / prod).Real;
                    break;
                }
            case FilterBand.BandPass bp:
                {
                    CheckCut("bandpass.lowHertz", bp.LowHertz); CheckCut("bandpass.highHertz", bp.HighHertz);
                    if (bp.LowHertz >= bp.HighHertz)
                        throw new SignalInputException("bandpass", $"{bp.LowHertz}-{bp.HighHertz} Hz", "low edge must be below high edge");
                    double w1 = Warp(bp.LowHertz), w2 = Warp(bp.HighHertz);
                    double bw = w2 - w1, w0 = Math.Sqrt(w1 * w2);
                    foreach (var p in proto)
                    {
                        var pl = p * (bw / 2);
                        var root = Complex.Sqrt(pl * pl - w0 * w0);
                        pA.Add(pl + root); pA.Add(pl - root);
                    }
                    for (int i = 0; i < order; i++) zA.Add(Complex.Zero);
                    kA = Math.Pow(bw, order);
                    break;
                }
            case FilterBand.BandStop bs:
                {
                    CheckCut("bandstop.lowHertz", bs.LowHertz); CheckCut("bandstop.highHertz", bs.HighHertz);
                    if (bs.LowHertz >= bs.HighHertz)
                        throw new SignalInputException("bandstop", $"{bs.LowHertz}-{bs.HighHertz} Hz", "low edge must be below high edge");
                    double w1 = Warp(bs.LowHertz), w2 = Warp(bs.HighHertz);
                    double bw = w2 - w1, w0 = Math.Sqrt(w1 * w2);
                    foreach (var p in proto)
                    {
                        var ph = (bw / 2) / p;
                        var root = Complex.Sqrt(ph * ph - w0 * w0);
                        pA.Add(ph + root); pA.Add(ph - root);
                    }
                    for (int i = 0; i < order; i++) { zA.Add(new Complex(0, w0)); zA.Add(new Complex(0, -w0)); }
                    Complex prod = Complex.One;
                    foreach (var p in proto) prod *= -p;
                    kA = (1 / prod).Real;
                    break;
                }
            default: throw new ArgumentOutOfRangeException(nameof(band));
        }

        // Bilinear transform: s -> fs2 (z-1)/(z+1).
        var zD = zA.Select(z => (fs2 + z) / (fs2 - z)).ToList();
        var pD = pA.Select(p => (fs2 + p) / (fs2 - p)).ToList();
        int degree = pA.Count - zA.Count;
        for (int i = 0; i < degree; i++) zD.Add(new Complex(-1, 0));
        Complex num = Complex.One, den = Complex.One;
        foreach (var z in zA) num *= fs2 - z;
        foreach (var p in pA) den *= fs2 - p;
        double kD = kA * (num / den).Real;

        return SosFilter.FromZpk(zD, pD, kD);
    }
}
