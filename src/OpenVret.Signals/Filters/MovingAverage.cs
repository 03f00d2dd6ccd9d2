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
        var y = new double[x.Length];
        FilterZeroPhase(x, width, y);
        return y;
    }

    /// <summary>Zero-phase moving average into <paramref name="destination"/> (same length as the input).</summary>
    public static void FilterZeroPhase(ReadOnlySpan<double> x, int width, Span<double> destination)
    {
        if (width < 1) throw new SignalInputException("width", width.ToString(), "moving-average width must be at least 1");
        x.CopyTo(destination);
        FilterZeroPhaseInPlace(destination, width);
    }

    /// <summary>Odd-extension padding used by the zero-phase moving average (scipy's 3 x taps).</summary>
    public static int PadLength(int width) => width <= 1 ? 0 : 3 * width;

    /// <summary>Zero-phase moving average in place (pads in small side buffers, state carried across them).</summary>
    public static void FilterZeroPhaseInPlace(Span<double> y, int width)
    {
        if (width < 1) throw new SignalInputException("width", width.ToString(), "moving-average width must be at least 1");
        if (width == 1) return;
        int n = y.Length, pad = PadLength(width);
        if (n <= pad) throw new SignalInputException("signal.length", n.ToString(), $"zero-phase moving average of width {width} needs more than {pad} samples");
        var left = new double[pad]; var right = new double[pad];
        double y0 = y[0], yn = y[n - 1];
        for (int i = 0; i < pad; i++) { left[i] = 2 * y0 - y[pad - i]; right[i] = 2 * yn - y[n - 2 - i]; }
        var box = new Boxcar(width, left[0]);
        box.Forward(left); box.Forward(y); box.Forward(right);
        box = new Boxcar(width, right[^1]);
        box.Backward(right); box.Backward(y); box.Backward(left);
    }

    /// <summary>
    /// Causal boxcar mean that can run over consecutive spans, starting at the steady state of a first value.
    /// The running sum is recomputed exactly every 64k samples so rounding cannot drift on long records.
    /// </summary>
    private sealed class Boxcar(int width, double first)
    {
        private readonly double[] _history = Enumerable.Repeat(first, width).ToArray();
        private double _sum = first * width;
        private int _h;
        private long _k;

        public void Forward(Span<double> y)
        {
            var hist = _history; double sum = _sum, inv = 1.0 / hist.Length; int h = _h; long k = _k;
            for (int i = 0; i < y.Length; i++)
            {
                double v = y[i];
                sum += v - hist[h]; hist[h] = v;
                if (++h == hist.Length) h = 0;
                if ((++k & 0xFFFF) == 0) { sum = 0; foreach (var u in hist) sum += u; }
                y[i] = sum * inv;
            }
            _sum = sum; _h = h; _k = k;
        }

        public void Backward(Span<double> y)
        {
            var hist = _history; double sum = _sum, inv = 1.0 / hist.Length; int h = _h; long k = _k;
            for (int i = y.Length - 1; i >= 0; i--)
            {
                double v = y[i];
                sum += v - hist[h]; hist[h] = v;
                if (++h == hist.Length) h = 0;
                if ((++k & 0xFFFF) == 0) { sum = 0; foreach (var u in hist) sum += u; }
                y[i] = sum * inv;
            }
            _sum = sum; _h = h; _k = k;
        }
    }

    /// <summary>
    /// Centred boxcar smoothing with edge extension by the first/last sample, as NeuroKit2's
    /// <c>signal_smooth(kernel="boxcar")</c> (np.convolve "same" on the extended signal).
    /// </summary>
    public static double[] SmoothCentered(ReadOnlySpan<double> x, int size)
    {
        var y = new double[x.Length];
        SmoothCentered(x, size, y);
        return y;
    }

    /// <summary>Centred smoothing into <paramref name="y"/> (same length; may not overlap the input).</summary>
    public static void SmoothCentered(ReadOnlySpan<double> x, int size, Span<double> y)
    {
        int n = x.Length;
        if (n == 0) return;
        if (size <= 1) { x.CopyTo(y); return; }
        // Output k averages x[k - back .. k + fwd]; indices outside the signal take the edge values.
        int fwd = (size - 1) / 2, back = size - 1 - fwd;
        double first = x[0], last = x[n - 1];
        double At(ReadOnlySpan<double> s, int i) => i < 0 ? first : i >= n ? last : s[i];
        double sum = 0;
        for (int i = -back; i <= fwd; i++) sum += At(x, i);
        double inv = 1.0 / size;
        y[0] = sum * inv;
        // Interior: the entering and leaving indices both lie inside the signal, so no edge tests.
        int interiorFrom = Math.Max(1, back + 1), interiorTo = n - 1 - fwd;
        int k = 1;
        for (; k < n && k < interiorFrom; k++) { sum += At(x, k + fwd) - At(x, k - 1 - back); y[k] = sum * inv; }
        for (; k <= interiorTo; k++) { sum += x[k + fwd] - x[k - 1 - back]; y[k] = sum * inv; }
        for (; k < n; k++) { sum += At(x, k + fwd) - At(x, k - 1 - back); y[k] = sum * inv; }
    }
}
