using OpenVret.Signals.Streaming;
using Xunit;

namespace OpenVret.Signals.Tests.Unit;

public sealed class StreamingTests
{
    private static Recording Synthetic(double seconds)
    {
        var ppgRate = new SampleRate(64); var edaRate = new SampleRate(4); var tempRate = new SampleRate(4); var accRate = new SampleRate(32);
        var rng = new Random(3);
        double[] Gen(SampleRate r, Func<double, double> f) => Enumerable.Range(0, r.SamplesIn(seconds)).Select(i => f(i / r.Hertz)).ToArray();
        var ppg = Gen(ppgRate, t => Math.Pow(Math.Max(0, Math.Sin(2 * Math.PI * 1.15 * t + 0.3 * Math.Sin(2 * Math.PI * 0.25 * t))), 3) + 0.01 * rng.NextDouble());
        var eda = Gen(edaRate, t => 2 + 0.002 * t + 0.3 * Math.Exp(-Math.Pow((t % 20 - 8) / 2.0, 2)));
        var temp = Gen(tempRate, t => 33 + 0.001 * t);
        var acc = Gen(accRate, t => 1 + 0.02 * Math.Sin(t));
        return new Recording(new[]
        {
            new ChannelSignal(Modality.Ppg, new Signal(ppg, ppgRate)),
            new ChannelSignal(Modality.Eda, new Signal(eda, edaRate)),
            new ChannelSignal(Modality.SkinTemperature, new Signal(temp, tempRate)),
            new ChannelSignal(Modality.Accelerometer, new Signal(acc, accRate)),
        });
    }

    [Fact]
    public void ArbitraryChunksGiveExactlyTheBatchTable()
    {
        var rec = Synthetic(150);
        var batch = StreamingFeatureExtractor.ExtractBatch(rec, 60, 5);
        var specs = rec.Channels.Select((c, i) => new ChannelSpec($"{c.Modality}{i}", c.Modality, c.Signal.Rate)).ToList();
        // (Same names as ExtractBatch gives unnamed signals.)
        var x = new StreamingFeatureExtractor(specs, 60, 5);
        var rng = new Random(11);
        var pos = new int[specs.Count];
        var live = new List<FeatureVector>();
        while (pos.Zip(rec.Channels, (p, c) => p < c.Signal.Length).Any(b => b))
        {
            // Devices stream roughly in step (a lead beyond MaxLeadSeconds is a lost sensor, tested elsewhere).
            int i = rng.NextDouble() < 0.6
                ? Enumerable.Range(0, specs.Count).Where(k => pos[k] < rec.Channels[k].Signal.Length).MinBy(k => rec.Channels[k].Signal.TimeOf(pos[k]))
                : rng.Next(specs.Count);
            var s = rec.Channels[i].Signal;
            if (pos[i] >= s.Length) continue;
            int n = Math.Min(rng.Next(1, (int)s.Rate.Hertz * 3), s.Length - pos[i]);
            live.AddRange(x.Push(specs[i].Name, s.TimeOf(pos[i]), s.Samples.AsSpan(pos[i], n)));
            pos[i] += n;
        }
        Assert.Equal(batch.Count, live.Count);
        Assert.True(batch.Count >= 18);
        for (int r = 0; r < batch.Count; r++)
        {
            Assert.Equal(batch[r].EndSeconds, live[r].EndSeconds);
            Assert.Equal(batch[r].Features.Names, live[r].Features.Names);
            foreach (var n in batch[r].Features.Names) Assert.Equal(batch[r].Features[n], live[r].Features[n]);
        }
        Assert.InRange(batch[^1].Features["PPG.PPG_Rate_Mean"], 66, 72);
    }

    [Fact]
    public void OverlappingChunksAreRejectedAndNothingAcceptedIsLost()
    {
        var rate = new SampleRate(4);
        var x = new StreamingFeatureExtractor(new[] { new ChannelSpec("eda", Modality.Eda, rate) }, 20, 1);
        var data = Enumerable.Range(0, 100).Select(i => 2 + 0.01 * i).ToArray();
        var first = x.Push("eda", 0, data);
        Assert.NotEmpty(first);
        var e = Assert.Throws<SignalInputException>(() => x.Push("eda", 10, data.AsSpan(0, 8)));
        Assert.Contains("eda.startSeconds", e.Message);
        Assert.Throws<SignalInputException>(() => x.Push("ecg", 0, data));
        var more = x.Push("eda", 25, data.AsSpan(0, 8));
        Assert.Equal(2, more.Count);
        Assert.Equal(first[^1].EndSeconds + 1, more[0].EndSeconds);
    }

    [Fact]
    public void AGapIsCarriedAsMissingDataNotAsTimeShift()
    {
        var rate = new SampleRate(4);
        var x = new StreamingFeatureExtractor(new[] { new ChannelSpec("temp", Modality.SkinTemperature, rate) }, 10, 1);
        x.Push("temp", 0, Enumerable.Repeat(33.0, 40).ToArray());
        var after = x.Push("temp", 30, Enumerable.Repeat(34.0, 40).ToArray());
        var last = after[^1];
        Assert.Equal(40, last.EndSeconds);
        Assert.Equal(34.0, last.Features["TEMP_Mean"], 9);
        var mid = after.First(v => v.EndSeconds == 20);
        Assert.True(double.IsNaN(mid.Features["TEMP_Mean"]));
    }
}

public sealed class ChannelNamingTests
{
    [Fact]
    public void TwoChannelsOfOneModalityKeepTheirOwnColumns()
    {
        var rate = new SampleRate(4);
        var foot = Enumerable.Range(0, 400).Select(i => 1.0 + 0.001 * i).ToArray();
        var hand = Enumerable.Range(0, 400).Select(i => 5.0 + 0.001 * i).ToArray();
        var rec = new Recording(new[]
        {
            new ChannelSignal(Modality.Eda, new Signal(foot, rate, 0, SignalUnit.Microsiemens, "foot GSR")),
            new ChannelSignal(Modality.Eda, new Signal(hand, rate, 0, SignalUnit.Microsiemens, "hand GSR")),
        });
        var rows = OpenVret.Signals.Streaming.StreamingFeatureExtractor.ExtractBatch(rec, 60, 10);
        Assert.InRange(rows[0].Features["foot_GSR.SCL_Mean"], 1.0, 1.3);
        Assert.InRange(rows[0].Features["hand_GSR.SCL_Mean"], 5.0, 5.3);
    }
}

public sealed class BeatTrackerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [OpenVret.Signals.Tests.Support.OracleFact]
    public void StreamedEcgFeaturesAgreeWithTheOfflinePipelineOnTheSameWindow()
    {
        var c = new OpenVret.Signals.Tests.Conformance.OracleCase("ecg_250hz_300s");
        var ecg = c.Column("ecg");
        var x = new StreamingFeatureExtractor(new[] { new ChannelSpec("ECG", Modality.Ecg, c.Rate) }, 60, 10);
        var rows = new List<FeatureVector>();
        for (int s = 0; s < 300; s++) rows.AddRange(x.Push("ECG", s, ecg.AsSpan(s * 250, 250)));
        foreach (var row in rows.Where(r => r.EndSeconds >= 120))
        {
            int end = (int)(row.EndSeconds * 250);
            var offline = OpenVret.Signals.Ecg.EcgPipeline.Process(ecg.AsSpan(end - 15000, 15000), c.Rate).Features;
            output.WriteLine($"t={row.EndSeconds}: rate {row.Features["ECG_Rate_Mean"]:0.00} vs {offline["ECG_Rate_Mean"]:0.00}, RMSSD {row.Features["HRV_RMSSD"]:0.00} vs {offline["HRV_RMSSD"]:0.00}");
            Assert.InRange(row.Features["ECG_Rate_Mean"], offline["ECG_Rate_Mean"] - 1, offline["ECG_Rate_Mean"] + 1);
            Assert.InRange(row.Features["HRV_RMSSD"], offline["HRV_RMSSD"] * 0.85, offline["HRV_RMSSD"] * 1.15);
            Assert.True(row.Features["ECG_Quality_Mean"] > 0.9);
        }
    }

    [OpenVret.Signals.Tests.Support.OracleFact]
    public void ADropoutIsReportedAndBeatsResumeAfterIt()
    {
        var c = new OpenVret.Signals.Tests.Conformance.OracleCase("ecg_250hz_300s");
        var ecg = c.Column("ecg");
        var x = new StreamingFeatureExtractor(new[] { new ChannelSpec("ECG", Modality.Ecg, c.Rate) }, 60, 5);
        var rows = new List<FeatureVector>();
        for (int s = 0; s < 300; s++)
        {
            if (s >= 100 && s < 110) continue; // ten seconds lost
            rows.AddRange(x.Push("ECG", s, ecg.AsSpan(s * 250, 250)));
        }
        Assert.Contains(rows, r => r.Features.Flags.Any(f => f.Code == "signal_gap"));
        var late = rows.Last();
        Assert.Equal(300, late.EndSeconds);
        Assert.InRange(late.Features["ECG_Rate_Mean"], 65, 75);
        Assert.Contains(rows, r => r.EndSeconds == 105); // windows kept coming through the gap
    }
}
