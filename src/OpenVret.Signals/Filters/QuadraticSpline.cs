namespace OpenVret.Signals.Filters;

/// <summary>
/// Quadratic interpolating B-spline with knots at the mid-points between samples (the Greville-site
/// choice of scipy.interpolate.make_interp_spline(k=2), used by NeuroKit2's default "quadratic"
/// interpolation; de Boor, A Practical Guide to Splines, 1978). Collocation is solved as a banded
/// system (totally positive, so elimination without pivoting is stable).
/// </summary>
public sealed class QuadraticSpline
{
    private readonly double[] _t;
    private readonly double[] _c;
    private readonly int _n;

    public QuadraticSpline(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length;
        if (n < 3) throw new SignalInputException("x.length", n.ToString(), "a quadratic spline needs at least 3 points");
        _n = n;
        _t = new double[n + 3];
        _t[0] = _t[1] = _t[2] = x[0];
        for (int j = 1; j <= n - 3; j++) _t[2 + j] = (x[j] + x[j + 1]) / 2;
        _t[n] = _t[n + 1] = _t[n + 2] = x[n - 1];

        // Banded collocation matrix: row i has nonzeros in columns s-2..s. Store columns i-3..i+3.
        const int half = 3, width = 2 * half + 1;
        var a = new double[n * width];
        var rhs = y.ToArray();
        Span<double> basis = stackalloc double[3];
        int span = 2;
        for (int i = 0; i < n; i++)
        {
            span = FindSpan(x[i], span);
            Basis(x[i], span, basis);
            for (int r = 0; r < 3; r++)
            {
                int col = span - 2 + r;
                int off = col - i + half;
                if (off < 0 || off >= width) throw new InvalidOperationException("spline collocation outside band");
                a[i * width + off] = basis[r];
            }
        }
        // Gaussian elimination without pivoting within the band.
        for (int k = 0; k < n; k++)
        {
            double piv = a[k * width + half];
            if (piv == 0) throw new SignalInputException("x", "duplicate abscissae", "quadratic spline collocation is singular");
            for (int i = k + 1; i <= Math.Min(n - 1, k + half); i++)
            {
                double f = a[i * width + (k - i + half)];
                if (f == 0) continue;
                f /= piv;
                for (int j = k; j <= Math.Min(n - 1, k + half); j++)
                {
                    int offK = j - k + half, offI = j - i + half;
                    if (offI < 0 || offI >= width) continue;
                    a[i * width + offI] -= f * a[k * width + offK];
                }
                rhs[i] -= f * rhs[k];
            }
        }
        _c = new double[n];
        for (int k = n - 1; k >= 0; k--)
        {
            double s = rhs[k];
            for (int j = k + 1; j <= Math.Min(n - 1, k + half); j++) s -= a[k * width + (j - k + half)] * _c[j];
            _c[k] = s / a[k * width + half];
        }
    }

    private int FindSpan(double u, int hint)
    {
        int s = Math.Clamp(hint, 2, _n - 1);
        while (s < _n - 1 && u >= _t[s + 1]) s++;
        while (s > 2 && u < _t[s]) s--;
        return s;
    }

    private void Basis(double u, int s, Span<double> nOut)
    {
        Span<double> left = stackalloc double[3];
        Span<double> right = stackalloc double[3];
        nOut[0] = 1;
        for (int j = 1; j <= 2; j++)
        {
            left[j] = u - _t[s + 1 - j];
            right[j] = _t[s + j] - u;
            double saved = 0;
            for (int r = 0; r < j; r++)
            {
                double temp = nOut[r] / (right[r + 1] + left[j - r]);
                nOut[r] = saved + right[r + 1] * temp;
                saved = left[j - r] * temp;
            }
            nOut[j] = saved;
        }
    }

    /// <summary>Evaluates at increasing (or arbitrary) points; extrapolates with the end polynomials.</summary>
    public double[] Evaluate(ReadOnlySpan<double> u)
    {
        var res = new double[u.Length];
        Span<double> b = stackalloc double[3];
        int span = 2;
        for (int i = 0; i < u.Length; i++)
        {
            span = FindSpan(u[i], span);
            Basis(u[i], span, b);
            res[i] = b[0] * _c[span - 2] + b[1] * _c[span - 1] + b[2] * _c[span];
        }
        return res;
    }
}
