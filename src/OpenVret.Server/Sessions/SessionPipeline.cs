using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OpenVret.Dialogue;
using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Memory;
using OpenVret.Exposure;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Safety;
using OpenVret.Exposure.Scheduling;
using OpenVret.Exposure.Session;
using OpenVret.Learning;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Signals;
using OpenVret.Signals.Streaming;

namespace OpenVret.Server.Sessions;

/// <summary>How a session is set up (from its record, or on resume after a restart).</summary>
public sealed record SessionSetup(
    string SessionId,
    Patient Patient,
    string SchedulerId,
    EngineMode Mode,
    int Seed,
    double BaselineSeconds,
    int SessionNumber = 1,
    double VetoSeconds = 10,
    // On resume after a restart: where the exposure was, and the personalisation baseline.
    string? ResumeItemId = null,
    string? HighestItemId = null,
    IReadOnlyDictionary<string, double>? Baseline = null,
    double ResumeAtSeconds = 0,
    // The session's rule file; null = the shipped default rules.
    string? RulesText = null);

/// <summary>What the live view of the console shows, refreshed several times per second.</summary>
public sealed record LiveView(
    string SessionId,
    double Elapsed,
    SessionPhase Phase,
    double? ArousalProbability,
    int? ArousalLevel,
    double? ArousalUncertainty,
    IReadOnlyList<Contribution> TopContributions,
    double? HeartRateBpm,
    double? SkinConductance,
    IReadOnlyDictionary<string, string> Sensors,
    string? CurrentItemId,
    double CurrentIntensity,
    IReadOnlyDictionary<string, double> Parameters,
    ExposureContext Context,
    bool HoldActive,
    bool Stopped,
    double? Suds,
    double? PredictedExpectancy,
    double? LastViolation,
    IReadOnlyList<PendingProposal> Pending,
    double BaselineRemainingSeconds,
    bool ScenePaused = false);

public sealed record PendingProposal(Proposal Proposal, ProposalStatus Status, double? AppliesInSeconds);

/// <summary>A safety or fault alert the therapist must see and acknowledge.</summary>
public sealed record Alert(string Id, double At, string Kind, string Text, bool Critical);

/// <summary>
/// One line of the session's conversation, as the console shows it: who spoke (patient, agent, therapist,
/// system), the text, and for a patient line the screen's verdict; for an agent line where it came from and why.
/// </summary>
public sealed record TranscriptItem(double At, string Speaker, string Text, string? Persona, string? Source, string? Reason,
    string? ScreenCategory, string? ScreenAction, string? ScreenRule, double? SpeakingSeconds, double? LatencySeconds);

/// <summary>Something to append to the session's records (serialised by the host).</summary>
public sealed record EntryDraft(double At, EntryKind Kind, string Name, object Payload);

/// <summary>An audit-trail item; the actor is a pseudonymous user or device id, or "engine"/"server".</summary>
public sealed record AuditDraft(string Actor, string Action, string Detail);

/// <summary>Everything one step of the pipeline produced, for the host to deliver and persist.</summary>
public sealed class Outbox
{
    public List<EntryDraft> Entries { get; } = new();
    public List<AuditDraft> Audit { get; } = new();
    public List<SceneCommand> Scene { get; } = new();
    public List<EngineEvent> EngineEvents { get; } = new();
    public List<Alert> Alerts { get; } = new();
    public List<(string DeviceId, DeviceNotice Notice)> Notices { get; } = new();
    public List<TranscriptItem> Transcript { get; } = new();
    public bool Any => Entries.Count + Audit.Count + Scene.Count + EngineEvents.Count + Alerts.Count + Notices.Count + Transcript.Count > 0;
}

/// <summary>The decision on one sample batch: the ack for the device and what to store durably.</summary>
public sealed record IngestDecision(BatchAck Ack, SampleChunk? Chunk);

/// <summary>
/// One live session as a single-threaded unit that owns its state (the host serialises every call, in process
/// or as a grain): per-channel sequence tracking and buffers, device clock alignment, the streaming feature
/// extractor, the personalised arousal estimator, the exposure engine with its safety policy, and the session's
/// phase (baseline calibration, then exposure). No I/O: every call returns an <see cref="Outbox"/> for the host.
/// Time is session time in seconds, passed in by the host (monotonic within a run).
/// </summary>
public sealed class SessionPipeline
{
    /// <summary>A channel silent (or all-NaN) this long counts as lost.</summary>
    public const double LostAfterSeconds = 5;
    /// <summary>Without any therapist console for this long, the session goes on a safety hold.</summary>
    public const double ConsoleAbsentHoldSeconds = 15;
    public const double MaxBatchSeconds = 10;
    /// <summary>
    /// The furthest a batch's sequence number may run ahead of its channel's highest accepted one (about 28 h of
    /// 1-second batches): a larger jump is a broken or hostile counter, refused so it cannot mark billions of numbers missing.
    /// </summary>
    public const long MaxSequenceJump = 100_000;
    /// <summary>At most this many separate gaps per channel; beyond it, batches that open a new gap are refused.</summary>
    public const int MaxSequenceGaps = 100_000;
    /// <summary>How far outside the session so far (before its start, after now) a late batch's time may fall, in seconds.</summary>
    public const double LateBatchSlackSeconds = 60;
    public const double WindowSeconds = 60, HopSeconds = 2;

    private sealed class ChannelState(string deviceId, ChannelDeclaration spec)
    {
        public string DeviceId { get; } = deviceId;
        public ChannelDeclaration Spec { get; } = spec;
        public string Key => $"{DeviceId}:{Spec.Name}";
        public long LastSequence = -1;
        public SequenceGaps Missing = new();
        public double LastDeviceEnd = double.NaN;
        public double NextSessionTime = double.NaN;
        public double LastFiniteArrival { get; set; } = double.NaN;
        public double LastArrival = double.NaN;
        public SensorStatus Status = SensorStatus.Good;
        public bool OverlapReported;
    }

    private sealed class DeviceState(string id)
    {
        public string Id { get; } = id;
        public ClockAligner Clock { get; } = new();
        public long LastEventSequence = -1;
        /// <summary>Event numbers below <see cref="LastEventSequence"/> never accepted (exact ranges, as for sample batches).</summary>
        public readonly SequenceGaps MissingEvents = new();
        public bool Connected;
        /// <summary>A headset (a VR client): it shows the patient the scene.</summary>
        public bool ShowsScene;
        /// <summary>A headset that disconnected while it was the only one showing the scene.</summary>
        public bool HeadsetLost;
        public double HeadAwaySince = double.NaN;
        public double LastHeadUpdate = double.NaN;
        public double LastJumpAlert = double.NegativeInfinity;
    }

    private readonly SessionSetup _setup;
    private readonly TimeProvider _clock;
    private readonly ArousalEstimator _estimator;
    private readonly Dictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ChannelState> _channels = new(StringComparer.Ordinal);
    private readonly List<IReadOnlyDictionary<string, double>> _baselineWindows = new();
    private readonly Dictionary<string, Alert> _openAlerts = new(StringComparer.Ordinal);
    private StreamingFeatureExtractor? _extractor;
    private ArousalEstimate? _arousal;
    private double? _heartRate, _scl, _suds;
    private double _now;
    private int _alertCounter;
    private long _commandSequence;
    private int _consoles;
    private double _consoleAbsentSince;
    private bool _baselineExtendedReported;
    private SceneCommand? _currentScene;
    // After a restart the headset shows the calm scene, not the step, until the therapist releases the hold (or resumes).
    private bool _calmUntilTherapist;
    // Set while a therapist's command runs: a step it applies may show on the headset even while the calm scene is held.
    private bool _therapistActing;
    private double _firstDataTime = double.NaN, _lastWindowEnd = double.NaN;
    private bool _breathingGuide, _arousalGauge;
    private readonly Queue<TranscriptItem> _transcriptTail = new();
    private const int TranscriptTail = 30;
    // What the session contributes to the patient's memory.
    private readonly List<string> _practised = new();
    private double? _sudsFirst, _sudsPeak, _expectancyFirst, _outcomeLast, _sudsAtBreathing;
    private bool _breathingUsed;

    public ExposureEngine Engine { get; }
    public SessionPhase Phase { get; private set; } = SessionPhase.Baseline;
    public string SessionId => _setup.SessionId;
    public SceneCommand? CurrentScene => _currentScene;
    public IReadOnlyCollection<Alert> OpenAlerts => _openAlerts.Values;
    public IReadOnlyDictionary<string, double>? Baseline => _estimator.Calibrated ? _estimator.BaselineMedians : null;
    public string? CurrentItemId => Engine.CurrentItemId;
    public string HighestItemId { get; private set; }

    public SessionPipeline(SessionSetup setup, ArousalModel model, TimeProvider clock, Outbox startup)
    {
        _setup = setup;
        _clock = clock;
        _estimator = new ArousalEstimator(model);
        _now = setup.ResumeAtSeconds;
        _consoleAbsentSince = _now;
        bool resumed = setup.ResumeItemId is not null || setup.Baseline is not null;
        Engine = new ExposureEngine(setup.Patient, Schedulers.Create(setup.SchedulerId),
            setup.RulesText is null ? RuleSet.Default() : RuleSet.Parse(setup.RulesText, "session rules"), setup.Patient.Safety, setup.Mode, clock,
            setup.Seed, TimeSpan.FromSeconds(setup.VetoSeconds), sessionNumber: setup.SessionNumber,
            startItemId: setup.ResumeItemId, highestItemReachedId: setup.HighestItemId);
        HighestItemId = setup.HighestItemId ?? Engine.CurrentItemId;
        if (setup.Baseline is not null)
        {
            _estimator.Restore(setup.Baseline);
            Phase = SessionPhase.Exposure;
        }
        if (resumed)
        {
            Engine.Hold("the session's host restarted (a server restart, or a cluster node that failed); it resumed from the stored state. Check the patient, then release the hold");
            Raise(startup, "server_restart", "The session's host restarted (a server restart, or a cluster node that failed) and the session was interrupted briefly. It resumed at the last applied step with a safety hold; " +
                "intensity will not rise until you release the hold.", critical: true);
        }
        Drain(startup);
        if (Phase == SessionPhase.Exposure)
        {
            // Nobody may be watching yet (no console connected): the patient sees the calm scene, not the feared step.
            _calmUntilTherapist = true;
            Command(startup, SceneCommandKind.CalmScene, null, null, null,
                "resumed after a server restart on a safety hold: a calm neutral scene until the therapist releases the hold");
        }
        else Command(startup, SceneCommandKind.CalmScene, null, null, null, "baseline calibration: a calm neutral scene while the resting baseline is recorded");
    }

    // ------------------------------------------------------------------------------------------------ devices

    /// <summary>A device said hello: its channels join the pipeline. Re-declaring the same channels (a reconnect) keeps their state.</summary>
    /// <summary>A hello's channel declarations are well formed (the error names the field and value).</summary>
    public static void CheckChannels(IReadOnlyList<ChannelDeclaration> channels)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in channels)
        {
            if (c is null) throw new ProtocolException("channels", "null", "a channel declaration is missing");
            if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 64)
                throw new ProtocolException("channels.name", c.Name ?? "(null)", "a channel needs a name of 1-64 characters");
            if (!names.Add(c.Name)) throw new ProtocolException("channels.name", c.Name, "declared twice");
            if (!(c.RateHz > 0 && c.RateHz <= 2000)) throw new ProtocolException($"channels[{c.Name}].rateHz", c.RateHz.ToString(CultureInfo.InvariantCulture), "must be > 0 and <= 2000 Hz");
            if (!Enum.IsDefined(c.Kind)) throw new ProtocolException($"channels[{c.Name}].kind", c.Kind.ToString(), "unknown channel kind");
        }
    }

    /// <summary>The channels of <paramref name="channels"/> this pipeline does not hold yet (their history must come from the store).</summary>
    public IReadOnlyList<string> NewChannels(string deviceId, IReadOnlyList<ChannelDeclaration> channels)
    {
        CheckChannels(channels);
        return channels.Where(c => !(_channels.TryGetValue($"{deviceId}:{c.Name}", out var existing) && existing.Spec == c)).Select(c => c.Name).ToList();
    }

    public HelloAck DeclareDevice(string deviceId, IReadOnlyList<ChannelDeclaration> channels, long lastEventSequence, IReadOnlyDictionary<string, long> storedSequences, Outbox o,
        bool showsScene = false, IReadOnlyDictionary<string, SequenceGaps>? storedGaps = null)
    {
        CheckChannels(channels);
        if (_removed.Contains(deviceId)) throw new ProtocolException("deviceId", deviceId, "the therapist removed this device from the session; pair a new one");
        if (!_devices.TryGetValue(deviceId, out var device))
        {
            _devices[deviceId] = device = new DeviceState(deviceId);
            // Resumed from the store, which keeps only the highest event number: a lower one arriving now is most likely one
            // whose answer was lost in the restart, so it is taken rather than risk dropping a stop request or a crisis line.
            if (lastEventSequence > 0) device.MissingEvents.Add(0, lastEventSequence - 1);
        }
        device.Connected = true;
        device.ShowsScene |= showsScene;
        if (device.HeadsetLost)
        {
            device.HeadsetLost = false;
            o.Entries.Add(new EntryDraft(_now, EntryKind.Safety, "headset_restored", new { deviceId }));
            o.Audit.Add(new AuditDraft("server", "headset_restored", deviceId));
            Raise(o, "headset_restored", $"The headset {deviceId} is back. It shows the calm scene while the session is paused; resume when the patient is ready.", critical: false);
        }
        device.LastEventSequence = Math.Max(device.LastEventSequence, lastEventSequence);
        bool changed = false;
        foreach (var c in channels)
        {
            string key = $"{deviceId}:{c.Name}";
            if (_channels.TryGetValue(key, out var existing) && existing.Spec == c) continue;
            // A declared channel that never delivers is lost after LostAfterSeconds, like one that stops.
            var state = new ChannelState(deviceId, c) { LastFiniteArrival = _now };
            if (storedSequences.TryGetValue(c.Name, out var last))
            {
                // Resumed from the store: what it never received stays missing, so a resend is taken, not called a duplicate.
                state.LastSequence = last;
                state.Missing = storedGaps?.GetValueOrDefault(c.Name) ?? new SequenceGaps();
            }
            _channels[key] = state;
            changed = true;
        }
        if (changed) RebuildExtractor(o);
        o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "device_hello", new { deviceId, channels }));
        return new HelloAck(_setup.SessionId, deviceId,
            _channels.Values.Where(c => c.DeviceId == deviceId).ToDictionary(c => c.Spec.Name, c => c.LastSequence, StringComparer.Ordinal),
            Phase == SessionPhase.Exposure && Engine.Stopped ? SessionPhase.Paused : Phase, _currentScene);
    }

    public void DeviceDisconnected(string deviceId, Outbox o)
    {
        if (!_devices.TryGetValue(deviceId, out var d) || !d.Connected) return;
        d.Connected = false;
        o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "device_disconnected", new { deviceId }));
        if (d.ShowsScene) HeadsetLost(d, o);
        if (_channels.Values.Any(c => c.DeviceId == deviceId))
            Raise(o, "device_disconnected", $"Device {deviceId} disconnected; its sensors will be marked lost in {LostAfterSeconds:0} s unless it reconnects.", critical: false);
    }

    /// <summary>
    /// The patient's headset went away (page closed, headset off, network lost; SignalR's client timeout counts as a
    /// disconnect). Like a lost sensor it is an alert, and more: the patient sees no scene, so during exposure the
    /// engine is paused (stopped, on a safety hold) and proposes nothing until the therapist resumes. While another
    /// headset of the session still shows the scene, it is only recorded.
    /// </summary>
    private void HeadsetLost(DeviceState d, Outbox o)
    {
        if (Phase is not (SessionPhase.Baseline or SessionPhase.Exposure)) return;
        if (_devices.Values.Any(x => x.ShowsScene && x.Connected)) return;
        d.HeadsetLost = true;
        if (Phase == SessionPhase.Baseline)
        {
            Raise(o, "headset_lost", $"The headset {d.Id} disconnected during the baseline: the patient sees no scene. Check the patient and the headset.", critical: false);
            return;
        }
        Raise(o, "headset_lost", $"The headset {d.Id} disconnected during exposure: the patient sees no scene. The session is paused on a safety hold and " +
            "nothing is proposed; check the patient, and resume once the headset is back.", critical: true);
        if (!Engine.Stopped) Collect(o, Engine.EmergencyStop("the headset disconnected: the patient sees no scene"));
    }

    private void RebuildExtractor(Outbox o)
    {
        var specs = _channels.Values.Where(c => Map(c.Spec.Kind) is not null)
            .Select(c => new ChannelSpec(c.Key, Map(c.Spec.Kind)!.Value, new SampleRate(c.Spec.RateHz))).ToList();
        bool hadOne = _extractor is not null;
        _extractor = specs.Count == 0 ? null : new StreamingFeatureExtractor(specs, WindowSeconds, HopSeconds);
        foreach (var c in _channels.Values) c.NextSessionTime = double.NaN;
        if (hadOne)
            o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "pipeline_rebuilt", new { reason = "the set of channels changed; feature windows restart", channels = specs.Select(s => s.Name) }));
    }

    private static Modality? Map(ChannelKind k) => ChannelKinds.ToModality(k);

    // ------------------------------------------------------------------------------------------------ samples

    /// <summary>
    /// Checks one batch and feeds it to the live pipeline. Returns the ack and the chunk the host must make
    /// durable before sending the ack (null when nothing is to be stored).
    /// </summary>
    public IngestDecision Ingest(string deviceId, SampleBatch? b, double now, Outbox o)
    {
        Advance(now);
        BatchAck Reject(string channel, long seq, string error)
        {
            o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "batch_rejected", new { deviceId, channel, sequence = seq, error }));
            return new BatchAck(channel, seq, BatchStatus.Rejected, error);
        }
        if (b is null) return new IngestDecision(Reject("", -1, "batch: missing"), null);
        if (_removed.Contains(deviceId)) return new IngestDecision(Reject(b.Channel ?? "", b.Sequence, "deviceId: the therapist removed this device from the session"), null);
        if (Phase == SessionPhase.Ended) return new IngestDecision(Reject(b.Channel ?? "", b.Sequence, "session: ended; no more data is accepted"), null);
        if (!_channels.TryGetValue($"{deviceId}:{b.Channel}", out var ch))
            return new IngestDecision(Reject(b.Channel is { Length: > 64 } ? ProtocolException.Shown(b.Channel) : b.Channel ?? "", b.Sequence, $"channel: '{ProtocolException.Shown(b.Channel)}' was not declared in this device's hello; declared: {string.Join(", ", _channels.Values.Where(c => c.DeviceId == deviceId).Select(c => c.Spec.Name))}"), null);
        if (b.Sequence < 0) return new IngestDecision(Reject(b.Channel!, b.Sequence, $"sequence: {b.Sequence} is negative"), null);
        if (b.Samples is null || b.Samples.Length == 0) return new IngestDecision(Reject(b.Channel!, b.Sequence, "samples: empty batch"), null);
        int max = (int)Math.Ceiling(ch.Spec.RateHz * MaxBatchSeconds) + 1;
        if (b.Samples.Length > max)
            return new IngestDecision(Reject(b.Channel!, b.Sequence, $"samples: {b.Samples.Length} samples is more than {MaxBatchSeconds:0} s at {ch.Spec.RateHz} Hz (max {max}); split the batch"), null);
        if (!double.IsFinite(b.DeviceTime))
            return new IngestDecision(Reject(b.Channel!, b.Sequence, $"deviceTime: {b.DeviceTime.ToString(CultureInfo.InvariantCulture)} is not a finite number"), null);

        bool late = false;
        double lateAt = double.NaN;
        if (b.Sequence <= ch.LastSequence)
        {
            // A duplicate only if it was accepted: every number at or below the highest that was not is in Missing, exactly.
            if (!ch.Missing.Contains(b.Sequence)) return new IngestDecision(new BatchAck(b.Channel!, b.Sequence, BatchStatus.Duplicate, null), null);
            // A late batch fills a gap of this session: its time must fall inside it (a far-off time would stretch the record
            // the export builds to any length). With the device's clock aligned, a time outside is refused naming deviceTime
            // (it stays missing, so a corrected resend is taken). Not aligned yet (right after a restart, before any current
            // batch), the device time cannot be mapped: the batch is kept, placed where it arrived, and the fault recorded.
            var clock = _devices[deviceId].Clock;
            lateAt = clock.ToSession(b.DeviceTime);
            if (!(lateAt >= -LateBatchSlackSeconds && lateAt <= _now + LateBatchSlackSeconds))
            {
                if (clock.HasEstimate)
                    return new IngestDecision(Reject(b.Channel!, b.Sequence, $"deviceTime: {b.DeviceTime.ToString(CultureInfo.InvariantCulture)} puts this late batch at session time {lateAt.ToString("0.###", CultureInfo.InvariantCulture)} s, outside the session so far (0 to {_now.ToString("0.###", CultureInfo.InvariantCulture)} s)"), null);
                lateAt = Math.Max(0, _now - b.Samples.Length / ch.Spec.RateHz);
                o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "late_batch_unaligned", new { deviceId, channel = b.Channel, sequence = b.Sequence, b.DeviceTime, placedAt = lateAt,
                    handling = "the device's clock was not aligned yet; the late batch was placed at its arrival" }));
            }
            ch.Missing.Remove(b.Sequence);
            late = true;
        }
        else
        {
            if (b.Sequence - ch.LastSequence > MaxSequenceJump)
                return new IngestDecision(Reject(b.Channel!, b.Sequence, $"sequence: {b.Sequence} is more than {MaxSequenceJump} ahead of the channel's last accepted sequence {ch.LastSequence}; number batches 0, 1, 2, ... per channel and continue from the hello's lastSequences"), null);
            if (b.Sequence > ch.LastSequence + 1)
            {
                if (ch.Missing.RangeCount >= MaxSequenceGaps)
                    return new IngestDecision(Reject(b.Channel!, b.Sequence, $"sequence: {b.Sequence} would open gap number {MaxSequenceGaps + 1} in this channel; send the missing batches first"), null);
                ch.Missing.Add(ch.LastSequence + 1, b.Sequence - 1);
                if (ch.LastSequence >= 0)
                    o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "sequence_gap", new { deviceId, channel = b.Channel, from = ch.LastSequence + 1, to = b.Sequence - 1 }));
            }
            ch.LastSequence = b.Sequence;
        }

        int finite = 0;
        foreach (var v in b.Samples) if (float.IsFinite(v)) finite++;
        double rate = ch.Spec.RateHz, duration = b.Samples.Length / rate;
        var device = _devices[deviceId];
        ch.LastArrival = _now;
        if (finite > 0) ch.LastFiniteArrival = _now;
        if (finite < b.Samples.Length)
            o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "nonfinite_samples", new { deviceId, channel = b.Channel, sequence = b.Sequence, count = b.Samples.Length - finite }));

        double sessionStart;
        if (late)
        {
            sessionStart = lateAt;
        }
        else
        {
            if (device.Clock.Observe(b.DeviceTime + duration, _now))
            {
                // Every jump is recorded; the therapist is told at most once a minute per device.
                o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "clock_jump", new { deviceId, channel = b.Channel, b.DeviceTime, jumps = device.Clock.Jumps }));
                if (_now - device.LastJumpAlert >= 60)
                {
                    device.LastJumpAlert = _now;
                    Raise(o, "clock_jump", $"The clock of device {deviceId} jumped (channel {b.Channel}, device time {b.DeviceTime:0.###} s); the clock alignment restarted.", critical: false);
                }
            }
            sessionStart = FeedLive(ch, b, device, o);
        }
        var bytes = new byte[b.Samples.Length * 4];
        Buffer.BlockCopy(b.Samples, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("sample chunks are stored little-endian");
        var chunk = new SampleChunk
        {
            SessionId = _setup.SessionId, DeviceId = deviceId, Channel = b.Channel!, Sequence = b.Sequence, DeviceTime = b.DeviceTime,
            SessionTime = sessionStart, RateHz = rate, Count = b.Samples.Length, Data = bytes, Late = late,
        };
        return new IngestDecision(new BatchAck(b.Channel!, b.Sequence, late ? BatchStatus.AcceptedLate : BatchStatus.Accepted, null), chunk);
    }

    /// <summary>The store failed to make a batch durable: forget it so the device's resend is accepted.</summary>
    public void Unaccept(string deviceId, string channel, long sequence)
    {
        if (_channels.TryGetValue($"{deviceId}:{channel}", out var ch) && !ch.Missing.Contains(sequence)) ch.Missing.Add(sequence, sequence);
    }

    private double FeedLive(ChannelState ch, SampleBatch b, DeviceState device, Outbox o)
    {
        double rate = ch.Spec.RateHz, duration = b.Samples.Length / rate;
        double tolerance = Math.Max(1.5 / rate, 0.05);
        double start;
        if (double.IsNaN(ch.NextSessionTime))
            start = device.Clock.ToSession(b.DeviceTime);
        else
        {
            double delta = b.DeviceTime - ch.LastDeviceEnd;
            if (delta > tolerance && delta < 3600) start = ch.NextSessionTime + delta;        // a gap: the extractor marks it missing
            else
            {
                if (delta < -tolerance && !ch.OverlapReported)
                {
                    ch.OverlapReported = true;
                    o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "timestamp_overlap", new { deviceId = ch.DeviceId, channel = ch.Spec.Name, sequence = b.Sequence, overlapSeconds = -delta,
                        handling = "the batch's sequence number is new, so it was taken as contiguous with the previous one" }));
                }
                start = ch.NextSessionTime;
            }
        }
        ch.LastDeviceEnd = b.DeviceTime + duration;
        ch.NextSessionTime = start + duration;
        if (_extractor is null || Map(ch.Spec.Kind) is null) return start;
        var values = new double[b.Samples.Length];
        for (int i = 0; i < values.Length; i++) values[i] = float.IsFinite(b.Samples[i]) ? b.Samples[i] : double.NaN;
        IReadOnlyList<FeatureVector> vectors;
        try { vectors = _extractor.Push(ch.Key, start, values); }
        catch (SignalInputException e)
        {
            o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "live_pipeline", new { deviceId = ch.DeviceId, channel = ch.Spec.Name, sequence = b.Sequence, error = e.Message }));
            return start;
        }
        foreach (var v in vectors) OnFeatures(v, o);
        return start;
    }

    private void OnFeatures(FeatureVector v, Outbox o)
    {
        var values = v.Features.Values.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        o.Entries.Add(new EntryDraft(_now, EntryKind.Feature, "window", new { end = v.EndSeconds, values, flags = v.Features.Flags.Select(f => f.ToString()) }));
        if (double.IsNaN(_firstDataTime)) _firstDataTime = v.EndSeconds - v.WindowSeconds;
        _lastWindowEnd = v.EndSeconds;
        _heartRate = First(values, "ECG.ECG_Rate_Mean", "PPG.PPG_Rate_Mean", "ECG_Rate_Mean", "PPG_Rate_Mean");
        _scl = First(values, "EDA.SCL_Mean", "SCL_Mean");
        if (Phase == SessionPhase.Baseline)
        {
            if (!v.Features.Flags.Any(f => f.Severity == QualitySeverity.Error)) _baselineWindows.Add(values);
            return;
        }
        if (Phase != SessionPhase.Exposure) return;
        var estimate = _estimator.Estimate(values);
        bool usable = estimate.MissingFeatures.Count * 2 < _estimator.BaselineMedians.Count;
        _arousal = usable ? estimate : null;
        if (_arousalGauge && usable) SendBiofeedback(o, "arousal update");
        o.Entries.Add(new EntryDraft(_now, EntryKind.Arousal, "estimate", new { estimate.Probability, estimate.Level, estimate.Uncertainty, usable, estimate.TopContributions, estimate.MissingFeatures }));
        Update(o, new StateUpdate
        {
            Elapsed = TimeSpan.FromSeconds(_now),
            ArousalProbability = usable ? estimate.Probability : null,
            ArousalLevel = usable ? estimate.Level : null,
            HeartRateBpm = _heartRate is double hr && hr >= 20 && hr <= 250 ? hr : null,
            Sensors = SensorMap(),
        });
    }

    private static double? First(Dictionary<string, double> values, params string[] names)
    {
        foreach (var n in names) if (values.TryGetValue(n, out var v)) return v;
        return null;
    }

    private Dictionary<string, SensorStatus> SensorMap() =>
        _channels.Values.ToDictionary(c => c.Key, c => c.Status, StringComparer.Ordinal);

    // ------------------------------------------------------------------------------------------------ events

    public EventAck OnClientEvent(string deviceId, ClientEvent? e, double now, Outbox o)
    {
        Advance(now);
        EventAck Reject(long seq, string error)
        {
            o.Entries.Add(new EntryDraft(_now, EntryKind.Fault, "event_rejected", new { deviceId, sequence = seq, error }));
            return new EventAck(seq, BatchStatus.Rejected, error);
        }
        if (e is null) return Reject(-1, "event: missing");
        if (_removed.Contains(deviceId)) return Reject(e.Sequence, "deviceId: the therapist removed this device from the session");
        if (!_devices.TryGetValue(deviceId, out var device)) return Reject(e.Sequence, "device: send a hello first");
        if (e.Sequence < 0) return Reject(e.Sequence, $"sequence: {e.Sequence} is negative; number events 0, 1, 2, ...");
        if (!Enum.IsDefined(e.Kind)) return Reject(e.Sequence, $"kind: unknown event kind {(int)e.Kind}");
        bool needsRating = e.Kind is ClientEventKind.Suds or ClientEventKind.ExpectancyBefore or ClientEventKind.OutcomeAfter;
        if (needsRating && !(e.Value is double r && r >= 0 && r <= 100))
            return Reject(e.Sequence, $"value: {e.Kind} needs a rating from 0 to 100, got {(e.Value?.ToString(CultureInfo.InvariantCulture) ?? "none")}");
        if (e.Kind == ClientEventKind.HeadPose && (e.Pose is null || !double.IsFinite(e.Pose.YawDegrees) || !double.IsFinite(e.Pose.PitchDegrees)))
            return Reject(e.Sequence, "pose: a head-pose event needs finite yaw and pitch");
        if (e.Text is { Length: > 2000 }) return Reject(e.Sequence, $"text: {e.Text.Length} characters is more than 2000");
        // Every number an event carries is finite, whatever its kind: NaN or Infinity would poison the timeline and the record.
        if (!double.IsFinite(e.DeviceTime)) return Reject(e.Sequence, $"deviceTime: {e.DeviceTime.ToString(CultureInfo.InvariantCulture)} is not a finite device clock reading");
        if (e.Value is double ev && !double.IsFinite(ev)) return Reject(e.Sequence, $"value: {ev.ToString(CultureInfo.InvariantCulture)} is not a finite number");
        if (e.LatencySeconds is double lt && !double.IsFinite(lt)) return Reject(e.Sequence, $"latencySeconds: {lt.ToString(CultureInfo.InvariantCulture)} is not a finite number");
        if (e.Pose is { } pose && !(double.IsFinite(pose.YawDegrees) && double.IsFinite(pose.PitchDegrees) && Math.Abs(pose.YawDegrees) <= 360 && Math.Abs(pose.PitchDegrees) <= 180))
            return Reject(e.Sequence, $"pose: yaw {pose.YawDegrees.ToString(CultureInfo.InvariantCulture)}, pitch {pose.PitchDegrees.ToString(CultureInfo.InvariantCulture)}: finite degrees (|yaw| <= 360, |pitch| <= 180) are required");
        if (e.Kind == ClientEventKind.Utterance)
        {
            if (string.IsNullOrWhiteSpace(e.Text)) return Reject(e.Sequence, "text: an utterance needs its text");
            if (e.Value is double sp && !(sp >= 0 && sp <= 3600)) return Reject(e.Sequence, $"value: speaking time {sp.ToString(CultureInfo.InvariantCulture)} s is not within 0-3600");
            if (e.LatencySeconds is double la && !(la >= 0 && la <= 3600)) return Reject(e.Sequence, $"latencySeconds: {la.ToString(CultureInfo.InvariantCulture)} is not within 0-3600");
        }
        // Validated first, then de-duplicated exactly as sample batches are: an event is a duplicate only if it was accepted.
        // (A headset whose clock was corrected backwards numbers its next events below the last: they are taken, never dropped.)
        if (e.Sequence <= device.LastEventSequence)
        {
            if (!device.MissingEvents.Remove(e.Sequence)) return new EventAck(e.Sequence, BatchStatus.Duplicate, null);
        }
        else
        {
            if (e.Sequence > device.LastEventSequence + 1)
            {
                if (device.MissingEvents.RangeCount >= MaxSequenceGaps)
                    return Reject(e.Sequence, $"sequence: {e.Sequence} would open gap number {MaxSequenceGaps + 1} in this device's events; send the missing events first");
                device.MissingEvents.Add(device.LastEventSequence + 1, e.Sequence - 1);
            }
            device.LastEventSequence = e.Sequence;
        }
        var kind = needsRating ? EntryKind.Rating : EntryKind.Event;
        if (e.Kind == ClientEventKind.Utterance)
        {
            OnUtterance(deviceId, e, o);
            return new EventAck(e.Sequence, BatchStatus.Accepted, null);
        }
        if (e.Kind != ClientEventKind.HeadPose || double.IsNaN(device.LastHeadUpdate) || _now - device.LastHeadUpdate >= 1)
            o.Entries.Add(new EntryDraft(_now, kind, e.Kind.ToString(), new { deviceId, e.Sequence, e.DeviceTime, e.Value, e.Text, e.Pose }));
        if (needsRating && e.Kind == ClientEventKind.Suds)
        {
            _suds = e.Value;
            _sudsFirst ??= e.Value;
            _sudsPeak = Math.Max(_sudsPeak ?? 0, e.Value!.Value);
        }
        if (e.Kind == ClientEventKind.ExpectancyBefore) _expectancyFirst ??= e.Value;
        if (e.Kind == ClientEventKind.OutcomeAfter) _outcomeLast = e.Value;
        switch (e.Kind)
        {
            case ClientEventKind.StopRequest:
                Raise(o, "patient_stop", "The patient asked to stop. The scene is paused; talk with the patient before resuming.", critical: true);
                Collect(o, Engine.EmergencyStop("the patient asked to stop"));
                break;
            case ClientEventKind.HeadPose:
                if (!e.Pose!.StimulusInView) { if (double.IsNaN(device.HeadAwaySince)) device.HeadAwaySince = _now; }
                else device.HeadAwaySince = double.NaN;
                if (Phase == SessionPhase.Exposure && (double.IsNaN(device.LastHeadUpdate) || _now - device.LastHeadUpdate >= 1))
                {
                    device.LastHeadUpdate = _now;
                    Update(o, new StateUpdate { Elapsed = TimeSpan.FromSeconds(_now), HeadAwaySeconds = double.IsNaN(device.HeadAwaySince) ? 0 : _now - device.HeadAwaySince });
                }
                break;
            case ClientEventKind.Suds or ClientEventKind.ExpectancyBefore or ClientEventKind.OutcomeAfter or ClientEventKind.TrialEnded:
                if (Phase == SessionPhase.Exposure)
                    Update(o, new StateUpdate
                    {
                        Elapsed = TimeSpan.FromSeconds(_now),
                        Suds = e.Kind == ClientEventKind.Suds ? e.Value : null,
                        ExpectancyBefore = e.Kind == ClientEventKind.ExpectancyBefore ? e.Value : null,
                        OutcomeAfter = e.Kind == ClientEventKind.OutcomeAfter ? e.Value : null,
                        TrialEnded = e.Kind is ClientEventKind.TrialEnded or ClientEventKind.OutcomeAfter,
                    });
                break;
        }
        return new EventAck(e.Sequence, BatchStatus.Accepted, null);
    }

    // ------------------------------------------------------------------------------------------------ dialogue

    /// <summary>
    /// A patient utterance: stored in the transcript (the audit trail holds its hash), screened by the same
    /// guardrail the agents use whether or not an agent is running, and its speaking time and latency handed to
    /// the engine. A crisis stops the exposure and alerts the therapist with the transcript; acute distress holds it.
    /// </summary>
    private void OnUtterance(string deviceId, ClientEvent e, Outbox o)
    {
        // Rules + the learned model + language check, with the last turns as context (issue 21). While the model is
        // still loading (the first seconds after start-up) the result says so: rules and a conservative word list.
        var context = _transcriptTail.Where(t => t.Speaker is "patient" or "agent" or "therapist").TakeLast(ScreenContextTurns)
            .Select(t => new ContextTurn(t.Speaker, t.Text)).ToList();
        var screen = Screen.Screen(e.Text!, context);
        AddTranscript(o, new TranscriptItem(_now, "patient", e.Text!, null, deviceId, null,
            screen.CategoryName, screen.ActionName, screen.Rule, e.Value, e.LatencySeconds));
        if (Phase == SessionPhase.Exposure && (e.Value is not null || e.LatencySeconds is not null))
            Update(o, new StateUpdate { Elapsed = TimeSpan.FromSeconds(_now), SpeechSeconds = e.Value, ResponseLatencySeconds = e.LatencySeconds });
        if (screen.Action == GuardAction.SafetyScript)
        {
            // The trail names the category, level, source and rule; the words stay in the transcript (health data, kept once).
            var level = screen.Level == RiskLevel.Imminent ? "IMMINENT " : "";
            o.Audit.Add(new AuditDraft("server", "crisis_detected", $"{screen.CategoryName} level {screen.LevelName} via {screen.Source} (rule {screen.Rule})"));
            Raise(o, "crisis", $"{level}CRISIS ({screen.CategoryName.Replace('_', ' ')}, level {screen.LevelName}, {screen.Source}): the patient said \"{e.Text}\". The exposure is stopped and the agent " +
                "switched to the safety script. Talk with the patient now." + (screen.Note != null ? $" ({screen.Note})" : "") + " Recent transcript:\n" + TranscriptText(), critical: true, audit: false);
            Collect(o, Engine.EmergencyStop($"crisis statement ({screen.CategoryName})"));
            Command(o, SceneCommandKind.ShowPrompt, null, null, null, "crisis statement: the therapist is called",
                prompt: "Your therapist has been called and will talk with you right now. You are not alone.");
        }
        else if (screen.Action == GuardAction.CheckIn)
        {
            o.Audit.Add(new AuditDraft("server", "risk_concern_detected", $"{screen.CategoryName} via {screen.Source} (rule {screen.Rule})"));
            Raise(o, "risk_concern", $"Concern ({screen.CategoryName.Replace('_', ' ')}, {screen.Source}): the patient said \"{e.Text}\". " +
                (screen.Note ?? "Check in with the patient.") + " Recent transcript:\n" + TranscriptText(), critical: true, audit: false);
        }
        else if (screen.Action == GuardAction.PauseAndSupport)
        {
            o.Audit.Add(new AuditDraft("server", "acute_distress_detected", $"rule {screen.Rule}"));
            Raise(o, "acute_distress", $"Acute distress: the patient said \"{e.Text}\". The exposure is held; check in with the patient.", critical: true, audit: false);
            int before = Engine.Events.Count;
            Engine.Hold($"acute distress in speech: \"{e.Text}\"");
            Collect(o, Engine.Events.Skip(before).ToList());
        }
        else if (screen.Action == GuardAction.ReferToTherapist)
        {
            o.Audit.Add(new AuditDraft("server", "medical_question_detected", $"rule {screen.Rule}"));
            Raise(o, "medical_question", $"The patient asked a medical question: \"{e.Text}\". The agent referred it to you.", critical: false, audit: false);
        }
    }

    /// <summary>The crisis screen every session shares (one model per server process, loaded in the background).</summary>
    private static readonly RiskScreen Screen = new();
    private const int ScreenContextTurns = 6;

    /// <summary>Agent lines to the scene (caption + speech), the transcript and the audit trail.</summary>
    public void AgentSpoke(string personaId, string personaName, IReadOnlyList<AgentTurn> lines, string actor, Outbox o)
    {
        foreach (var l in lines)
        {
            if (l.NodeId == "breathing" || l.Source == LineSource.Support) MarkBreathing();
            string source = SourceName(l.Source);
            Command(o, SceneCommandKind.AgentSay, null, new Dictionary<string, double> { ["speak"] = 1 },
                new Dictionary<string, string> { ["persona"] = personaId, ["name"] = personaName, ["source"] = source }, l.Reason, prompt: l.Text);
            AddTranscript(o, new TranscriptItem(_now, "agent", l.Text, personaId, source, l.Reason, null, null, null, null, null));
            if (actor != "agent") o.Audit.Add(new AuditDraft(actor, "agent_line", $"{personaId} {source} node={l.NodeId}"));
        }
    }

    /// <summary>A dialogue event (agent started, stopped, resumed, fell back to the script) for the record and the console.</summary>
    public void DialogueNote(string actor, string action, string text, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, action, text));
        AddTranscript(o, new TranscriptItem(_now, "system", text, null, action, null, null, null, null, null, null));
    }

    public IReadOnlyList<TranscriptItem> RecentTranscript => _transcriptTail.ToList();

    private void MarkBreathing()
    {
        _breathingUsed = true;
        _sudsAtBreathing ??= _suds;
    }

    /// <summary>What this session adds to the patient's memory: items practised, SUDS course, what helped, expectancy check.</summary>
    public SessionDigest Digest(DateOnly date)
    {
        var helped = new List<string>();
        if (_breathingUsed && (_sudsAtBreathing is null || _suds is null || _suds < _sudsAtBreathing)) helped.Add("slow breathing");
        if (_expectancyFirst is double e && _outcomeLast is double o && e - o >= 20) helped.Add("testing the expectancy (what happened was far less than expected)");
        return new SessionDigest(_setup.SessionNumber, date, _practised.ToList(), _sudsFirst, _sudsPeak, _suds, helped, _expectancyFirst, _outcomeLast);
    }

    private void AddTranscript(Outbox o, TranscriptItem item)
    {
        o.Transcript.Add(item);
        o.Entries.Add(new EntryDraft(_now, EntryKind.Transcript, item.Speaker, item));
        // The trail proves the transcript unchanged without copying the words into it.
        o.Audit.Add(new AuditDraft(item.Speaker == "agent" ? "agent" : item.Speaker == "patient" ? "patient" : "server", "transcript",
            $"{item.Speaker} sha256={Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(item.Text)))}"));
        _transcriptTail.Enqueue(item);
        while (_transcriptTail.Count > TranscriptTail) _transcriptTail.Dequeue();
    }

    private string TranscriptText() => string.Join("\n", _transcriptTail.TakeLast(8).Select(t => $"[{t.At:0}s] {t.Speaker}: {t.Text}"));

    public static string SourceName(LineSource s) => s switch
    {
        LineSource.SafetyScript => "safety_script",
        _ => s.ToString().ToLowerInvariant(),
    };

    // ------------------------------------------------------------------------------------------------ therapist

    public void ConsoleCount(int consoles, Outbox o)
    {
        if (consoles == 0 && _consoles > 0) _consoleAbsentSince = _now;
        if (consoles > 0 && _consoles == 0) o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "console_connected", new { consoles }));
        _consoles = consoles;
    }

    public void Approve(string actor, string proposalId, IReadOnlyDictionary<string, double>? edited, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, edited is null ? "approve" : "edit_and_approve", $"{proposalId}{(edited is null ? "" : " " + string.Join(",", edited.Select(kv => $"{kv.Key}={kv.Value.ToString(CultureInfo.InvariantCulture)}")))}"));
        Collect(o, Engine.Approve(proposalId, edited));
    }

    public void Reject(string actor, string proposalId, string? why, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, "reject", $"{proposalId}: {why}"));
        Collect(o, Engine.Reject(proposalId, why));
    }

    public void Veto(string actor, string proposalId, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, "veto", proposalId));
        Collect(o, Engine.Veto(proposalId));
    }

    public void Override(string actor, string itemId, IReadOnlyDictionary<string, double>? parameters, ExposureContext? context, string? why, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, "override", $"{itemId} {why}"));
        o.Entries.Add(new EntryDraft(_now, EntryKind.Override, "override", new { actor, itemId, parameters, context, why }));
        Collect(o, Engine.Override(itemId, parameters, context, why));
    }

    public void EmergencyStop(string actor, string? why, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, "emergency_stop", why ?? ""));
        Collect(o, Engine.EmergencyStop(why));
    }

    public void Resume(string actor, string why, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, "resume", why));
        int before = Engine.Events.Count;
        Engine.Resume(why);
        Collect(o, Engine.Events.Skip(before).ToList());
        Command(o, SceneCommandKind.Resume, null, null, null, "resumed by the therapist");
        if (_calmUntilTherapist && Phase == SessionPhase.Exposure) SendScene(o, "resumed by the therapist after the calm scene of a restart");
    }

    /// <summary>
    /// The therapist takes a device out of the session (a wearable replaced, or one that will not come back): its
    /// channels leave the pipeline (its lost sensors no longer show as lost, raise alerts or count for the safety
    /// policy), and nothing more is accepted from it (the host also revokes its token). What it sent stays stored.
    /// </summary>
    public void RemoveDevice(string actor, string deviceId, string why, Outbox o)
    {
        if (!_devices.TryGetValue(deviceId, out var device) || _removed.Contains(deviceId))
            throw new ProtocolException("deviceId", deviceId, $"no such device in this session; devices: {string.Join(", ", _devices.Keys.Where(d => !_removed.Contains(d)))}");
        _removed.Add(deviceId);
        device.Connected = false;
        var channels = _channels.Where(kv => kv.Value.DeviceId == deviceId).Select(kv => kv.Key).ToList();
        foreach (var k in channels) _channels.Remove(k);
        if (channels.Count > 0) RebuildExtractor(o);
        o.Audit.Add(new AuditDraft(actor, "device_removed", $"{deviceId}: {why}"));
        o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "device_removed", new { deviceId, channels, why }));
    }

    /// <summary>Devices the therapist removed: nothing more is accepted from them.</summary>
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);

    public void ReleaseHold(string actor, string why, Outbox o)
    {
        o.Audit.Add(new AuditDraft(actor, "release_hold", why));
        int before = Engine.Events.Count;
        Engine.ReleaseHold(why);
        Collect(o, Engine.Events.Skip(before).ToList());
        // A stopped session stays paused: the scene comes back when the therapist resumes it.
        if (_calmUntilTherapist && Phase == SessionPhase.Exposure && !Engine.Stopped) SendScene(o, "the therapist released the hold after a restart");
    }

    /// <summary>The therapist turns the VR biofeedback overlay on or off (a breathing guide, an arousal gauge).</summary>
    public void SetBiofeedback(string actor, bool breathingGuide, bool arousalGauge, Outbox o)
    {
        if (breathingGuide && !_breathingGuide) MarkBreathing();
        _breathingGuide = breathingGuide;
        _arousalGauge = arousalGauge;
        o.Audit.Add(new AuditDraft(actor, "biofeedback", $"breathing guide {(breathingGuide ? "on" : "off")}, arousal gauge {(arousalGauge ? "on" : "off")}"));
        SendBiofeedback(o, "set by the therapist");
    }

    private void SendBiofeedback(Outbox o, string reason)
    {
        var p = new Dictionary<string, double> { ["breathing"] = _breathingGuide ? 1 : 0, ["gauge"] = _arousalGauge ? 1 : 0 };
        if (_arousalGauge && _arousal is { } a) p["arousal"] = a.Probability;
        Command(o, SceneCommandKind.Biofeedback, null, p, null, reason);
    }

    /// <summary>Carries out a therapist's decision (the typed form of the methods below).</summary>
    public void Execute(TherapistCommand c, Outbox o)
    {
        _therapistActing = true;
        try { Dispatch(c, o); }
        finally { _therapistActing = false; }
    }

    private void Dispatch(TherapistCommand c, Outbox o)
    {
        switch (c.Kind)
        {
            case TherapistCommandKind.Approve: Approve(c.Actor, Required(c.ProposalId, "proposalId"), c.Parameters, o); break;
            case TherapistCommandKind.Reject: Reject(c.Actor, Required(c.ProposalId, "proposalId"), c.Why, o); break;
            case TherapistCommandKind.Veto: Veto(c.Actor, Required(c.ProposalId, "proposalId"), o); break;
            case TherapistCommandKind.Override: Override(c.Actor, Required(c.ItemId, "itemId"), c.Parameters, c.Context, c.Why, o); break;
            case TherapistCommandKind.EmergencyStop: EmergencyStop(c.Actor, c.Why, o); break;
            case TherapistCommandKind.Resume: Resume(c.Actor, c.Why ?? "", o); break;
            case TherapistCommandKind.ReleaseHold: ReleaseHold(c.Actor, c.Why ?? "", o); break;
            case TherapistCommandKind.Biofeedback: SetBiofeedback(c.Actor, c.BreathingGuide, c.ArousalGauge, o); break;
            case TherapistCommandKind.AcknowledgeAlert: AcknowledgeAlert(c.Actor, Required(c.AlertId, "alertId"), o); break;
            case TherapistCommandKind.RemoveDevice: RemoveDevice(c.Actor, Required(c.DeviceId, "deviceId"), c.Why ?? "", o); break;
            default: throw new ProtocolException("kind", c.Kind.ToString(), "unknown therapist command");
        }

        static string Required(string? value, string field) => value ?? throw new ProtocolException(field, "(missing)", "required for this command");
    }

    public WatchSnapshot Snapshot() => new(View(), OpenAlerts.ToList(), Engine.Events.TakeLast(50).ToList(), RecentTranscript);

    public void AcknowledgeAlert(string actor, string alertId, Outbox o)
    {
        if (!_openAlerts.Remove(alertId, out var alert)) throw new ProtocolException("alertId", alertId, "no open alert with this id");
        o.Audit.Add(new AuditDraft(actor, "alert_acknowledged", $"{alert.Id} {alert.Kind}: {alert.Text}"));
        o.Entries.Add(new EntryDraft(_now, EntryKind.Alert, "acknowledged", new { alert.Id, alert.Kind, actor }));
    }

    public void End(string actor, Outbox o)
    {
        if (Phase == SessionPhase.Ended) return;
        Phase = SessionPhase.Ended;
        o.Audit.Add(new AuditDraft(actor, "session_end", _setup.SessionId));
        var plan = Engine.PlanNextSession(_setup.Seed + 1);
        o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "next_session_plan", plan));
        Command(o, SceneCommandKind.CalmScene, null, null, null, "the session ended");
        foreach (var d in _devices.Keys) o.Notices.Add((d, new DeviceNotice("session_ended", "The session ended; stop streaming.")));
    }

    // ------------------------------------------------------------------------------------------------ time

    /// <summary>The host calls this a few times per second: sensor loss, console absence, baseline end, veto windows.</summary>
    public void Tick(double now, Outbox o)
    {
        Advance(now);
        if (Phase == SessionPhase.Ended) return;
        bool sensorsChanged = false;
        foreach (var c in _channels.Values)
        {
            double since = double.IsNaN(c.LastFiniteArrival) ? double.NaN : _now - c.LastFiniteArrival;
            var status = !double.IsNaN(since) && since > LostAfterSeconds ? SensorStatus.Lost : c.Status == SensorStatus.Lost && !double.IsNaN(since) ? SensorStatus.Good : c.Status;
            if (status == c.Status) continue;
            c.Status = status;
            sensorsChanged = true;
            if (status == SensorStatus.Lost)
                Raise(o, "sensor_lost", $"Sensor {c.Spec.Name} ({c.Spec.Kind}) of device {c.DeviceId} sent no valid data for {since:0} s: lost. The safety policy holds the exposure until it is back.", critical: true);
            else
                o.Entries.Add(new EntryDraft(_now, EntryKind.Safety, "sensor_restored", new { deviceId = c.DeviceId, channel = c.Spec.Name }));
            o.Audit.Add(new AuditDraft("server", status == SensorStatus.Lost ? "sensor_lost" : "sensor_restored", $"{c.DeviceId}:{c.Spec.Name}"));
        }
        if (Phase == SessionPhase.Baseline) EndBaselineIfReady(o);
        if (Phase == SessionPhase.Exposure)
        {
            if (_consoles == 0 && _now - _consoleAbsentSince > ConsoleAbsentHoldSeconds && Engine.Mode != EngineMode.Manual && !Engine.HoldActive)
            {
                Raise(o, "console_absent", $"No therapist console has been connected for {ConsoleAbsentHoldSeconds:0} s: the session is on a safety hold.", critical: true);
                int before = Engine.Events.Count;
                Engine.Hold("no therapist console connected: nobody could veto a proposal");
                Collect(o, Engine.Events.Skip(before).ToList());
            }
            if (sensorsChanged) Update(o, new StateUpdate { Elapsed = TimeSpan.FromSeconds(_now), Sensors = SensorMap() });
            Collect(o, Engine.Tick());
        }
    }

    /// <summary>
    /// The baseline is the first <see cref="SessionSetup.BaselineSeconds"/> of recorded data (data time, not
    /// wall time, so a replay at any speed calibrates on the same stretch) with at least 3 good windows.
    /// </summary>
    private void EndBaselineIfReady(Outbox o)
    {
        bool covered = !double.IsNaN(_lastWindowEnd) && _lastWindowEnd - _firstDataTime >= _setup.BaselineSeconds - 1e-9;
        if (!covered || _baselineWindows.Count < 3)
        {
            if (!_baselineExtendedReported && _now > _setup.BaselineSeconds + 30)
            {
                _baselineExtendedReported = true;
                Raise(o, "baseline_incomplete", $"Baseline calibration has only {_baselineWindows.Count} good feature windows after {_now:0} s (3 needed); it continues until the sensors deliver.", critical: false);
            }
            return;
        }
        _estimator.Calibrate(_baselineWindows);
        Phase = SessionPhase.Exposure;
        o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "baseline_calibrated", new { windows = _baselineWindows.Count, medians = _estimator.BaselineMedians.Where(kv => double.IsFinite(kv.Value)).ToDictionary() }));
        o.Audit.Add(new AuditDraft("server", "baseline_calibrated", $"{_baselineWindows.Count} windows"));
        _baselineWindows.Clear();
        SendScene(o, "baseline done: first exposure step");
    }

    private void Advance(double now)
    {
        if (now > _now) _now = now;
    }

    // ------------------------------------------------------------------------------------------------ engine output

    private void Update(Outbox o, StateUpdate u)
    {
        if (Phase != SessionPhase.Exposure) return;
        Collect(o, Engine.OnUpdate(u));
    }

    private void Collect(Outbox o, IReadOnlyList<EngineEvent> events)
    {
        foreach (var e in events)
        {
            o.EngineEvents.Add(e);
            var kind = e.Kind switch
            {
                "proposed" or "recorded" => EntryKind.Proposal,
                "applied" or "rejected" or "vetoed" or "cancelled" or "superseded" or "blocked" => EntryKind.Decision,
                "safety_hold" or "safety_alert" or "hold_released" or "emergency_stop" or "rule_hold" or "scheduler_hold" => EntryKind.Safety,
                _ => EntryKind.Event,
            };
            o.Entries.Add(new EntryDraft(e.At.TotalSeconds, kind, e.Kind, e));
            o.Audit.Add(new AuditDraft("engine", e.Kind, e.Proposal is null ? e.Text : $"{e.Proposal.Id} {e.Status}: {e.Text} | reasons: {string.Join("; ", e.Proposal.Reasons)}"));
            if (e.Kind == "safety_alert") Raise(o, "safety", e.Text.Replace("ALERT therapist: ", ""), critical: true, audit: false);
            if (e.Kind is "applied" or "emergency_stop" && e.Proposal is { } p) OnApplied(o, p, e.Text);
        }
    }

    private void OnApplied(Outbox o, Proposal p, string why)
    {
        string reason = p.Reasons.Count > 0 ? string.Join(" ", p.Reasons.Select(r => r.Text)) : why;
        switch (p.Action)
        {
            case ExposureAction.PauseScene or ExposureAction.Stop: Command(o, SceneCommandKind.Pause, null, null, null, reason); break;
            case ExposureAction.Resume: Command(o, SceneCommandKind.Resume, null, null, null, reason); break;
            case ExposureAction.RetrievalCue: Command(o, SceneCommandKind.ShowPrompt, null, null, null, reason, prompt: p.Reasons.FirstOrDefault()?.Text); break;
            case ExposureAction.Hold or ExposureAction.Continue or ExposureAction.EndTrial: break;
            default:
                if (p.ItemId is not null)
                {
                    var h = _setup.Patient.Hierarchy;
                    if (h.IndexOf(p.ItemId) > h.IndexOf(HighestItemId)) HighestItemId = p.ItemId;
                    // While the calm scene of a restart holds, only the therapist brings a step back to the headset.
                    if (_calmUntilTherapist && !_therapistActing)
                        o.Entries.Add(new EntryDraft(_now, EntryKind.Event, "scene_withheld", new { itemId = p.ItemId, reason = "the calm scene holds until the therapist releases the hold" }));
                    else SendScene(o, reason);
                }
                break;
        }
    }

    private void SendScene(Outbox o, string reason)
    {
        _calmUntilTherapist = false;
        var item = _setup.Patient.Hierarchy[Engine.CurrentItemId];
        if (!_practised.Contains(item.Label)) _practised.Add(item.Label);
        var ctx = Engine.CurrentContext;
        Command(o, SceneCommandKind.SetScene, item.ScenarioId, Engine.CurrentParameters,
            new Dictionary<string, string> { ["room"] = ctx.Room, ["lighting"] = ctx.Lighting, ["timeOfDay"] = ctx.TimeOfDay, ["sound"] = ctx.Sound }, reason);
    }

    private void Command(Outbox o, SceneCommandKind kind, string? scenario, IReadOnlyDictionary<string, double>? parameters, IReadOnlyDictionary<string, string>? context, string reason, string? prompt = null)
    {
        var c = new SceneCommand(++_commandSequence, kind, scenario, parameters?.ToDictionary(kv => kv.Key, kv => kv.Value), context, prompt, reason);
        if (kind is SceneCommandKind.SetScene or SceneCommandKind.CalmScene) _currentScene = c;
        o.Scene.Add(c);
        o.Entries.Add(new EntryDraft(_now, EntryKind.Command, kind.ToString(), new { command = c, itemId = kind == SceneCommandKind.SetScene ? Engine.CurrentItemId : null, highestItemId = HighestItemId }));
    }

    private void Raise(Outbox o, string kind, string text, bool critical, bool audit = true)
    {
        var a = new Alert($"a{++_alertCounter}", _now, kind, text, critical);
        _openAlerts[a.Id] = a;
        o.Alerts.Add(a);
        o.Entries.Add(new EntryDraft(_now, EntryKind.Alert, kind, a));
        if (audit) o.Audit.Add(new AuditDraft("server", "alert_" + kind, text));
    }

    private void Drain(Outbox o) => Collect(o, Engine.Events.ToList());

    // ------------------------------------------------------------------------------------------------ view

    public LiveView View()
    {
        var s = Engine.Snapshot;
        double covered = double.IsNaN(_lastWindowEnd) ? 0 : _lastWindowEnd - _firstDataTime;
        double baselineLeft = Phase == SessionPhase.Baseline ? Math.Max(0, _setup.BaselineSeconds - Math.Max(covered, _now)) : 0;
        var now = _clock.GetUtcNow();
        var pending = Engine.AwaitingDecision.Select(w => new PendingProposal(w.Proposal, w.Status,
            w.ApplyAt is { } at ? Math.Max(0, (at - now).TotalSeconds) : null)).ToList();
        return new LiveView(_setup.SessionId, _now, Phase == SessionPhase.Exposure && Engine.Stopped ? SessionPhase.Paused : Phase,
            _arousal?.Probability, _arousal?.Level, _arousal?.Uncertainty, _arousal?.TopContributions ?? Array.Empty<Contribution>(),
            _heartRate, _scl, _channels.Values.ToDictionary(c => c.Key, c => c.Status.ToString()),
            s.CurrentItemId, s.CurrentIntensity, Engine.CurrentParameters, Engine.CurrentContext, Engine.HoldActive, Engine.Stopped,
            _suds, s.PredictedExpectancy, s.LastViolation, pending, baselineLeft, s.Paused || Engine.Stopped || _calmUntilTherapist);
    }
}

/// <summary>A protocol message that cannot be accepted: names the field and the value.</summary>
public sealed class ProtocolException(string field, string value, string problem) : Exception($"{field} = '{Shown(value)}': {problem}")
{
    public string Field { get; } = field;
    public string Value { get; } = value;

    /// <summary>A value as an error message shows it: at most 60 characters and the length (a 30,000-character name is not echoed back).</summary>
    public static string Shown(string? value) => value is null ? "" : value.Length > 60 ? value[..60] + $"... ({value.Length} characters)" : value;
}
