using OpenVret.Signals.Ecg;
using OpenVret.Signals.Eda;
using OpenVret.Signals.Readers;
using OpenVret.Signals.Rsp;
using OpenVret.Signals.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Signals.Tests.Readers;

public sealed class WfdbReaderTests(ITestOutputHelper output)
{
    [SharedDataTheory("drivedb", "drive17a.dat")]
    [InlineData("drive17a", 480.0)]
    [InlineData("drive17b", 496.0)]
    public void DriveDbRecordsReadWithTheirRatesAndTheEcgMatchesTheDeviceHeartRate(string record, double ecgRate)
    {
        var rec = WfdbReader.Read(SharedData.Data("drivedb", record + ".hea"));
        Assert.Equal(7, rec.Channels.Count);
        var ecg = rec.Channels.Single(c => c.Signal.Name == "ECG").Signal;
        Assert.Equal(ecgRate, ecg.Rate.Hertz, 6);
        Assert.True(ecg.DurationSeconds > 20 * 60, $"{record}: only {ecg.DurationSeconds:0} s");
        Assert.Equal(Modality.Ecg, rec.Channels[0].Modality);
        Assert.Equal(Modality.Eda, rec.Channels.Single(c => c.Signal.Name == "hand GSR").Modality);

        // The whole drive (about half an hour) goes through the ECG pipeline without an exception.
        var a = EcgPipeline.Process(ecg.Samples, ecg.Rate);
        double ours = a.Features["ECG_Rate_Mean"];
        var hr = rec.Channels.Single(c => c.Signal.Name == "HR").Signal.Samples.Where(v => v is > 30 and < 200).OrderBy(v => v).ToArray();
        double device = hr[hr.Length / 2];
        output.WriteLine($"{record}: {a.Peaks.Length} beats in {ecg.DurationSeconds:0} s, mean rate {ours:0.0} bpm, device HR median {device:0.0}, corrections {a.Correction}, quality {a.Features["ECG_Quality_Mean"]:0.00}");
        Assert.InRange(ours, device - 5, device + 5);

        // Hand GSR and respiration of the same drive: processed, plausible.
        var gsr = rec.Channels.Single(c => c.Signal.Name == "hand GSR").Signal;
        var eda = EdaPipeline.Process(gsr.Samples, gsr.Rate);
        Assert.True(eda.Scrs.Count > 0);
        var resp = rec.Channels.Single(c => c.Signal.Name == "RESP").Signal;
        var r = RespirationPipeline.Process(resp.Samples, resp.Rate);
        output.WriteLine($"{record}: {eda.Scrs.Count} SCRs, respiration {r.Features["RSP_Rate_Mean"]:0.0}/min");
        Assert.InRange(r.Features["RSP_Rate_Mean"], 6, 30);
    }

    [Fact]
    public void Format212WithSeveralSignalsPerFileRoundTrips()
    {
        var dir = Directory.CreateTempSubdirectory("wfdb").FullName;
        // Two signals interleaved, 6 frames: values span the 12-bit range including negatives.
        int[] s0 = { 0, 1, -1, 2047, -2047, 100 }, s1 = { -5, 5, 1000, -1000, 0, 7 };
        var stream = s0.Zip(s1, (a, b) => new[] { a, b }).SelectMany(p => p).ToArray();
        var bytes = new List<byte>();
        for (int i = 0; i < stream.Length; i += 2)
        {
            int a = stream[i] & 0xFFF, b = stream[i + 1] & 0xFFF;
            bytes.Add((byte)(a & 0xFF));
            bytes.Add((byte)(((a >> 8) & 0x0F) | ((b >> 8) << 4)));
            bytes.Add((byte)(b & 0xFF));
        }
        File.WriteAllBytes(Path.Combine(dir, "t.dat"), bytes.ToArray());
        File.WriteAllText(Path.Combine(dir, "t.hea"), "t 2 360 6\nt.dat 212 200 11 0 0 0 0 MLII\nt.dat 212 100(10)/mV 11 0 0 0 0 V5\n");
        var rec = WfdbReader.Read(Path.Combine(dir, "t"));
        Assert.Equal(s0.Select(v => v / 200.0), rec.Channels[0].Signal.Samples);
        Assert.Equal(s1.Select(v => (v - 10) / 100.0), rec.Channels[1].Signal.Samples);
        Assert.Equal(360, rec.Channels[0].Signal.Rate.Hertz);
    }

    [Fact]
    public void BrokenRecordsGiveErrorsThatNameTheProblem()
    {
        var dir = Directory.CreateTempSubdirectory("wfdb").FullName;
        File.WriteAllText(Path.Combine(dir, "a.hea"), "a 1 250 100\na.dat 16 200 16 0 0 0 0 ECG\n");
        Assert.Contains("not found", Assert.Throws<SignalInputException>(() => WfdbReader.Read(Path.Combine(dir, "a"))).Message);
        File.WriteAllBytes(Path.Combine(dir, "a.dat"), new byte[50]);
        Assert.Contains("truncated", Assert.Throws<SignalInputException>(() => WfdbReader.Read(Path.Combine(dir, "a"))).Message);
        File.WriteAllText(Path.Combine(dir, "b.hea"), "b 1 250 100\nb.dat 310 200 16 0 0 0 0 ECG\n");
        Assert.Contains("b.hea:signal 1:format = 310", Assert.Throws<SignalInputException>(() => WfdbReader.Read(Path.Combine(dir, "b"))).Message);
        File.WriteAllText(Path.Combine(dir, "c.hea"), "c two 250\n");
        Assert.Contains("nsig = two", Assert.Throws<SignalInputException>(() => WfdbReader.Read(Path.Combine(dir, "c"))).Message);
    }
}
