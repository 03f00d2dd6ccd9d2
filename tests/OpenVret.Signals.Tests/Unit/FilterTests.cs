using OpenVret.Signals.Filters;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

public sealed class FilterTests
{
    private static readonly SampleRate Fs = new(250);

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(4)] [InlineData(5)]
    public void ButterworthIsMinus3dBAtTheCutoff(int order)
    {
        var lp = Butterworth.Design(order, new FilterBand.LowPass(10), Fs);
        Assert.Equal(1.0, lp.Gain(0, Fs), 9);
        Assert.Equal(1 / Math.Sqrt(2), lp.Gain(10, Fs), 6);
        var hp = Butterworth.Design(order, new FilterBand.HighPass(0.5), Fs);
        Assert.Equal(1 / Math.Sqrt(2), hp.Gain(0.5, Fs), 6);
        Assert.Equal(1.0, hp.Gain(Fs.NyquistHertz - 1e-9, Fs), 6);
        var bp = Butterworth.Design(order, new FilterBand.BandPass(5, 15), Fs);
        Assert.Equal(1 / Math.Sqrt(2), bp.Gain(5, Fs), 6);
        Assert.Equal(1 / Math.Sqrt(2), bp.Gain(15, Fs), 6);
    }

    [Fact]
    public void ZeroPhaseFilteringDoesNotShiftAPeak()
    {
        var x = new double[2000];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Exp(-Math.Pow((i - 1000) / 20.0, 2));
        var y = Butterworth.Design(4, new FilterBand.LowPass(5), Fs).FilterZeroPhase(x);
        Assert.Equal(1000, Array.IndexOf(y, y.Max()));
    }

    [Fact]
    public void StreamingStateEqualsOneShotCausalFilteringWhateverTheChunks()
    {
        var rng = new Random(7);
        var x = Enumerable.Range(0, 5000).Select(_ => rng.NextDouble()).ToArray();
        var f = Butterworth.Design(5, new FilterBand.HighPass(0.5), Fs);
        var whole = x.ToArray();
        f.CreateState().Process(whole);
        var chunked = x.ToArray();
        var state = f.CreateState();
        for (int i = 0; i < chunked.Length;)
        {
            int n = Math.Min(rng.Next(1, 300), chunked.Length - i);
            state.Process(chunked.AsSpan(i, n));
            i += n;
        }
        Assert.Equal(whole, chunked);
    }

    [Theory]
    [InlineData(0.0)] [InlineData(125.0)] [InlineData(-1.0)] [InlineData(double.NaN)]
    public void ACutoffOutsideTheBandIsAClearError(double cutoff)
    {
        var e = Assert.Throws<SignalInputException>(() => Butterworth.Design(2, new FilterBand.LowPass(cutoff), Fs));
        Assert.Contains("lowpass.cutoffHertz", e.Message);
    }

    [Theory]
    [InlineData(0.0)] [InlineData(-250.0)] [InlineData(double.PositiveInfinity)]
    public void AnImpossibleSampleRateIsRejected(double hz)
    {
        var e = Assert.Throws<SignalInputException>(() => new SampleRate(hz));
        Assert.Contains("sampleRate", e.Message);
    }

    [Fact]
    public void QuadraticSplineReproducesAQuadratic()
    {
        var x = new[] { 0.0, 0.7, 1.9, 3.0, 4.2, 5.1, 6.0 };
        var y = x.Select(v => 2 * v * v - v + 3).ToArray();
        var u = Enumerable.Range(0, 60).Select(i => i * 0.1).ToArray();
        var s = new QuadraticSpline(x, y).Evaluate(u);
        for (int i = 0; i < u.Length; i++) Assert.Equal(2 * u[i] * u[i] - u[i] + 3, s[i], 8);
    }
}

public sealed class FftTests
{
    [Theory]
    [InlineData(8)] [InlineData(1024)] [InlineData(7)] [InlineData(100)] [InlineData(14374)]
    public void MatchesTheDefinitionAndMathNet(int n)
    {
        var rng = new Random(n);
        var x = Enumerable.Range(0, n).Select(_ => new System.Numerics.Complex(rng.NextDouble() - 0.5, rng.NextDouble() - 0.5)).ToArray();
        var ours = (System.Numerics.Complex[])x.Clone();
        Fft.Forward(ours);
        var reference = (System.Numerics.Complex[])x.Clone();
        MathNet.Numerics.IntegralTransforms.Fourier.Forward(reference, MathNet.Numerics.IntegralTransforms.FourierOptions.NoScaling);
        for (int k = 0; k < n; k++) Assert.True((ours[k] - reference[k]).Magnitude < 1e-9 * Math.Sqrt(n), $"bin {k}: {ours[k]} vs {reference[k]}");
        if (n <= 100)
            for (int k = 0; k < n; k++)
            {
                var s = System.Numerics.Complex.Zero;
                for (int j = 0; j < n; j++) s += x[j] * System.Numerics.Complex.FromPolarCoordinates(1, -2 * Math.PI * k * j / n);
                Assert.True((ours[k] - s).Magnitude < 1e-10 * n);
            }
    }
}

public sealed class MovingAverageTests
{
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(5)] [InlineData(50)] [InlineData(375)]
    public void CentredSmoothingEqualsTheDefinition(int size)
    {
        var rng = new Random(size);
        var x = Enumerable.Range(0, 1000).Select(_ => rng.NextDouble()).ToArray();
        var y = OpenVret.Signals.Filters.MovingAverage.SmoothCentered(x, size);
        int fwd = (size - 1) / 2, back = size - 1 - fwd;
        for (int k = 0; k < x.Length; k++)
        {
            double s = 0;
            for (int i = k - back; i <= k + fwd; i++) s += x[Math.Clamp(i, 0, x.Length - 1)];
            Assert.Equal(s / size, y[k], 10);
        }
    }

    [Fact]
    public void ZeroPhaseBoxcarIsSymmetricAndKeepsTheMean()
    {
        var x = new double[3000];
        x[1500] = 1;
        for (int i = 0; i < x.Length; i++) x[i] += 5;
        var y = OpenVret.Signals.Filters.MovingAverage.FilterZeroPhase(x, 10);
        for (int d = 1; d < 15; d++) Assert.Equal(y[1500 - d], y[1500 + d], 12);
        Assert.Equal(5.0, y[100], 12);
        Assert.Equal(x.Sum(), y.Sum(), 6);
    }
}

public sealed class InPlaceFilterTests
{
    [Theory]
    [InlineData(1, 2000)] [InlineData(4, 2000)] [InlineData(50, 2000)] [InlineData(375, 2000)] [InlineData(50, 3)] [InlineData(50, 60)] [InlineData(375, 400)]
    public void FusedSmoothedAbsGradientEqualsSmoothingTheGradientArray(int size, int n)
    {
        var rng = new Random(size + n);
        var x = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
        var g = OpenVret.Signals.PeakFinding.Gradient(x).Select(Math.Abs).ToArray();
        var expected = OpenVret.Signals.Filters.MovingAverage.SmoothCentered(g, size);
        var fused = new double[n];
        OpenVret.Signals.Ecg.RPeakDetector.SmoothedAbsGradient(x, size, fused);
        Assert.Equal(expected, fused); // the same sums in the same order: bit-identical
    }
}

public sealed class InterpolationTests
{
    [Theory]
    [InlineData(3)] [InlineData(10)] [InlineData(400)]
    public void LinearAndNaturalCubicMatchMathNet(int n)
    {
        var rng = new Random(n);
        double t = 0;
        var x = Enumerable.Range(0, n).Select(_ => t += 0.3 + rng.NextDouble()).ToArray();
        var y = x.Select(v => Math.Sin(v) + 0.1 * rng.NextDouble()).ToArray();
        var grid = Enumerable.Range(0, 3 * n).Select(i => x[0] + (x[^1] - x[0]) * i / (3.0 * n - 1)).ToArray();
        var lin = OpenVret.Signals.Filters.Resampling.Interpolate(x, y, grid, OpenVret.Signals.Filters.Resampling.Method.Linear);
        var cub = OpenVret.Signals.Filters.Resampling.Interpolate(x, y, grid, OpenVret.Signals.Filters.Resampling.Method.CubicSpline);
        var refLin = MathNet.Numerics.Interpolation.LinearSpline.InterpolateSorted(x, y);
        var refCub = MathNet.Numerics.Interpolation.CubicSpline.InterpolateNaturalSorted(x, y);
        for (int i = 0; i < grid.Length; i++)
        {
            Assert.Equal(refLin.Interpolate(grid[i]), lin[i], 10);
            Assert.Equal(refCub.Interpolate(grid[i]), cub[i], 9);
        }
    }
}

public sealed class KnownAnswerTests
{
    private static double[] Sine(double hz, SampleRate fs, double seconds, double amplitude = 1) =>
        Enumerable.Range(0, fs.SamplesIn(seconds)).Select(i => amplitude * Math.Sin(2 * Math.PI * hz * i / fs.Hertz)).ToArray();

    [Fact]
    public void NotchRemovesMainsAndPassesTheRest()
    {
        var fs = new SampleRate(500);
        var notch = OpenVret.Signals.Filters.Notch.Design(50, 30, fs);
        Assert.True(notch.Gain(50, fs) < 1e-6);
        Assert.InRange(notch.Gain(10, fs), 0.99, 1.0 + 1e-9);
        var y = notch.FilterZeroPhase(Sine(50, fs, 10));
        Assert.True(y.Skip(500).Take(4000).Max(Math.Abs) < 0.01);
        Assert.Contains("notch.hertz", Assert.Throws<SignalInputException>(() => OpenVret.Signals.Filters.Notch.Design(300, 30, fs)).Message);
    }

    [Fact]
    public void ResamplingKeepsASineAndItsTiming()
    {
        var fs = new SampleRate(250);
        var s = new Signal(Sine(2, fs, 10), fs, 5, SignalUnit.Millivolt, "x");
        var down = OpenVret.Signals.Filters.Resampling.Resample(s, new SampleRate(50));
        Assert.Equal(50, down.Rate.Hertz);
        Assert.Equal(5, down.StartSeconds);
        for (int i = 50; i < down.Length - 50; i++) Assert.Equal(Math.Sin(2 * Math.PI * 2 * i / 50.0), down.Samples[i], 2);
        var up = OpenVret.Signals.Filters.Resampling.Resample(s, new SampleRate(1000));
        for (int i = 100; i < up.Length - 100; i += 7) Assert.Equal(Math.Sin(2 * Math.PI * 2 * i / 1000.0), up.Samples[i], 3);
    }

    [Theory]
    [InlineData(OpenVret.Signals.Hrv.HrvSpectrumMethod.Welch)]
    [InlineData(OpenVret.Signals.Hrv.HrvSpectrumMethod.LombScargle)]
    public void HrvBandsFindTheOscillationsThatWerePutIn(OpenVret.Signals.Hrv.HrvSpectrumMethod method)
    {
        // 300 s of beats whose intervals oscillate at 0.1 Hz (LF, 40 ms) and 0.25 Hz (HF, 15 ms).
        var times = new List<double>(); var rr = new List<double>();
        double t = 0;
        while (t < 300)
        {
            double ms = 850 + 40 * Math.Sin(2 * Math.PI * 0.1 * t) + 15 * Math.Sin(2 * Math.PI * 0.25 * t);
            t += ms / 1000; times.Add(t); rr.Add(ms);
        }
        var f = OpenVret.Signals.Hrv.HrvAnalysis.Frequency(new OpenVret.Signals.Hrv.InterBeatIntervals(rr.ToArray(), times.ToArray()),
            new OpenVret.Signals.Hrv.HrvOptions { SpectrumMethod = method });
        // Power ratio of the two sines is (40/15)^2 = 7.1.
        Assert.InRange(f["HRV_LFHF"], 5, 10);
    }

    [Fact]
    public void EegBandPowerFindsAnAlphaRhythm()
    {
        var fs = new SampleRate(256);
        var rng = new Random(2);
        var x = Sine(10, fs, 30, 20).Select(v => v + rng.NextDouble() - 0.5).ToArray();
        var f = OpenVret.Signals.Other.EegBandPower.Features(x, fs);
        Assert.True(f["EEG_Alpha_Relative"] > 0.9, $"alpha {f["EEG_Alpha_Relative"]}");
        Assert.True(double.IsNaN(OpenVret.Signals.Other.EegBandPower.Features(x.AsSpan(0, 100), fs)["EEG_Alpha"]));
    }
}
