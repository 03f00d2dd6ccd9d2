using System.Diagnostics;
using OpenVret.Signals;
using OpenVret.Signals.Streaming;

/// <summary>
/// One hour of ECG 250 Hz + BVP 64 Hz + EDA 4 Hz + TEMP 4 Hz + ACC 32 Hz pushed in 1 s chunks through the
/// streaming extractor (60 s window, 1 s hop): time per hop and managed memory after 10 and 60 minutes.
/// </summary>
public static class StreamingBench
{
    public static void Run(double[] ecg500)
    {
        // A live session runs for an hour; the bench replays that hour in about a second. Without a warm-up it
        // would time the JIT's unoptimised first tier (measured: median 524 us cold vs the steady state below).
        var cold = Hour(ecg500, warmUp: true);
        Console.WriteLine($"streaming (cold process, first hour replayed): per hop median {cold:0} us");
        Thread.Sleep(500);
        Hour(ecg500, warmUp: false);
    }

    private static double Hour(double[] ecg500, bool warmUp)
    {
        var ecg = new double[ecg500.Length / 2];
        for (int i = 0; i < ecg.Length; i++) ecg[i] = ecg500[2 * i];
        var rng = new Random(5);
        int seconds = Math.Min(3600, ecg.Length / 250);
        double Pulse(double t) => Math.Pow(Math.Max(0, Math.Sin(2 * Math.PI * 1.17 * t)), 3) + 0.02 * rng.NextDouble();
        var specs = new[]
        {
            new ChannelSpec("ECG", Modality.Ecg, new SampleRate(250)), new ChannelSpec("BVP", Modality.Ppg, new SampleRate(64)),
            new ChannelSpec("EDA", Modality.Eda, new SampleRate(4)), new ChannelSpec("TEMP", Modality.SkinTemperature, new SampleRate(4)),
            new ChannelSpec("ACC", Modality.Accelerometer, new SampleRate(32)),
        };
        var x = new StreamingFeatureExtractor(specs, 60, 1);
        var times = new List<double>();
        var bytes = new List<long>();
        long mem10 = 0;
        var chunkB = new double[64]; var chunkE = new double[4]; var chunkT = new double[4]; var chunkA = new double[32];
        for (int s = 0; s < seconds; s++)
        {
            for (int i = 0; i < 64; i++) chunkB[i] = Pulse(s + i / 64.0);
            for (int i = 0; i < 4; i++) { chunkE[i] = 2 + 0.3 * Math.Exp(-Math.Pow(((s + i / 4.0) % 25) - 10, 2) / 4); chunkT[i] = 33 + 0.0001 * s; }
            for (int i = 0; i < 32; i++) chunkA[i] = 1 + 0.01 * rng.NextDouble();
            x.Push("BVP", s, chunkB); x.Push("EDA", s, chunkE); x.Push("TEMP", s, chunkT); x.Push("ACC", s, chunkA);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            var emitted = x.Push("ECG", s, ecg.AsSpan(s * 250, 250));
            if (emitted.Count > 0) { times.Add(sw.Elapsed.TotalMicroseconds); bytes.Add(GC.GetAllocatedBytesForCurrentThread() - before); }
            if (s == 600) { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); mem10 = GC.GetTotalMemory(true); }
        }
        times.Sort(); bytes.Sort();
        if (warmUp) return times[times.Count / 2];
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long mem60 = GC.GetTotalMemory(true);
        Console.WriteLine($"streaming: allocated per hop median {bytes[bytes.Count / 2] / 1024.0:0} KiB; gen0 collections {GC.CollectionCount(0)}, gen2 {GC.CollectionCount(2)}");
        Console.WriteLine($"streaming: {times.Count} hops over {seconds} s; per hop median {times[times.Count / 2]:0} us, p99 {times[(int)(times.Count * 0.99)]:0} us, max {times[^1]:0} us");
        Console.WriteLine($"streaming: managed memory after 10 min {mem10 / 1024.0:0} KiB, after {seconds / 60} min {mem60 / 1024.0:0} KiB");
        return times[times.Count / 2];
    }
}
