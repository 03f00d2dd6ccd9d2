using System.Text;
using OpenVret.Signals.Readers;
using Xunit;

namespace OpenVret.Signals.Tests.Readers;

public sealed class EdfTests
{
    private static Recording Sample()
    {
        var ecgRate = new SampleRate(250); var edaRate = new SampleRate(4);
        var ecg = Enumerable.Range(0, 250 * 7).Select(i => Math.Sin(i * 0.05) * 1.5).ToArray();
        ecg[100] = double.NaN;
        var eda = Enumerable.Range(0, 4 * 7).Select(i => 2 + 0.01 * i).ToArray();
        return new Recording(new[]
        {
            new ChannelSignal(Modality.Ecg, new Signal(ecg, ecgRate, 0, SignalUnit.Millivolt, "ECG")),
            new ChannelSignal(Modality.Eda, new Signal(eda, edaRate, 0, SignalUnit.Microsiemens, "EDA")),
        });
    }

    [Fact]
    public void EdfPlusRoundTripKeepsSamplesRatesUnitsGapsAndAnnotations()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("edf").FullName, "r.edf");
        var anns = new[] { new EdfAnnotation(0.5, 2, "baseline"), new EdfAnnotation(3.25, null, "exposure step 2: floor 10 m") };
        Edf.Write(path, Sample(), anns, patientCode: "P-7f3a", start: new DateTime(2026, 11, 25, 10, 30, 0));
        var back = Edf.Read(path);
        Assert.True(back.IsEdfPlus);
        Assert.False(back.Discontinuous);
        Assert.StartsWith("P-7f3a", back.PatientId);
        Assert.Equal(new DateTime(2026, 11, 25, 10, 30, 0), back.Start);
        Assert.Equal(2, back.Recording.Channels.Count);
        var ecg = back.Recording.Channels[0];
        Assert.Equal(Modality.Ecg, ecg.Modality);
        Assert.Equal(250, ecg.Signal.Rate.Hertz);
        Assert.Equal(SignalUnit.Millivolt, ecg.Signal.Unit);
        var original = Sample().Channels[0].Signal.Samples;
        double step = 3.0 / 65534; // physical range / digital range
        for (int i = 0; i < original.Length; i++)
        {
            if (double.IsNaN(original[i])) Assert.True(double.IsNaN(ecg.Signal.Samples[i]));
            else Assert.True(Math.Abs(original[i] - ecg.Signal.Samples[i]) <= step, $"sample {i}: {original[i]} vs {ecg.Signal.Samples[i]}");
        }
        Assert.Equal(SignalUnit.Microsiemens, back.Recording.Channels[1].Signal.Unit);
        Assert.Equal(new[] { "baseline", "exposure step 2: floor 10 m" }, back.Annotations.Select(a => a.Text));
        Assert.Equal(0.5, back.Annotations[0].OnsetSeconds);
        Assert.Equal(2.0, back.Annotations[0].DurationSeconds);
        Assert.Equal(3.25, back.Annotations[1].OnsetSeconds);
    }

    [Fact]
    public void DiscontinuousRecordsArePlacedAtTheirTimeWithTheGapMissing()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("edf").FullName, "d.edf");
        Edf.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        // Mark the file EDF+D and move the second record (time-keeping TAL "+1") to t = 9 s.
        Encoding.ASCII.GetBytes("EDF+D").CopyTo(bytes, 192);
        int recordBytes = 2 * (250 + 4 + 30);
        int annOffset = 256 * 4 + recordBytes + 2 * (250 + 4);
        Assert.Equal((byte)'+', bytes[annOffset]);
        Assert.Equal((byte)'1', bytes[annOffset + 1]);
        bytes[annOffset + 1] = (byte)'9';
        File.WriteAllBytes(path, bytes);
        var back = Edf.Read(path);
        Assert.True(back.Discontinuous);
        var ecg = back.Recording.Channels[0].Signal;
        Assert.True(ecg.DurationSeconds >= 10);
        Assert.True(double.IsNaN(ecg.Samples[250 + 10]));        // t = 1 s: now a gap
        Assert.False(double.IsNaN(ecg.Samples[9 * 250 + 10]));   // t = 9 s: the moved record
    }

    [Fact]
    public void BrokenFilesGiveErrorsThatNameTheField()
    {
        var dir = Directory.CreateTempSubdirectory("edf").FullName;
        var path = Path.Combine(dir, "r.edf");
        Edf.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(Path.Combine(dir, "trunc.edf"), bytes[..(bytes.Length - 100)]);
        Assert.Contains("truncated", Assert.Throws<SignalInputException>(() => Edf.Read(Path.Combine(dir, "trunc.edf"))).Message);
        var bad = (byte[])bytes.Clone();
        Encoding.ASCII.GetBytes("abc     ").CopyTo(bad, 236);
        File.WriteAllBytes(Path.Combine(dir, "bad.edf"), bad);
        Assert.Contains("header.numberOfDataRecords = abc", Assert.Throws<SignalInputException>(() => Edf.Read(Path.Combine(dir, "bad.edf"))).Message);
        var rate = new Recording(new[] { new ChannelSignal(Modality.Ecg, new Signal(new double[100], new SampleRate(15.5 * 33.3))) });
        Assert.Contains("sampleRate", Assert.Throws<SignalInputException>(() => Edf.Write(Path.Combine(dir, "x.edf"), rate)).Message);
    }
}
