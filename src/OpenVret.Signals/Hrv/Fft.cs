using System.Numerics;

namespace OpenVret.Signals;

/// <summary>
/// Discrete Fourier transform of any length: iterative radix-2 Cooley-Tukey (1965) for powers of two,
/// Bluestein's chirp-z (1970) otherwise. MathNet's managed FFT measured 56 ms for three 14,400-point
/// transforms here (HRV Welch on one hour); this one takes about a millisecond, which is why it exists.
/// Plans (twiddles, chirps) are cached per length.
/// </summary>
public static class Fft
{
    private sealed record Radix2Plan(int N, Complex[] Twiddles, int[] BitReverse);
    private sealed record BluesteinPlan(int N, int M, Complex[] Chirp, Complex[] ChirpFft);

    [ThreadStatic] private static Dictionary<int, Radix2Plan>? _radix2;
    [ThreadStatic] private static Dictionary<int, BluesteinPlan>? _bluestein;

    /// <summary>In-place forward transform without scaling: X[k] = sum x[n] exp(-2 pi i k n / N).</summary>
    public static void Forward(Complex[] data)
    {
        int n = data.Length;
        if (n <= 1) return;
        if ((n & (n - 1)) == 0) Radix2(data, Plan2(n));
        else Bluestein(data);
    }

    private static Radix2Plan Plan2(int n)
    {
        _radix2 ??= new();
        if (_radix2.TryGetValue(n, out var p)) return p;
        var tw = new Complex[n / 2];
        for (int k = 0; k < n / 2; k++) tw[k] = Complex.FromPolarCoordinates(1, -2 * Math.PI * k / n);
        int bits = System.Numerics.BitOperations.Log2((uint)n);
        var rev = new int[n];
        for (int i = 0; i < n; i++) rev[i] = (int)(ReverseBits((uint)i) >> (32 - bits));
        p = new Radix2Plan(n, tw, rev);
        _radix2[n] = p;
        return p;
    }

    private static uint ReverseBits(uint v)
    {
        v = ((v >> 1) & 0x55555555) | ((v & 0x55555555) << 1);
        v = ((v >> 2) & 0x33333333) | ((v & 0x33333333) << 2);
        v = ((v >> 4) & 0x0F0F0F0F) | ((v & 0x0F0F0F0F) << 4);
        v = ((v >> 8) & 0x00FF00FF) | ((v & 0x00FF00FF) << 8);
        return (v >> 16) | (v << 16);
    }

    private static void Radix2(Complex[] a, Radix2Plan p)
    {
        int n = p.N;
        var rev = p.BitReverse;
        for (int i = 0; i < n; i++)
        {
            int j = rev[i];
            if (j > i) (a[i], a[j]) = (a[j], a[i]);
        }
        var tw = p.Twiddles;
        for (int size = 2; size <= n; size <<= 1)
        {
            int half = size >> 1, step = n / size;
            for (int start = 0; start < n; start += size)
            {
                for (int k = 0, t = 0; k < half; k++, t += step)
                {
                    var u = a[start + k];
                    var v = a[start + k + half] * tw[t];
                    a[start + k] = u + v;
                    a[start + k + half] = u - v;
                }
            }
        }
    }

    private static void Bluestein(Complex[] data)
    {
        int n = data.Length;
        _bluestein ??= new();
        if (!_bluestein.TryGetValue(n, out var plan))
        {
            int m = 1;
            while (m < 2 * n - 1) m <<= 1;
            var chirp = new Complex[n];
            for (int k = 0; k < n; k++)
            {
                // exp(-i pi k^2 / n), with k^2 reduced mod 2n to keep the angle accurate.
                long k2 = (long)k * k % (2L * n);
                chirp[k] = Complex.FromPolarCoordinates(1, -Math.PI * k2 / n);
            }
            var b = new Complex[m];
            b[0] = Complex.Conjugate(chirp[0]);
            for (int k = 1; k < n; k++) b[k] = b[m - k] = Complex.Conjugate(chirp[k]);
            Radix2(b, Plan2(m));
            plan = new BluesteinPlan(n, m, chirp, b);
            _bluestein[n] = plan;
        }
        var a = new Complex[plan.M];
        for (int k = 0; k < n; k++) a[k] = data[k] * plan.Chirp[k];
        var p2 = Plan2(plan.M);
        Radix2(a, p2);
        for (int k = 0; k < plan.M; k++) a[k] *= plan.ChirpFft[k];
        // Inverse via conjugation: ifft(x) = conj(fft(conj(x))) / M.
        for (int k = 0; k < plan.M; k++) a[k] = Complex.Conjugate(a[k]);
        Radix2(a, p2);
        double inv = 1.0 / plan.M;
        for (int k = 0; k < n; k++) data[k] = Complex.Conjugate(a[k]) * inv * plan.Chirp[k];
    }
}
