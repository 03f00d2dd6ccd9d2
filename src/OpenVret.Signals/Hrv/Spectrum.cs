using System.Numerics;

namespace OpenVret.Signals;

/// <summary>Power spectral density estimators and band power.</summary>
public static class Spectrum
{
    /// <summary>
    /// Welch's averaged periodogram (Welch 1967), one-sided density, periodic Hann window, 50 % overlap, mean
    /// removed from the whole record first; same estimate as <c>scipy.signal.welch(detrend=False)</c> on the
    /// de-meaned input.
    /// </summary>
    public static (double[] Frequency, double[] Power) Welch(ReadOnlySpan<double> signal, SampleRate rate, int nperseg, int nfft = 0) =>
        Welch(signal, rate, nperseg, nfft, step: 0, segments: 0);

    /// <summary>Welch with an explicit hop between segments and segment count (0 = 50 % overlap, as many as fit).</summary>
    public static (double[] Frequency, double[] Power) Welch(ReadOnlySpan<double> signal, SampleRate rate, int nperseg, int nfft, int step, int segments)
    {
        int n = signal.Length;
        if (nperseg < 2) throw new SignalInputException("nperseg", nperseg.ToString(), "Welch segments need at least 2 samples");
        if (nperseg > n) nperseg = n;
        if (nfft < nperseg) nfft = nperseg;
        double mean = 0; foreach (var v in signal) mean += v; mean /= n;
        var w = new double[nperseg];
        double wss = 0;
        for (int i = 0; i < nperseg; i++) { w[i] = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / nperseg); wss += w[i] * w[i]; }
        if (step <= 0) step = nperseg - nperseg / 2;
        int fit = (n - nperseg) / step + 1;
        segments = segments <= 0 ? fit : Math.Min(segments, fit);
        int bins = nfft / 2 + 1;
        var acc = new double[bins];
        var buf = new Complex[nfft];
        // Two real segments per complex transform (one as the real part, the next as the imaginary part):
        // with Z = FFT(a + i b), A[k] = (Z[k] + conj Z[N-k]) / 2 and B[k] = (Z[k] - conj Z[N-k]) / 2i.
        for (int s = 0; s < segments; s += 2)
        {
            int offA = s * step, offB = (s + 1) * step;
            bool pair = s + 1 < segments;
            for (int i = 0; i < nperseg; i++)
                buf[i] = new Complex((signal[offA + i] - mean) * w[i], pair ? (signal[offB + i] - mean) * w[i] : 0);
            for (int i = nperseg; i < nfft; i++) buf[i] = Complex.Zero;
            Fft.Forward(buf);
            if (!pair)
            {
                for (int k = 0; k < bins; k++) acc[k] += buf[k].Real * buf[k].Real + buf[k].Imaginary * buf[k].Imaginary;
                continue;
            }
            for (int k = 0; k < bins; k++)
            {
                var z = buf[k]; var zc = Complex.Conjugate(buf[k == 0 ? 0 : nfft - k]);
                var a = (z + zc) * 0.5; var b = (z - zc) * 0.5;
                acc[k] += a.Real * a.Real + a.Imaginary * a.Imaginary + b.Real * b.Real + b.Imaginary * b.Imaginary;
            }
        }
        double scale = 1.0 / (rate.Hertz * wss) / segments;
        var freq = new double[bins];
        for (int k = 0; k < bins; k++)
        {
            acc[k] *= scale;
            if (k > 0 && !(nfft % 2 == 0 && k == bins - 1)) acc[k] *= 2;
            freq[k] = k * rate.Hertz / nfft;
        }
        return (freq, acc);
    }

    /// <summary>
    /// Lomb-Scargle periodogram of an unevenly sampled series (Lomb 1976; Scargle 1982), frequencies from
    /// 1/T to <paramref name="maxHertz"/> in steps of 1/(4T). Mean removed; power in squared input units.
    /// </summary>
    public static (double[] Frequency, double[] Power) LombScargle(ReadOnlySpan<double> t, ReadOnlySpan<double> y, double maxHertz)
    {
        int n = t.Length;
        double span = t[n - 1] - t[0];
        double df = 1 / (4 * span);
        int bins = (int)(maxHertz / df) + 1;
        double mean = 0; foreach (var v in y) mean += v; mean /= n;
        var freq = new double[bins]; var p = new double[bins];
        for (int k = 0; k < bins; k++)
        {
            double f = (k + 1) * df; freq[k] = f;
            double w = 2 * Math.PI * f;
            double s2 = 0, c2 = 0;
            for (int i = 0; i < n; i++) { s2 += Math.Sin(2 * w * t[i]); c2 += Math.Cos(2 * w * t[i]); }
            double tau = Math.Atan2(s2, c2) / (2 * w);
            double yc = 0, ys = 0, cc = 0, ss = 0;
            for (int i = 0; i < n; i++)
            {
                double arg = w * (t[i] - tau);
                double c = Math.Cos(arg), s = Math.Sin(arg), d = y[i] - mean;
                yc += d * c; ys += d * s; cc += c * c; ss += s * s;
            }
            p[k] = 0.5 * ((cc > 0 ? yc * yc / cc : 0) + (ss > 0 ? ys * ys / ss : 0));
        }
        return (freq, p);
    }

    /// <summary>Trapezoidal integral of the PSD over bins with low &lt;= f &lt; high; NaN when the band holds no bin.</summary>
    public static double BandPower(ReadOnlySpan<double> freq, ReadOnlySpan<double> psd, double low, double high)
    {
        double sum = 0; int count = 0; int prev = -1;
        for (int k = 0; k < freq.Length; k++)
        {
            if (freq[k] < low || freq[k] >= high) continue;
            if (prev >= 0) sum += 0.5 * (psd[k] + psd[prev]) * (freq[k] - freq[prev]);
            prev = k; count++;
        }
        return count == 0 || sum == 0 ? double.NaN : sum;
    }
}
