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

    /// <summary>Zero-phase moving average into <paramref name="destination"/> (same length; may not overlap the input).</summary>
    public static void FilterZeroPhase(ReadOnlySpan<double> x, int width, Span<double> destination)
    {
        if (width < 1) throw new SignalInputException("width", width.ToString(), "moving-average width must be at least 1");
        int n = x.Length;
        if (width == 1) { x.CopyTo(destination); return; }
        int pad = 3 * width;
        if (n <= pad) throw new SignalInputException("signal.length", n.ToString(), $"zero-phase moving average of width {width} needs more than {pad} samples");
        int len = n + 2 * pad;
        var pool = System.Buffers.ArrayPool<double>.Shared;
        var a = pool.Rent(len); var b = pool.Rent(len);
        try
        {
            var ext = a.AsSpan(0, len);
            double x0 = x[0], xn = x[n - 1];
            for (int i = 0; i < pad; i++) ext[i] = 2 * x0 - x[pad - i];
            x.CopyTo(ext[pad..]);
            for (int i = 0; i < pad; i++) ext[pad + n + i] = 2 * xn - x[n - 2 - i];
            var fwd = b.AsSpan(0, len);
            BoxcarForward(ext, fwd, width);
            BoxcarBackward(fwd, ext, width);
            ext.Slice(pad, n).CopyTo(destination);
        }
        finally { pool.Return(a); pool.Return(b); }
    }

    /// <summary>
    /// Causal boxcar mean (samples before the start equal the first one: steady state). The running sum is
    /// recomputed exactly at the start of every 64k-sample block so rounding cannot drift on long records.
    /// </summary>
    private static void BoxcarForward(ReadOnlySpan<double> src, Span<double> dst, int width)
    {
        int n = src.Length;
        double first = src[0], inv = 1.0 / width, sum = first * width;
        int head = Math.Min(width, n);
        for (int i = 0; i < head; i++) { sum += src[i] - first; dst[i] = sum * inv; }
        const int block = 1 << 16;
        for (int from = head; from < n; from += block)
        {
            sum = 0;
            for (int j = from - width; j < from; j++) sum += src[j];
            int to = Math.Min(n, from + block);
            for (int i = from; i < to; i++) { sum += src[i] - src[i - width]; dst[i] = sum * inv; }
        }
    }

    /// <summary>The same boxcar run from the last sample towards the first (anti-causal).</summary>
    private static void BoxcarBackward(ReadOnlySpan<double> src, Span<double> dst, int width)
    {
        int n = src.Length;
        double first = src[n - 1], inv = 1.0 / width, sum = first * width;
        int head = Math.Min(width, n);
        for (int k = 0; k < head; k++) { int i = n - 1 - k; sum += src[i] - first; dst[i] = sum * inv; }
        const int block = 1 << 16;
        for (int from = head; from < n; from += block)
        {
            sum = 0;
            for (int j = from - width; j < from; j++) sum += src[n - 1 - j];
            int to = Math.Min(n, from + block);
            for (int k = from; k < to; k++) { int i = n - 1 - k; sum += src[i] - src[i + width]; dst[i] = sum * inv; }
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
