using OpenVret.Signals.Ecg;
using OpenVret.Signals.Filters;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

/// <summary>
/// The NeuroKit R-peak detector keeps only a 0.75 s window of its smoothed gradient. Its peaks must equal
/// those of the whole-array formulation (smoothed |gradient| materialised, threshold as a running sum over it).
/// </summary>
public sealed class WindowedDetectorTests
{
    [Theory]
    [InlineData(250, 60.0)] [InlineData(500, 33.3)] [InlineData(1000, 25.0)] [InlineData(100, 10.0)] [InlineData(500, 0.9)] [InlineData(250, 0.02)]
    public void PeaksEqualTheWholeArrayFormulation(double hz, double seconds)
    {
        var rate = new SampleRate(hz);
        int n = (int)(hz * seconds);
        var rng = new Random(n);
        var x = new double[n];
        double beat = 0;
        for (int i = 0; i < n; i++)
        {
            double t = i / hz;
            beat += (1.0 + 0.15 * Math.Sin(t)) / hz;
            double phase = beat % 1.0;
            x[i] = Math.Exp(-Math.Pow((phase - 0.3) / 0.012, 2)) - 0.2 * Math.Exp(-Math.Pow((phase - 0.33) / 0.01, 2))
                   + 0.25 * Math.Exp(-Math.Pow((phase - 0.6) / 0.05, 2)) + 0.03 * (rng.NextDouble() - 0.5) + 0.2 * Math.Sin(0.3 * t);
        }
        var detected = RPeakDetector.Detect(x, rate);
        Assert.Equal(Reference(x, rate), detected);
        if (seconds >= 5) Assert.InRange(detected.Length, (int)(seconds * 0.8), (int)(seconds * 1.3)); // about one beat a second: the comparison is not of two empty lists
    }

    private static int[] Reference(double[] x, SampleRate rate)
    {
        double fs = rate.Hertz;
        int n = x.Length;
        if (n < 3) return Array.Empty<int>();
        var g = PeakFinding.Gradient(x).Select(Math.Abs).ToArray();
        var smooth = MovingAverage.SmoothCentered(g, (int)Math.Round(0.1 * fs, MidpointRounding.ToEven));
        int size = (int)Math.Round(0.75 * fs, MidpointRounding.ToEven);
        int fwd = (size - 1) / 2, back = size - 1 - fwd;
        double sum = 0;
        for (int i = -back; i <= fwd; i++) sum += smooth[Math.Clamp(i, 0, n - 1)];
        double scale = 1.5 / size;
        var feature = new double[n]; var threshold = new double[n];
        feature[0] = smooth[0]; threshold[0] = sum * scale;
        for (int k = 1; k < n; k++)
        {
            sum += smooth[Math.Min(k + fwd, n - 1)] - smooth[Math.Max(k - 1 - back, 0)];
            feature[k] = smooth[k]; threshold[k] = sum * scale;
        }
        return RPeakDetector.MostProminentInBlocks(x, feature, threshold, -0.4, (int)Math.Round(0.3 * fs, MidpointRounding.ToEven));
    }
}
