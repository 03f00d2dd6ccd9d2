using OpenVret.Protocol;
using OpenVret.Simulation;

namespace OpenVret.Server.Tests.Support;

/// <summary>
/// A simulated wearable for tests: a virtual patient's physiology from <see cref="SignalGenerator"/>, cut into
/// 100 ms batches per channel with sequence numbers and its own clock (offset and drift from session time).
/// </summary>
public sealed class SimDevice
{
    public static readonly ChannelDeclaration[] Channels =
    {
        new("ecg", ChannelKind.Ecg, 250, "mV"),
        new("bvp", ChannelKind.Ppg, 64, "a.u."),
        new("eda", ChannelKind.Eda, 4, "uS"),
        new("temp", ChannelKind.SkinTemperature, 4, "degC"),
        new("acc", ChannelKind.Accelerometer, 32, "g"),
    };

    private readonly SignalGenerator _generator;
    private readonly long[] _sequence = new long[Channels.Length];
    private readonly long[] _sent = new long[Channels.Length];
    public double ClockOffset { get; }
    public double DriftPpm { get; }
    /// <summary>Seconds of data generated so far (true session time of the next sample).</summary>
    public double DataTime { get; private set; }
    public double Arousal { get; set; } = 0.1;
    public HashSet<string> Silent { get; } = new();

    public SimDevice(int seed = 3, double clockOffset = 1000, double driftPpm = 0)
    {
        var profile = Cohort.Draw(1, seed)[0];
        _generator = new SignalGenerator(profile, seed);
        ClockOffset = clockOffset;
        DriftPpm = driftPpm;
    }

    /// <summary>Device clock reading at true session time <paramref name="t"/>.</summary>
    public double DeviceClock(double t) => ClockOffset + t * (1 + DriftPpm * 1e-6);

    /// <summary>The next 100 ms of every channel as batches.</summary>
    public List<SampleBatch> Next(double seconds = 0.1)
    {
        var c = _generator.Next(seconds, _ => Arousal);
        var acc = c.AccX.Select((x, i) => Math.Sqrt(x * x + c.AccY[i] * c.AccY[i] + c.AccZ[i] * c.AccZ[i])).ToArray();
        var data = new[] { c.Ecg, c.Ppg, c.Eda, c.Temperature, acc };
        var list = new List<SampleBatch>();
        for (int k = 0; k < Channels.Length; k++)
        {
            if (data[k].Length == 0) continue;
            double t = _sent[k] / Channels[k].RateHz;
            _sent[k] += data[k].Length;
            long seq = _sequence[k]++;
            if (Silent.Contains(Channels[k].Name)) continue;
            list.Add(new SampleBatch(Channels[k].Name, seq, DeviceClock(t), data[k].Select(v => (float)v).ToArray()));
        }
        DataTime += seconds;
        return list;
    }
}
