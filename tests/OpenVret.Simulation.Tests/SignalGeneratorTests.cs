using OpenVret.Signals;
using OpenVret.Signals.Ecg;
using OpenVret.Signals.Eda;
using OpenVret.Signals.Ppg;
using OpenVret.Signals.Rsp;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Simulation.Tests;

/// <summary>The generated waveforms, read back with our own Signals library, carry the arousal they were driven by.</summary>
public sealed class SignalGeneratorTests(ITestOutputHelper output)
{
    private static PatientProfile Profile() => Cohort.Draw(1, 11)[0];

    private static GeneratedChunk Generate(double arousal, double seconds, int seed = 5, IEnumerable<Artifact>? artifacts = null)
    {
        var g = new SignalGenerator(Profile(), seed, artifacts: artifacts);
        return g.Next(seconds, _ => arousal);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.8)]
    public void HeartRateRPeaksPulseAndBreathingMatchTheIntendedValues(double arousal)
    {
        var profile = Profile();
        var gen = new SignalGenerator(profile, 5);
        var c = gen.Next(180, _ => arousal);
        var rates = gen.Rates;
        var ecg = EcgPipeline.Process(c.Ecg, new SampleRate(rates.Ecg));
        double intended = gen.HeartRate(arousal);
        var truth = c.RPeakTimes.Select(t => (int)Math.Round(t * rates.Ecg)).ToList();
        int tp = ecg.Peaks.Count(p => truth.Any(q => Math.Abs(p - q) <= 0.05 * rates.Ecg));
        double f1 = 2.0 * tp / (ecg.Peaks.Length + truth.Count);
        var ppg = PpgPipeline.Process(c.Ppg, new SampleRate(rates.Ppg));
        var rsp = RespirationPipeline.Process(c.Respiration, new SampleRate(rates.Respiration));
        output.WriteLine($"arousal {arousal}: intended HR {intended:0.0}, ECG {ecg.Features["ECG_Rate_Mean"]:0.0} (F1 {f1:0.000}), PPG {ppg.Features["PPG_Rate_Mean"]:0.0}, " +
            $"RSP {rsp.Features["RSP_Rate_Mean"]:0.0} (intended {SignalGenerator.BreathsPerMinute(arousal):0.0}), RMSSD {ecg.Features["HRV_RMSSD"]:0.0}");
        Assert.True(f1 >= 0.99, $"R-peak F1 {f1:0.000}");
        Assert.InRange(ecg.Features["ECG_Rate_Mean"], intended - 3, intended + 3);
        Assert.InRange(ppg.Features["PPG_Rate_Mean"], intended - 3, intended + 3);
        Assert.InRange(rsp.Features["RSP_Rate_Mean"], SignalGenerator.BreathsPerMinute(arousal) - 1.5, SignalGenerator.BreathsPerMinute(arousal) + 1.5);
    }

    [Fact]
    public void HigherArousalGivesMoreSkinConductanceResponsesHigherTonicLevelAndLessHrv()
    {
        var low = Generate(0.1, 600);
        var high = Generate(0.9, 600);
        var eLow = EdaPipeline.Process(low.Eda, new SampleRate(4));
        var eHigh = EdaPipeline.Process(high.Eda, new SampleRate(4));
        var hLow = EcgPipeline.Process(low.Ecg, new SampleRate(250));
        var hHigh = EcgPipeline.Process(high.Ecg, new SampleRate(250));
        output.WriteLine($"SCR/min {eLow.Features["SCR_Rate"]:0.0} -> {eHigh.Features["SCR_Rate"]:0.0}; SCL {eLow.Features["SCL_Mean"]:0.00} -> {eHigh.Features["SCL_Mean"]:0.00}; RMSSD {hLow.Features["HRV_RMSSD"]:0.0} -> {hHigh.Features["HRV_RMSSD"]:0.0}");
        Assert.True(eHigh.Features["SCR_Rate"] > 1.5 * eLow.Features["SCR_Rate"]);
        Assert.True(eHigh.Features["SCL_Mean"] > eLow.Features["SCL_Mean"]);
        Assert.True(hHigh.Features["HRV_RMSSD"] < hLow.Features["HRV_RMSSD"]);
    }

    [Fact]
    public void ChunksOfAnySizeGiveTheSameSignals()
    {
        var whole = Generate(0.4, 30, seed: 9);
        var g = new SignalGenerator(Profile(), 9);
        var parts = new[] { 7.3, 0.9, 11.8, 10.0 }.Select(s => g.Next(s, _ => 0.4)).ToList();
        Assert.Equal(whole.Ecg, parts.SelectMany(p => p.Ecg));
        Assert.Equal(whole.Eda, parts.SelectMany(p => p.Eda));
        Assert.Equal(whole.Ppg.Length, parts.Sum(p => p.Ppg.Length));
    }

    [Fact]
    public void ArtifactsAppearWhereScheduledAndThePipelinesSayWhy()
    {
        var c = Generate(0.3, 60, artifacts: new[] { new Artifact(ArtifactKind.ElectrodeLoss, 20, 3), new Artifact(ArtifactKind.Motion, 40, 5) });
        Assert.True(double.IsNaN(c.Ecg[21 * 250]));
        Assert.False(double.IsNaN(c.Ecg[10 * 250]));
        // A 3 s electrode loss is too long to bridge: the ECG pipeline says where.
        var e = Assert.Throws<SignalInputException>(() => EcgPipeline.Process(c.Ecg, new SampleRate(250)));
        Assert.Contains("ecg[5000..", e.Message);
        // Motion shows in the accelerometer.
        var mag = OpenVret.Signals.Other.Accelerometer.Magnitude(c.AccX.AsSpan(40 * 32, 5 * 32), c.AccY.AsSpan(40 * 32, 5 * 32), c.AccZ.AsSpan(40 * 32, 5 * 32), SignalUnit.StandardGravity);
        Assert.Equal(1, OpenVret.Signals.Other.Accelerometer.Features(mag)["ACC_Motion"]);
    }
}
