using OpenVret.Signals.Ppg;
using OpenVret.Signals.Readers;
using OpenVret.Signals.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Signals.Tests.Readers;

public sealed class E4ReaderTests(ITestOutputHelper output)
{
    [SharedDataFact("wesad-e4", "data", "S10", "S10_E4_Data")]
    public void WesadExportReadsWithRatesStartupValuesDroppedAndPulseRateNearTheDevice()
    {
        var e4 = E4Reader.Read(SharedData.Data("wesad-e4", "data", "S10", "S10_E4_Data"));
        var ch = e4.Recording.Channels.ToDictionary(c => c.Modality, c => c.Signal);
        Assert.Equal(64, ch[Modality.Ppg].Rate.Hertz);
        Assert.Equal(4, ch[Modality.Eda].Rate.Hertz);
        Assert.Equal(4, ch[Modality.SkinTemperature].Rate.Hertz);
        Assert.Equal(32, ch[Modality.Accelerometer].Rate.Hertz);
        Assert.True(ch[Modality.SkinTemperature].Samples.Take(4).All(double.IsNaN));
        Assert.True(double.IsNaN(ch[Modality.Eda].Samples[0]));
        Assert.InRange(ch[Modality.Accelerometer].Samples.Where(double.IsFinite).Average(), 0.8, 1.2); // about 1 g at rest

        // Pulse rate from BVP against the device's own HR.csv, minute by minute (median difference), over the
        // minutes our own quality measures accept: beat-template correlation >= 0.75 and no wrist motion.
        // (Under motion both wrist estimates are unreliable: the device's HR reads 110-130 bpm there.)
        var hrLines = File.ReadAllLines(SharedData.Data("wesad-e4", "data", "S10", "S10_E4_Data", "HR.csv"));
        double hrStart = double.Parse(hrLines[0], System.Globalization.CultureInfo.InvariantCulture);
        var device = hrLines.Skip(2).Select(l => double.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var bvp = ch[Modality.Ppg];
        var diffs = new List<double>();
        for (int minute = 2; minute * 60 + 60 < bvp.DurationSeconds; minute += 1)
        {
            var a = PpgPipeline.Process(bvp.Samples.AsSpan(minute * 60 * 64, 60 * 64), bvp.Rate);
            var acc = OpenVret.Signals.Other.Accelerometer.Features(ch[Modality.Accelerometer].Samples.AsSpan(minute * 60 * 32, 60 * 32));
            if (a.Features["PPG_Quality_Mean"] < 0.75 || acc["ACC_Motion"] != 0) continue;
            double ours = a.Features["PPG_Rate_Mean"];
            int from = (int)(minute * 60 + e4.StartUnixSeconds - hrStart);
            if (from < 0 || from + 60 > device.Length || !double.IsFinite(ours)) continue;
            diffs.Add(ours - device.Skip(from).Take(60).Average());
        }
        diffs.Sort();
        double median = diffs[diffs.Count / 2];
        output.WriteLine($"{diffs.Count} minutes; median(ours - device) {median:0.0} bpm; 10th-90th pct {diffs[diffs.Count / 10]:0.0} .. {diffs[diffs.Count * 9 / 10]:0.0}");
        Assert.True(diffs.Count >= 10, $"only {diffs.Count} usable minutes");
        Assert.InRange(median, -3, 3);
    }

    [Fact]
    public void AFolderWithoutSignalsOrWithABrokenHeaderIsAClearError()
    {
        var dir = Directory.CreateTempSubdirectory("e4").FullName;
        Assert.Contains("no E4 signal file", Assert.Throws<SignalInputException>(() => E4Reader.Read(dir)).Message);
        File.WriteAllText(Path.Combine(dir, "EDA.csv"), "1500000000.0\nfour\n0.1\n");
        Assert.Contains("EDA.csv:line 2 = four", Assert.Throws<SignalInputException>(() => E4Reader.Read(dir)).Message);
        File.WriteAllText(Path.Combine(dir, "EDA.csv"), "1500000000.0\n4.0\n0\n0.5\n0.6\n");
        var ok = E4Reader.Read(dir);
        Assert.Contains("BVP.csv", ok.MissingFiles);
        Assert.Contains(ok.Flags, f => f.Code == "missing_files");
    }

    [Fact]
    public void AUtcDateTimeStartRowIsReadAsTheSameInstantAsUnixSeconds()
    {
        var unix = Directory.CreateTempSubdirectory("e4").FullName;
        var iso = Directory.CreateTempSubdirectory("e4").FullName;
        // 2013-02-24 12:23:49 UTC = 1361708629 unix seconds; TEMP starts 2 s later in both exports.
        File.WriteAllText(Path.Combine(unix, "EDA.csv"), "1361708629.000000\n4.000000\n0.5\n0.6\n");
        File.WriteAllText(Path.Combine(unix, "TEMP.csv"), "1361708631.000000\n4.000000\n33.0\n33.1\n");
        File.WriteAllText(Path.Combine(iso, "EDA.csv"), "2013-02-24 12:23:49\n4.000000\n0.5\n0.6\n");
        File.WriteAllText(Path.Combine(iso, "TEMP.csv"), "2013-02-24 12:23:51\n4.000000\n33.0\n33.1\n");
        var a = E4Reader.Read(unix);
        var b = E4Reader.Read(iso);
        Assert.Equal(1361708629, b.StartUnixSeconds, 6);
        Assert.Equal(a.StartUnixSeconds, b.StartUnixSeconds, 6);
        Assert.Equal(2.0, b.Recording.Channels.Single(c => c.Modality == Modality.SkinTemperature).Signal.StartSeconds, 6);
        File.WriteAllText(Path.Combine(iso, "EDA.csv"), "24/02/2013 noon\n4.000000\n0.5\n");
        Assert.Contains("EDA.csv:line 1", Assert.Throws<SignalInputException>(() => E4Reader.Read(iso)).Message);
    }
}
