using OpenVret.Signals.Ecg;
using OpenVret.Signals.Eda;
using OpenVret.Signals.Hrv;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

public sealed class BadInputTests
{
    private static double[] SyntheticEcg(SampleRate fs, double seconds, double bpm = 72)
    {
        int n = fs.SamplesIn(seconds);
        var x = new double[n];
        double period = 60 / bpm;
        for (int i = 0; i < n; i++)
        {
            double t = i / fs.Hertz, phase = t % period;
            x[i] = 1.2 * Math.Exp(-Math.Pow((phase - 0.2) / 0.012, 2)) + 0.3 * Math.Exp(-Math.Pow((phase - 0.45) / 0.05, 2)) + 0.05 * Math.Sin(2 * Math.PI * 0.3 * t);
        }
        return x;
    }

    [Fact]
    public void ShortNaNRunsAreBridgedAndReported()
    {
        var fs = new SampleRate(250);
        var x = SyntheticEcg(fs, 60);
        for (int i = 1000; i < 1050; i++) x[i] = double.NaN;
        x[5000] = double.PositiveInfinity;
        var r = EcgPipeline.Process(x, fs);
        Assert.Contains(r.Flags, f => f.Code == "nonfinite_bridged");
        Assert.InRange(r.Features["ECG_Rate_Mean"], 70, 74);
    }

    [Fact]
    public void ALongGapIsAnErrorNamingTheSamples()
    {
        var fs = new SampleRate(250);
        var x = SyntheticEcg(fs, 60);
        for (int i = 1000; i < 2000; i++) x[i] = double.NaN;
        var e = Assert.Throws<SignalInputException>(() => EcgPipeline.Process(x, fs));
        Assert.Contains("ecg[1000..1999]", e.Message);
    }

    [Fact]
    public void AllNaNAndTooShortAreClearErrors()
    {
        var fs = new SampleRate(250);
        Assert.Contains("no finite sample", Assert.Throws<SignalInputException>(() => EcgPipeline.Process(Enumerable.Repeat(double.NaN, 5000).ToArray(), fs)).Message);
        Assert.Contains("ecg.length", Assert.Throws<SignalInputException>(() => EcgPipeline.Process(new double[100], fs)).Message);
        Assert.Contains("sampleRate", Assert.Throws<SignalInputException>(() => EcgPipeline.Process(new double[100], new SampleRate(20))).Message);
    }

    [Fact]
    public void AFlatLineIsFlaggedNotCrashed()
    {
        var fs = new SampleRate(250);
        var r = EcgPipeline.Process(new double[fs.SamplesIn(30)], fs);
        Assert.Contains(r.Flags, f => f.Code == "flat_signal");
        Assert.True(double.IsNaN(r.Features["HRV_RMSSD"]));
        Assert.Contains(r.Features.Flags, f => f.Feature == "HRV_RMSSD");
    }

    [Fact]
    public void LfPowerFromTenSecondsIsMissingWithAReason()
    {
        var fs = new SampleRate(250);
        var r = EcgPipeline.Process(SyntheticEcg(fs, 10), fs);
        Assert.True(double.IsNaN(r.Features["HRV_LF"]));
        Assert.Contains(r.Features.Flags, f => f.Feature == "HRV_LF" && f.Code == "record_too_short");
        Assert.InRange(r.Features["HRV_MeanNN"], 820, 850);
    }

    [Fact]
    public void NonMonotonicBeatTimesAreRejected()
    {
        var e = Assert.Throws<SignalInputException>(() => InterBeatIntervals.FromPeaks(new[] { 10, 200, 150, 400 }, new SampleRate(100)));
        Assert.Contains("peaks[2]", e.Message);
    }

    [Fact]
    public void EdaWithoutResponsesReportsZeroScrs()
    {
        var fs = new SampleRate(4);
        var x = Enumerable.Range(0, 240).Select(i => 2.0 + 0.001 * i).ToArray();
        var r = EdaPipeline.Process(x, fs);
        Assert.Equal(0, r.Features["SCR_Peaks_N"]);
        Assert.Contains(r.Features.Flags, f => f.Feature == "SCR_Peaks_Amplitude_Mean");
    }
}
