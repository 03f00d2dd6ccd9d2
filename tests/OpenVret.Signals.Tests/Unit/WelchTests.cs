using OpenVret.Signals.Hrv;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

/// <summary>Welch's estimate against its definition: the average of Hann-windowed one-sided periodograms, each by a direct DFT.</summary>
public sealed class WelchTests
{
    [Theory]
    [InlineData(300, 64, 64, 32)]   // 8 segments (even count), power-of-two transform
    [InlineData(300, 60, 120, 30)]  // 9 segments (odd count: the last one alone), padded, Bluestein length
    [InlineData(100, 100, 200, 0)]  // 1 segment
    [InlineData(250, 90, 181, 45)]  // odd transform length
    public void EqualsTheAverageOfDirectPeriodograms(int n, int nperseg, int nfft, int step)
    {
        var rng = new Random(n + nperseg);
        var x = Enumerable.Range(0, n).Select(i => Math.Sin(i * 0.3) + rng.NextDouble()).ToArray();
        var rate = new SampleRate(4);
        var (freq, power) = Spectrum.Welch(x, rate, nperseg, nfft, step, segments: 0);

        double mean = x.Average();
        var w = Enumerable.Range(0, nperseg).Select(i => 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / nperseg)).ToArray();
        double wss = w.Sum(v => v * v);
        int hop = step > 0 ? step : nperseg - nperseg / 2, segments = (n - nperseg) / hop + 1, bins = nfft / 2 + 1;
        var expected = new double[bins];
        for (int s = 0; s < segments; s++)
            for (int k = 0; k < bins; k++)
            {
                double re = 0, im = 0;
                for (int i = 0; i < nperseg; i++)
                {
                    double v = (x[s * hop + i] - mean) * w[i], a = -2 * Math.PI * k * i / nfft;
                    re += v * Math.Cos(a); im += v * Math.Sin(a);
                }
                bool doubled = k > 0 && !(nfft % 2 == 0 && k == bins - 1);
                expected[k] += (re * re + im * im) / (rate.Hertz * wss) / segments * (doubled ? 2 : 1);
            }
        Assert.Equal(bins, power.Length);
        for (int k = 0; k < bins; k++)
        {
            Assert.Equal(k * rate.Hertz / nfft, freq[k], 12);
            Assert.True(Math.Abs(power[k] - expected[k]) <= 1e-9 * expected.Max(), $"bin {k}: {power[k]} vs {expected[k]}");
        }
    }
}
