using System.Numerics;

namespace OpenVret.Signals.Filters;

/// <summary>
/// An IIR filter as a cascade of second-order sections (each b0 b1 b2 / 1 a1 a2), run in transposed
/// direct form II. Offers zero-phase filtering (forward-backward, odd-extension padding and steady-state
/// initial conditions, as <c>scipy.signal.sosfiltfilt</c>; Gustafsson 1996) for offline work, and a causal
/// <see cref="SosFilterState"/> for streaming.
/// </summary>
public sealed class SosFilter
{
    // Row-major [section][b0,b1,b2,a1,a2] (a0 normalised to 1).
    private readonly double[] _c;
    public int Sections { get; }

    private SosFilter(double[] coefficients)
    {
        _c = coefficients;
        Sections = coefficients.Length / 5;
    }

    /// <summary>Sections as (b0,b1,b2,a0=1,a1,a2) rows, for inspection and tests.</summary>
    public double[][] Coefficients => Enumerable.Range(0, Sections)
        .Select(s => new[] { _c[5 * s], _c[5 * s + 1], _c[5 * s + 2], 1.0, _c[5 * s + 3], _c[5 * s + 4] }).ToArray();

    /// <summary>A filter from raw sections laid out as b0,b1,b2,a1,a2 per section (a0 = 1).</summary>
    public static SosFilter FromCoefficients(double[] sectionsB0B1B2A1A2)
    {
        if (sectionsB0B1B2A1A2.Length == 0 || sectionsB0B1B2A1A2.Length % 5 != 0)
            throw new SignalInputException("coefficients.length", sectionsB0B1B2A1A2.Length.ToString(), "need 5 coefficients (b0 b1 b2 a1 a2) per section");
        return new SosFilter((double[])sectionsB0B1B2A1A2.Clone());
    }

    internal static SosFilter FromZpk(List<Complex> zeros, List<Complex> poles, double gain)
    {
        // Pair each complex-conjugate pole pair (or two real poles) with two zeros.
        var ps = SortPairs(poles);
        var zs = SortPairs(zeros);
        int nSec = (Math.Max(ps.Count, zs.Count) + 1) / 2;
        var c = new double[nSec * 5];
        for (int s = 0; s < nSec; s++)
        {
            var (b0, b1, b2) = Quadratic(zs, 2 * s);
            var (_, a1, a2) = Quadratic(ps, 2 * s);
            c[5 * s] = b0; c[5 * s + 1] = b1; c[5 * s + 2] = b2; c[5 * s + 3] = a1; c[5 * s + 4] = a2;
        }
        c[0] *= gain; c[1] *= gain; c[2] *= gain;
        return new SosFilter(c);
    }

    private static (double, double, double) Quadratic(List<Complex> roots, int at)
    {
        if (at >= roots.Count) return (1, 0, 0);
        if (at + 1 >= roots.Count) return (1, -roots[at].Real, 0);
        var r1 = roots[at]; var r2 = roots[at + 1];
        return (1, -(r1 + r2).Real, (r1 * r2).Real);
    }

    private static List<Complex> SortPairs(List<Complex> roots)
    {
        const double tol = 1e-9;
        var complexUpper = roots.Where(r => r.Imaginary > tol).OrderBy(r => Math.Abs(1 - r.Magnitude)).ToList();
        var real = roots.Where(r => Math.Abs(r.Imaginary) <= tol).Select(r => new Complex(r.Real, 0)).OrderBy(r => r.Real).ToList();
        var res = new List<Complex>();
        foreach (var r in complexUpper) { res.Add(r); res.Add(Complex.Conjugate(r)); }
        res.AddRange(real);
        return res;
    }

    /// <summary>Number of samples of odd-extension padding used by <see cref="FilterZeroPhase"/> (scipy's default).</summary>
    public int PadLength
    {
        get
        {
            int zb = 0, za = 0;
            for (int s = 0; s < Sections; s++) { if (_c[5 * s + 2] == 0) zb++; if (_c[5 * s + 4] == 0) za++; }
            return 3 * (2 * Sections + 1 - Math.Min(zb, za));
        }
    }

    /// <summary>Steady-state initial conditions for a unit step input (per section z0,z1), as scipy.signal.sosfilt_zi.</summary>
    private double[] StepInitialConditions()
    {
        var zi = new double[2 * Sections];
        double scale = 1;
        for (int s = 0; s < Sections; s++)
        {
            double b0 = _c[5 * s], b1 = _c[5 * s + 1], b2 = _c[5 * s + 2], a1 = _c[5 * s + 3], a2 = _c[5 * s + 4];
            double g = (b0 + b1 + b2) / (1 + a1 + a2);
            double z1 = b2 - a2 * g;
            double z0 = b1 - a1 * g + z1;
            zi[2 * s] = scale * z0; zi[2 * s + 1] = scale * z1;
            scale *= g;
        }
        return zi;
    }

    /// <summary>
    /// Causal filtering with initial conditions set to the steady state of the first sample (no start-up
    /// transient), as NeuroKit's "butterworth_zi".
    /// </summary>
    public double[] FilterCausalSteadyStart(ReadOnlySpan<double> x)
    {
        var y = x.ToArray();
        if (y.Length == 0) return y;
        var z = StepInitialConditions();
        for (int i = 0; i < z.Length; i++) z[i] *= y[0];
        Run(y, z);
        return y;
    }

    /// <summary>
    /// Zero-phase forward-backward filtering with odd-extension padding and steady-state initial
    /// conditions (matches scipy.signal.sosfiltfilt with padtype="odd"). Throws if the input is shorter than
    /// the padding requires.
    /// </summary>
    public double[] FilterZeroPhase(ReadOnlySpan<double> x)
    {
        var y = new double[x.Length];
        FilterZeroPhase(x, y);
        return y;
    }

    /// <summary>Zero-phase filtering into <paramref name="destination"/> (same length as the input).</summary>
    public void FilterZeroPhase(ReadOnlySpan<double> x, Span<double> destination)
    {
        if (destination.Length != x.Length)
            throw new SignalInputException("destination.length", destination.Length.ToString(), $"must equal the input length ({x.Length})");
        x.CopyTo(destination);
        FilterZeroPhaseInPlace(destination);
    }

    /// <summary>
    /// Zero-phase filtering in place. The odd-extension pads live in two small buffers and the filter state
    /// is carried across pad, signal and pad, so the result equals filtering the padded copy, without one.
    /// </summary>
    public void FilterZeroPhaseInPlace(Span<double> y)
    {
        int n = y.Length, pad = PadLength;
        if (n <= pad) throw new SignalInputException("signal.length", n.ToString(), $"zero-phase filtering needs more than {pad} samples");
        Span<double> left = pad <= 256 ? stackalloc double[pad] : new double[pad];
        Span<double> right = pad <= 256 ? stackalloc double[pad] : new double[pad];
        double y0 = y[0], yn = y[n - 1];
        for (int i = 0; i < pad; i++) { left[i] = 2 * y0 - y[pad - i]; right[i] = 2 * yn - y[n - 2 - i]; }
        var zi = StepInitialConditions();
        Span<double> z = stackalloc double[zi.Length];
        double start = pad > 0 ? left[0] : y0;
        for (int i = 0; i < z.Length; i++) z[i] = zi[i] * start;
        Run(left, z); Run(y, z); Run(right, z);
        double last = pad > 0 ? right[^1] : y[n - 1];
        for (int i = 0; i < z.Length; i++) z[i] = zi[i] * last;
        RunBackward(right, z); RunBackward(y, z); RunBackward(left, z);
    }

    /// <summary>Runs the cascade in place over <paramref name="y"/> with state <paramref name="z"/>.</summary>
    internal void Run(Span<double> y, Span<double> z)
    {
        var c = _c;
        int sections = Sections;
        if (sections == 1) { RunOne(y, z, c, 0); return; }
        // Interleave sections per sample so the CPU overlaps their dependency chains.
        if (sections == 2) { RunTwo(y, z, c); return; }
        if (sections == 3) { RunThree(y, z, c); return; }
        for (int s = 0; s < sections; s++) RunOne(y, z, c, s);
    }

    /// <summary>As <see cref="Run"/>, but consuming and writing <paramref name="y"/> from its last element to its first.</summary>
    internal void RunBackward(Span<double> y, Span<double> z)
    {
        var c = _c;
        if (Sections == 3) { RunThreeBackward(y, z, c); return; }
        for (int s = 0; s < Sections; s++)
        {
            double b0 = c[5 * s], b1 = c[5 * s + 1], b2 = c[5 * s + 2], a1 = c[5 * s + 3], a2 = c[5 * s + 4];
            double z0 = z[2 * s], z1 = z[2 * s + 1];
            for (int i = y.Length - 1; i >= 0; i--)
            {
                double x = y[i];
                double o = b0 * x + z0;
                z0 = b1 * x - a1 * o + z1;
                z1 = b2 * x - a2 * o;
                y[i] = o;
            }
            z[2 * s] = z0; z[2 * s + 1] = z1;
        }
    }

    private static void RunThreeBackward(Span<double> y, Span<double> z, double[] c)
    {
        double b00 = c[0], b01 = c[1], b02 = c[2], a01 = c[3], a02 = c[4];
        double b10 = c[5], b11 = c[6], b12 = c[7], a11 = c[8], a12 = c[9];
        double b20 = c[10], b21 = c[11], b22 = c[12], a21 = c[13], a22 = c[14];
        double z00 = z[0], z01 = z[1], z10 = z[2], z11 = z[3], z20 = z[4], z21 = z[5];
        for (int i = y.Length - 1; i >= 0; i--)
        {
            double x = y[i];
            double o0 = b00 * x + z00; z00 = b01 * x - a01 * o0 + z01; z01 = b02 * x - a02 * o0;
            double o1 = b10 * o0 + z10; z10 = b11 * o0 - a11 * o1 + z11; z11 = b12 * o0 - a12 * o1;
            double o2 = b20 * o1 + z20; z20 = b21 * o1 - a21 * o2 + z21; z21 = b22 * o1 - a22 * o2;
            y[i] = o2;
        }
        z[0] = z00; z[1] = z01; z[2] = z10; z[3] = z11; z[4] = z20; z[5] = z21;
    }

    private static void RunOne(Span<double> y, Span<double> z, double[] c, int s)
    {
        double b0 = c[5 * s], b1 = c[5 * s + 1], b2 = c[5 * s + 2], a1 = c[5 * s + 3], a2 = c[5 * s + 4];
        double z0 = z[2 * s], z1 = z[2 * s + 1];
        for (int i = 0; i < y.Length; i++)
        {
            double x = y[i];
            double o = b0 * x + z0;
            z0 = b1 * x - a1 * o + z1;
            z1 = b2 * x - a2 * o;
            y[i] = o;
        }
        z[2 * s] = z0; z[2 * s + 1] = z1;
    }

    private static void RunTwo(Span<double> y, Span<double> z, double[] c)
    {
        double b00 = c[0], b01 = c[1], b02 = c[2], a01 = c[3], a02 = c[4];
        double b10 = c[5], b11 = c[6], b12 = c[7], a11 = c[8], a12 = c[9];
        double z00 = z[0], z01 = z[1], z10 = z[2], z11 = z[3];
        for (int i = 0; i < y.Length; i++)
        {
            double x = y[i];
            double o0 = b00 * x + z00; z00 = b01 * x - a01 * o0 + z01; z01 = b02 * x - a02 * o0;
            double o1 = b10 * o0 + z10; z10 = b11 * o0 - a11 * o1 + z11; z11 = b12 * o0 - a12 * o1;
            y[i] = o1;
        }
        z[0] = z00; z[1] = z01; z[2] = z10; z[3] = z11;
    }

    private static void RunThree(Span<double> y, Span<double> z, double[] c)
    {
        double b00 = c[0], b01 = c[1], b02 = c[2], a01 = c[3], a02 = c[4];
        double b10 = c[5], b11 = c[6], b12 = c[7], a11 = c[8], a12 = c[9];
        double b20 = c[10], b21 = c[11], b22 = c[12], a21 = c[13], a22 = c[14];
        double z00 = z[0], z01 = z[1], z10 = z[2], z11 = z[3], z20 = z[4], z21 = z[5];
        for (int i = 0; i < y.Length; i++)
        {
            double x = y[i];
            double o0 = b00 * x + z00; z00 = b01 * x - a01 * o0 + z01; z01 = b02 * x - a02 * o0;
            double o1 = b10 * o0 + z10; z10 = b11 * o0 - a11 * o1 + z11; z11 = b12 * o0 - a12 * o1;
            double o2 = b20 * o1 + z20; z20 = b21 * o1 - a21 * o2 + z21; z21 = b22 * o1 - a22 * o2;
            y[i] = o2;
        }
        z[0] = z00; z[1] = z01; z[2] = z10; z[3] = z11; z[4] = z20; z[5] = z21;
    }

    /// <summary>A fresh causal state for streaming (starts from rest, or from the first sample's steady state).</summary>
    public SosFilterState CreateState() => new(this);

    /// <summary>Magnitude response at <paramref name="hertz"/>.</summary>
    public double Gain(double hertz, SampleRate rate)
    {
        var w = 2 * Math.PI * hertz / rate.Hertz;
        var zInv = Complex.Exp(new Complex(0, -w));
        Complex h = Complex.One;
        for (int s = 0; s < Sections; s++)
        {
            var num = _c[5 * s] + _c[5 * s + 1] * zInv + _c[5 * s + 2] * zInv * zInv;
            var den = 1 + _c[5 * s + 3] * zInv + _c[5 * s + 4] * zInv * zInv;
            h *= num / den;
        }
        return h.Magnitude;
    }

    internal double[] SteadyStateFor(double value)
    {
        var zi = StepInitialConditions();
        for (int i = 0; i < zi.Length; i++) zi[i] *= value;
        return zi;
    }
}

/// <summary>
/// Causal streaming state of a <see cref="SosFilter"/>: feed chunks of any size; the output equals filtering
/// the concatenated input in one call. The first sample initialises the state at steady state (no
/// start-up ringing); <see cref="Reset"/> after a gap.
/// </summary>
public sealed class SosFilterState
{
    private readonly SosFilter _filter;
    private double[] _z;
    private bool _started;

    internal SosFilterState(SosFilter filter)
    {
        _filter = filter;
        _z = new double[2 * filter.Sections];
    }

    public void Reset() { Array.Clear(_z); _started = false; }

    /// <summary>Filters <paramref name="buffer"/> in place.</summary>
    public void Process(Span<double> buffer)
    {
        if (buffer.Length == 0) return;
        if (!_started) { _z = _filter.SteadyStateFor(buffer[0]); _started = true; }
        _filter.Run(buffer, _z);
    }
}
