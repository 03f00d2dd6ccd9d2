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
        var xa = x.ToArray(); var ya = y.ToArray();
        IInterpolation f = method switch
        {
            Method.Linear => LinearSpline.InterpolateSorted(xa, ya),
            Method.MonotoneCubic => CubicSpline.InterpolatePchipSorted(xa, ya),
            _ => CubicSpline.InterpolateNaturalSorted(xa, ya),
        };
        double x0 = xa[0], xn = xa[^1];
        for (int i = 0; i < xNew.Length; i++)
        {
            double t = xNew[i];
            res[i] = t <= x0 ? ya[0] : t >= xn ? ya[^1] : f.Interpolate(t);
        }
        return res;
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
