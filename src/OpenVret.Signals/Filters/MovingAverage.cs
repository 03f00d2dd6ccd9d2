namespace OpenVret.Signals.Filters;

/// <summary>Moving-average (boxcar) filters and smoothing.</summary>
public static class MovingAverage
{
    /// <summary>
    /// Zero-phase moving average of <paramref name="width"/> taps (forward-backward, odd padding of 3*width
    /// samples, steady-state start), as <c>scipy.signal.filtfilt(ones(w)/w, 1, x)</c>. NeuroKit2 uses it as
    /// its "powerline" filter with width fs/50 (a comb with nulls at 50 Hz and its harmonics).
    /// </summary>
    public static double[] FilterZeroPhase(ReadOnlySpan<double> x, int width)
    {
        if (width < 1) throw new SignalInputException("width", width.ToString(), "moving-average width must be at least 1");
        if (width == 1) return x.ToArray();
        int n = x.Length;
        int pad = 3 * width;
        if (n <= pad) throw new SignalInputException("signal.length", n.ToString(), $"zero-phase moving average of width {width} needs more than {pad} samples");
        var ext = new double[n + 2 * pad];
        double x0 = x[0], xn = x[n - 1];
        for (int i = 0; i < pad; i++) ext[i] = 2 * x0 - x[pad - i];
        x.CopyTo(ext.AsSpan(pad));
        for (int i = 0; i < pad; i++) ext[pad + n + i] = 2 * xn - x[n - 2 - i];
        CausalFromSteadyState(ext, width);
        Array.Reverse(ext);
        CausalFromSteadyState(ext, width);
        Array.Reverse(ext);
        return ext.AsSpan(pad, n).ToArray();
    }

    /// <summary>Causal boxcar mean in place; samples before the start are taken equal to the first sample.</summary>
    internal static void CausalFromSteadyState(Span<double> y, int width)
    {
        // y[i] = mean(x[i-w+1..i]) with x[k<0] = x[0]; running sum with a small circular history.
        var hist = width <= 256 ? stackalloc double[width] : new double[width];
        double first = y[0];
        hist.Fill(first);
        double sum = first * width;
        int h = 0;
        double inv = 1.0 / width;
        // Compensated running sum keeps long records exact to rounding.
        double comp = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double xi = y[i];
            double delta = xi - hist[h] - comp;
            double t = sum + delta;
            comp = (t - sum) - delta;
            sum = t;
            hist[h] = xi;
            h++; if (h == width) h = 0;
            y[i] = sum * inv;
        }
    }

    /// <summary>
    /// Centred boxcar smoothing with edge extension by the first/last sample, as NeuroKit2's
    /// <c>signal_smooth(kernel="boxcar")</c> (np.convolve "same" on the extended signal).
    /// </summary>
    public static double[] SmoothCentered(ReadOnlySpan<double> x, int size)
    {
        int n = x.Length;
        var y = new double[n];
        if (n == 0) return y;
        if (size <= 1) { x.CopyTo(y); return y; }
        // Output k averages x[k - back .. k + fwd] with back = size - 1 - (size-1)/2, fwd = (size-1)/2.
        int fwd = (size - 1) / 2, back = size - 1 - fwd;
        double first = x[0], last = x[n - 1];
        double At(ReadOnlySpan<double> s, int i) => i < 0 ? first : i >= n ? last : s[i];
        double sum = 0;
        for (int i = -back; i <= fwd; i++) sum += At(x, i);
        double inv = 1.0 / size;
        y[0] = sum * inv;
        for (int k = 1; k < n; k++)
        {
            sum += At(x, k + fwd) - At(x, k - 1 - back);
            y[k] = sum * inv;
        }
        return y;
    }
}
