using MathNet.Numerics.Interpolation;

namespace OpenVret.Signals.Filters;

/// <summary>Interpolation of irregular series onto a grid, and rate conversion of uniform signals.</summary>
public static class Resampling
{
    public enum Method { Linear, QuadraticSpline, CubicSpline, MonotoneCubic }

    /// <summary>
    /// Evaluates the series (x, y) at <paramref name="xNew"/>. Outside [x0, xn] the end values are held.
    /// Requires strictly increasing x.
    /// </summary>
    public static double[] Interpolate(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> xNew, Method method = Method.CubicSpline)
    {
        if (x.Length != y.Length)
            throw new SignalInputException("y.length", y.Length.ToString(), $"must equal x.length ({x.Length})");
        if (x.Length == 0) throw new SignalInputException("x.length", "0", "nothing to interpolate");
        for (int i = 1; i < x.Length; i++)
            if (!(x[i] > x[i - 1]))
                throw new SignalInputException($"x[{i}]", x[i].ToString(System.Globalization.CultureInfo.InvariantCulture), "interpolation abscissae must be strictly increasing");
        var res = new double[xNew.Length];
        if (x.Length == 1) { Array.Fill(res, y[0]); return res; }
        if (x.Length < 3 && method != Method.Linear) method = Method.Linear;
        double x0q = x[0], xnq = x[^1];
        if (method == Method.QuadraticSpline)
        {
            var q = new QuadraticSpline(x, y).Evaluate(xNew);
            for (int i = 0; i < xNew.Length; i++) res[i] = xNew[i] <= x0q ? y[0] : xNew[i] >= xnq ? y[^1] : q[i];
            return res;
        }
        if (method == Method.Linear) { Linear(x, y, xNew, res); return res; }
        if (method == Method.CubicSpline) { NaturalCubic(x, y, xNew, res); return res; }
        var xa = x.ToArray(); var ya = y.ToArray();
        var f = CubicSpline.InterpolatePchipSorted(xa, ya);
        double x0 = xa[0], xn = xa[^1];
        for (int i = 0; i < xNew.Length; i++)
        {
            double t = xNew[i];
            res[i] = t <= x0 ? ya[0] : t >= xn ? ya[^1] : f.Interpolate(t);
        }
        return res;
    }

    /// <summary>Finds the interval [x[k], x[k+1]] holding t, starting from the previous answer (grids are usually increasing).</summary>
    private static int Interval(ReadOnlySpan<double> x, double t, int k)
    {
        if (k < 0 || k > x.Length - 2 || t < x[k])
        {
            int j = x.BinarySearch(t);
            k = j >= 0 ? j : ~j - 1;
        }
        while (k < x.Length - 2 && t > x[k + 1]) k++;
        return Math.Clamp(k, 0, x.Length - 2);
    }

    private static void Linear(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> xNew, double[] res)
    {
        int k = 0;
        for (int i = 0; i < xNew.Length; i++)
        {
            double t = xNew[i];
            if (t <= x[0]) { res[i] = y[0]; continue; }
            if (t >= x[^1]) { res[i] = y[^1]; continue; }
            k = Interval(x, t, k);
            double u = (t - x[k]) / (x[k + 1] - x[k]);
            res[i] = y[k] + u * (y[k + 1] - y[k]);
        }
    }

    /// <summary>Natural cubic spline (second derivative zero at both ends; tridiagonal solve, de Boor 1978).</summary>
    private static void NaturalCubic(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> xNew, double[] res)
    {
        int n = x.Length;
        // Second derivatives m[i]; m[0] = m[n-1] = 0 (Thomas algorithm on the interior equations).
        var m = new double[n];
        var c = new double[n];
        for (int i = 1; i < n - 1; i++)
        {
            double h0 = x[i] - x[i - 1], h1 = x[i + 1] - x[i];
            double diag = 2 * (h0 + h1) - h0 * c[i - 1];
            double rhs = 6 * ((y[i + 1] - y[i]) / h1 - (y[i] - y[i - 1]) / h0) - h0 * m[i - 1];
            c[i] = h1 / diag;
            m[i] = rhs / diag;
        }
        for (int i = n - 2; i >= 1; i--) m[i] -= c[i] * m[i + 1];
        int k = 0;
        for (int i = 0; i < xNew.Length; i++)
        {
            double t = xNew[i];
            if (t <= x[0]) { res[i] = y[0]; continue; }
            if (t >= x[^1]) { res[i] = y[^1]; continue; }
            k = Interval(x, t, k);
            double h = x[k + 1] - x[k], a = (x[k + 1] - t) / h, b = (t - x[k]) / h;
            res[i] = a * y[k] + b * y[k + 1] + ((a * a * a - a) * m[k] + (b * b * b - b) * m[k + 1]) * h * h / 6;
        }
    }

    /// <summary>Regular grid from <paramref name="start"/> to <paramref name="stop"/> (inclusive when it falls on the grid) at <paramref name="rate"/>.</summary>
    public static double[] Grid(double start, double stop, SampleRate rate)
    {
        int n = (int)Math.Floor((stop - start) * rate.Hertz + 1e-9) + 1;
        var g = new double[Math.Max(n, 0)];
        for (int i = 0; i < g.Length; i++) g[i] = start + i / rate.Hertz;
        return g;
    }

    /// <summary>
    /// Converts a uniformly sampled signal to another rate. Down-sampling first applies a zero-phase
    /// anti-aliasing low-pass (Butterworth order 8 at 0.45 x the new rate).
    /// </summary>
    public static Signal Resample(Signal signal, SampleRate target, Method method = Method.CubicSpline)
    {
        if (target.Hertz == signal.Rate.Hertz) return signal;
        double[] src = signal.Samples;
        if (target.Hertz < signal.Rate.Hertz && signal.Length > 60)
            src = Butterworth.Design(8, new FilterBand.LowPass(0.45 * target.Hertz), signal.Rate).FilterZeroPhase(src);
        var t = new double[signal.Length];
        for (int i = 0; i < t.Length; i++) t[i] = i / signal.Rate.Hertz;
        var grid = Grid(0, t[^1], target);
        return signal with { Samples = Interpolate(t, src, grid, method), Rate = target };
    }
}
