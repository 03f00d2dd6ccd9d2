using System.Globalization;

namespace OpenVret.Signals.Streaming;

/// <summary>A channel the extractor expects.</summary>
public sealed record ChannelSpec(string Name, Modality Modality, SampleRate Rate);

/// <summary>One row of the windowed feature table: features of [EndSeconds - window, EndSeconds).</summary>
public sealed record FeatureVector(double EndSeconds, double WindowSeconds, FeatureSet Features);

/// <summary>
/// Windowed feature extraction over live channels. Samples arrive in chunks of any size per channel, each
/// stamped with the monotonic session time of its first sample; every <c>hop</c> seconds of sample time, once
/// every channel has reached that time, a <see cref="FeatureVector"/> of the last <c>window</c> seconds is
/// emitted. Memory is bounded (one window per channel). Because window features are computed by
/// <see cref="WindowFeatures"/> on exactly the window's samples, the output does not depend on how the
/// input was chunked and equals the batch table of the same recording (<see cref="ExtractBatch"/>).
/// Gaps are filled with NaN (bridged or reported by the pipelines); chunks that overlap accepted data are
/// rejected with an error naming the channel and time, and nothing already accepted is lost.
/// </summary>
public sealed class StreamingFeatureExtractor
{
    private sealed class Channel(ChannelSpec spec, int capacity)
    {
        public ChannelSpec Spec { get; } = spec;
        /// <summary>Column prefix: the modality's ("EDA.") when only one channel has it, else the channel's name.</summary>
        public string Prefix = "";
        /// <summary>Prefixed column names, built once per feature instead of once per hop.</summary>
        public readonly Dictionary<string, string> Columns = new(StringComparer.Ordinal);
        public string Column(string feature)
        {
            if (!Columns.TryGetValue(feature, out var name)) Columns[feature] = name = Prefix + feature;
            return name;
        }

        /// <summary>Incremental beat detection for ECG/PPG channels (null for the others).</summary>
        public BeatTracker? Tracker = spec.Modality is Modality.Ecg or Modality.Ppg ? new BeatTracker(spec.Modality, spec.Rate) : null;
        public long FirstHeld => Math.Max(0, Received - Ring.Length);

        /// <summary>Copies absolute samples [from, from + destination.Length) from the ring; NaN where not held.</summary>
        public void Read(long from, Span<double> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                long k = from + i;
                destination[i] = k < FirstHeld || k >= Received ? double.NaN : Ring[(int)(k % Ring.Length)];
            }
        }
        public double[] Ring { get; } = new double[capacity];
        public long Received; // samples accepted since the session start (including NaN fill)
        public double StartSeconds = double.NaN;
        public double EndSeconds => StartSeconds + Received / Spec.Rate.Hertz;
    }

    private readonly Dictionary<string, Channel> _channels;
    private readonly double _window, _hop;
    private readonly Hrv.HrvOptions _hrv = new();
    private double _nextEmit = double.NaN;
    private bool _emitted;

    /// <summary>Largest gap (s) filled with NaN; a longer one is treated as a lost sensor for that span.</summary>
    public double MaxGapSeconds { get; init; } = 30;

    /// <summary>
    /// How far (s) the most advanced channel may run ahead of a silent one before windows are emitted
    /// without it (its features missing, flagged): a lost sensor never stalls the session.
    /// </summary>
    public const double MaxLeadSeconds = 30;

    /// <summary>Timestamps within this many samples of the expected time count as contiguous (clock jitter).</summary>
    public double JitterSamples { get; init; } = 0.5;

    public StreamingFeatureExtractor(IEnumerable<ChannelSpec> channels, double windowSeconds = 60, double hopSeconds = 1)
    {
        if (!(windowSeconds > 0)) throw new SignalInputException("window", windowSeconds.ToString(CultureInfo.InvariantCulture), "window must be > 0 s");
        if (!(hopSeconds > 0) || hopSeconds > windowSeconds) throw new SignalInputException("hop", hopSeconds.ToString(CultureInfo.InvariantCulture), $"hop must be > 0 s and <= the window ({windowSeconds} s)");
        _window = windowSeconds; _hop = hopSeconds;
        _channels = new Dictionary<string, Channel>(StringComparer.Ordinal);
        foreach (var c in channels)
        {
            if (_channels.ContainsKey(c.Name)) throw new SignalInputException("channel", c.Name, "declared twice");
            _channels[c.Name] = new Channel(c, Math.Max(1, (int)Math.Ceiling((windowSeconds + MaxLeadSeconds + hopSeconds) * c.Rate.Hertz)));
        }
        if (_channels.Count == 0) throw new SignalInputException("channels", "0", "declare at least one channel");
        foreach (var c in _channels.Values)
        {
            bool shared = _channels.Values.Count(o => o.Spec.Modality == c.Spec.Modality) > 1;
            c.Prefix = _channels.Count == 1 ? "" : shared ? new string(c.Spec.Name.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray()) + "." : WindowFeatures.Prefix(c.Spec.Modality);
        }
    }

    public IReadOnlyCollection<ChannelSpec> Channels => _channels.Values.Select(c => c.Spec).ToList();

    /// <summary>Accepts a chunk and returns the feature vectors that became complete.</summary>
    public IReadOnlyList<FeatureVector> Push(string channel, double startSeconds, ReadOnlySpan<double> samples)
    {
        if (!_channels.TryGetValue(channel, out var c))
            throw new SignalInputException("channel", channel, $"unknown channel; declared: {string.Join(", ", _channels.Keys)}");
        if (!double.IsFinite(startSeconds))
            throw new SignalInputException($"{channel}.startSeconds", startSeconds.ToString(CultureInfo.InvariantCulture), "timestamp must be finite");
        double fs = c.Spec.Rate.Hertz;
        if (double.IsNaN(c.StartSeconds))
        {
            c.StartSeconds = startSeconds;
            // The first window closes when every channel has a full window of data.
            if (!_emitted) _nextEmit = double.IsNaN(_nextEmit) ? startSeconds + _window : Math.Max(_nextEmit, startSeconds + _window);
        }
        double expected = c.EndSeconds;
        double offsetSamples = (startSeconds - expected) * fs;
        if (offsetSamples < -JitterSamples)
            throw new SignalInputException($"{channel}.startSeconds", startSeconds.ToString("0.######", CultureInfo.InvariantCulture),
                $"chunk overlaps data already accepted up to {expected.ToString("0.######", CultureInfo.InvariantCulture)} s (out-of-order or duplicate); it was not applied");
        if (offsetSamples > JitterSamples)
        {
            long gap = (long)Math.Round(offsetSamples);
            if (gap / fs > MaxGapSeconds) gap = (long)Math.Ceiling(MaxGapSeconds * fs);
            for (long i = 0; i < gap; i++) Append(c, double.NaN);
        }
        foreach (var v in samples) Append(c, v);
        return Drain();
    }

    private static void Append(Channel c, double v)
    {
        c.Ring[(int)(c.Received % c.Ring.Length)] = v;
        c.Received++;
    }

    private List<FeatureVector> Drain()
    {
        var res = new List<FeatureVector>();
        while (true)
        {
            double t = _nextEmit;
            if (double.IsNaN(t)) break;
            bool allThere = _channels.Values.All(c => !double.IsNaN(c.StartSeconds) && c.EndSeconds + 1e-9 >= t);
            double lead = _channels.Values.Where(c => !double.IsNaN(c.StartSeconds)).Max(c => c.EndSeconds) - t;
            if (!allThere && lead < MaxLeadSeconds) break;
            res.Add(Compute(t));
            _emitted = true;
            _nextEmit = t + _hop;
        }
        return res;
    }

    private FeatureVector Compute(double end)
    {
        var all = new FeatureSet(capacity: 48 * _channels.Count);
        all.Set("time_end_s", end);
        foreach (var c in _channels.Values)
        {
            double fs = c.Spec.Rate.Hertz;
            long endIdx = (long)Math.Round((end - c.StartSeconds) * fs);
            int n = (int)Math.Min(c.Ring.Length, Math.Round(_window * fs));
            long startIdx = endIdx - n;
            FeatureSet f;
            if (c.Tracker is { } tracker)
            {
                tracker.Advance(endIdx, c.FirstHeld, c.Read);
                f = tracker.Features(startIdx, endIdx, _hrv);
            }
            else
            {
                var buf = new double[n];
                c.Read(startIdx, buf);
                f = WindowFeatures.Compute(c.Spec.Modality, buf, c.Spec.Rate);
            }
            if (double.IsNaN(c.StartSeconds) || c.EndSeconds + 1e-9 < end)
                f.Flag(new QualityFlag("sensor_lagging", $"no data after {(double.IsNaN(c.StartSeconds) ? "start" : c.EndSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s")}; window closed without it", QualitySeverity.Error));
            foreach (var kv in f.Values) all.Set(c.Column(kv.Key), kv.Value);
            foreach (var fl in f.Flags) all.Flag(fl with { Message = $"{c.Spec.Name}: {fl.Message}" });
        }
        return new FeatureVector(end, _window, all);
    }

    /// <summary>
    /// The windowed table of a whole recording: the same computation, fed hop by hop with the channels
    /// interleaved in time (memory stays bounded to one window per channel).
    /// </summary>
    public static List<FeatureVector> ExtractBatch(Recording recording, double windowSeconds, double hopSeconds)
    {
        var specs = recording.Channels.Select((c, i) =>
        {
            string name = c.Signal.Name.Length > 0 && recording.Channels.Count(o => o.Signal.Name == c.Signal.Name) == 1 ? c.Signal.Name : $"{c.Modality}{i}";
            return new ChannelSpec(name, c.Modality, c.Signal.Rate);
        }).ToList();
        var x = new StreamingFeatureExtractor(specs, windowSeconds, hopSeconds);
        var res = new List<FeatureVector>();
        var cursor = new RecordingCursor(recording);
        for (double t = cursor.StartSeconds + hopSeconds; ; t += hopSeconds)
        {
            foreach (var stretch in cursor.Until(t)) res.AddRange(x.Push(specs[stretch.Channel].Name, stretch.StartSeconds, stretch.Samples.Span));
            if (cursor.Done || t > cursor.EndSeconds + hopSeconds) break;
        }
        return res;
    }
}
