using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Data;

namespace OpenVret.Server.Sessions;

/// <summary>Where a session's live output goes (SignalR in this host; a grain stream in a cluster).</summary>
public interface ISessionSink
{
    void ToScene(string sessionId, SceneCommand command);
    void ToDevice(string deviceId, DeviceNotice notice);
    void ToConsole(string sessionId, EngineEvent e);
    void ToConsole(string sessionId, Alert alert);
    void ToConsole(string sessionId, LiveView view);
    void ToConsole(string sessionId, TranscriptItem line);
}

/// <summary>
/// Hosts one <see cref="SessionPipeline"/> as an actor: calls run one at a time (an async gate), then the
/// outbox is delivered (live messages to the sink, records and audit items to the store writer).
/// Sample batches are acknowledged only when their chunk is durable.
/// </summary>
public sealed class SessionActor : ISessionHandle
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SessionPipeline _pipeline;
    private readonly StoreWriter _store;
    private readonly ISessionSink _sink;
    private readonly TimeProvider _clock;
    private readonly DateTimeOffset _startedAt;
    private readonly ServerMetrics _metrics;
    private bool _baselineSaved;

    public string SessionId { get; }
    public string PatientId { get; }

    public SessionActor(SessionSetup setup, string patientId, DateTimeOffset startedAt, Learning.ArousalModel model, StoreWriter store, ISessionSink sink, TimeProvider clock, ServerMetrics metrics)
    {
        SessionId = setup.SessionId;
        PatientId = patientId;
        _store = store; _sink = sink; _clock = clock; _startedAt = startedAt; _metrics = metrics;
        var o = new Outbox();
        _pipeline = new SessionPipeline(setup, model, clock, o);
        _baselineSaved = setup.Baseline is not null;
        Deliver(o);
    }

    /// <summary>Session time now, in seconds since the session started.</summary>
    public double Now => (_clock.GetUtcNow() - _startedAt).TotalSeconds;

    public async Task<T> Ask<T>(Func<SessionPipeline, Outbox, T> work)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var o = new Outbox();
            T result;
            try { result = work(_pipeline, o); }
            finally { Deliver(o); }
            return result;
        }
        finally { _gate.Release(); }
    }

    public Task Ask(Action<SessionPipeline, Outbox> work) => Ask<bool>((p, o) => { work(p, o); return true; });

    /// <summary>
    /// Like <see cref="Ask(Action{SessionPipeline, Outbox})"/>, and completes only when what the call recorded (its audit
    /// items and session entries) is durable: a therapist's decision is acknowledged once it is on the audit trail.
    /// </summary>
    public async Task AskDurable(Action<SessionPipeline, Outbox> work)
    {
        List<Task> writes;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var o = new Outbox();
            try { work(_pipeline, o); }
            finally { writes = Deliver(o); }
        }
        finally { _gate.Release(); }
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>Ingests a batch; completes when the ack can be sent (after the chunk is durable).</summary>
    public async Task<BatchAck> IngestAsync(string deviceId, SampleBatch batch) => (await IngestAsync(deviceId, new[] { batch }).ConfigureAwait(false))[0];

    /// <summary>
    /// Ingests several batches (e.g. every channel of one 100 ms tick) in one turn of the actor; completes when
    /// every accepted chunk is durable. A batch the store could not make durable is answered Rejected and forgotten,
    /// so its resend is accepted.
    /// </summary>
    public async Task<BatchAck[]> IngestAsync(string deviceId, IReadOnlyList<SampleBatch?> batches)
    {
        long t0 = Stopwatch.GetTimestamp();
        // The chunks are handed to the store inside the session's turn, so the store appends them in the order the
        // session accepted them: a channel's newest non-late stored batch is always its highest sequence.
        var (decisions, durable) = await Ask((p, o) =>
        {
            var list = new IngestDecision[batches.Count];
            double now = Now;
            List<SampleChunk>? chunks = null;
            for (int i = 0; i < list.Length; i++)
            {
                list[i] = p.Ingest(deviceId, batches[i], now, o);
                if (list[i].Chunk is { } c) (chunks ??= new List<SampleChunk>(list.Length)).Add(c);
            }
            return (list, chunks is null ? null : _store.Chunks(chunks));
        }).ConfigureAwait(false);
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var acks = new BatchAck[decisions.Length];
        for (int i = 0; i < decisions.Length; i++)
        {
            acks[i] = decisions[i].Ack;
            _metrics.BatchProcessed(ms, batches[i]?.Samples?.Length ?? 0, acks[i].Status);
        }
        if (durable is null) return acks;
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await Ask((p, _) => { foreach (var d in decisions) if (d.Chunk is { } c) p.Unaccept(deviceId, c.Channel, c.Sequence); }).ConfigureAwait(false);
            for (int i = 0; i < acks.Length; i++)
                if (decisions[i].Chunk is not null)
                    acks[i] = acks[i] with { Status = BatchStatus.Rejected, Error = $"storage: the batch could not be made durable ({e.GetBaseException().GetType().Name}); resend it" };
        }
        return acks;
    }

    public Task Tick() => Ask((p, o) => p.Tick(Now, o));

    // ------------------------------------------------------------------ ISessionHandle (the typed operations)

    public Task<double> NowAsync() => Task.FromResult(Now);

    /// <summary>A device's hello: its channels join, and it learns what the store already holds of it.</summary>
    public async Task<HelloAck> HelloAsync(string deviceId, DeviceHello hello)
    {
        // Channels this pipeline already holds keep their gaps; for the others (a restart, a failover) the store says what it holds.
        var fresh = await Ask((p, _) => p.NewChannels(deviceId, hello.Channels)).ConfigureAwait(false);
        var (stored, gaps, lastEvent, showsScene) = await Cluster.DeviceState.StoredAsync(_store.Db, SessionId, deviceId, hello.Channels.Select(c => c.Name), fresh).ConfigureAwait(false);
        return await Ask((p, o) => p.DeclareDevice(deviceId, hello.Channels, lastEvent, stored, o, showsScene, gaps)).ConfigureAwait(false);
    }

    public Task<BatchAck[]> SamplesAsync(string deviceId, SampleBatch[] batches) => IngestAsync(deviceId, batches);

    public Task<EventAck> EventAsync(string deviceId, ClientEvent e) => Ask((p, o) => p.OnClientEvent(deviceId, e, Now, o));

    public Task DeviceDisconnectedAsync(string deviceId) => Ask((p, o) => p.DeviceDisconnected(deviceId, o));

    public Task<WatchSnapshot> SnapshotAsync() => Ask((p, _) => p.Snapshot());

    public async Task CommandAsync(TherapistCommand command)
    {
        await AskDurable((p, o) => p.Execute(command, o)).ConfigureAwait(false);
        if (command.Kind == TherapistCommandKind.RemoveDevice)
            await SessionLoader.RevokeDeviceAsync(_store, SessionId, command.DeviceId!, _clock.GetUtcNow()).ConfigureAwait(false);
    }

    public Task AgentSpokeAsync(string personaId, string personaName, OpenVret.Dialogue.AgentTurn[] lines, string actor) =>
        AskDurable((p, o) => p.AgentSpoke(personaId, personaName, lines, actor, o));

    public Task DialogueNoteAsync(string actor, string action, string text) => AskDurable((p, o) => p.DialogueNote(actor, action, text, o));

    public Task<LiveView> ViewAsync() => Ask((p, _) => p.View());

    /// <summary>Pushes the live view to the console (the host's ticker calls this a few times per second).</summary>
    public async Task PublishViewAsync()
    {
        var view = await ViewAsync().ConfigureAwait(false);
        _sink.ToConsole(SessionId, view);
    }

    private List<Task> Deliver(Outbox o)
    {
        var writes = new List<Task>(o.Entries.Count + o.Audit.Count);
        foreach (var c in o.Scene) _sink.ToScene(SessionId, c);
        foreach (var e in o.EngineEvents) _sink.ToConsole(SessionId, e);
        foreach (var a in o.Alerts) _sink.ToConsole(SessionId, a);
        foreach (var t in o.Transcript) _sink.ToConsole(SessionId, t);
        foreach (var (device, notice) in o.Notices) _sink.ToDevice(device, notice);
        var now = _clock.GetUtcNow();
        foreach (var e in o.Entries)
            writes.Add(Observe(_store.Entry(new SessionEntry
            {
                SessionId = SessionId, SessionTime = e.At, Kind = e.Kind, Name = e.Name,
                Json = JsonSerializer.Serialize(e.Payload, e.Payload.GetType(), Json), RecordedAt = now,
            })));
        foreach (var a in o.Audit) writes.Add(Observe(_store.Audit(a.Actor, a.Action, SessionId, a.Detail)));
        if (!_baselineSaved && _pipeline.Baseline is { } baseline)
        {
            _baselineSaved = true;
            string json = JsonSerializer.Serialize(baseline.Where(kv => double.IsFinite(kv.Value)).ToDictionary(), Json);
            Observe(_store.Run(async db =>
            {
                var s = await db.Sessions.FindAsync(SessionId);
                if (s is not null) { s.BaselineJson = json; await db.SaveChangesAsync(); }
            }));
        }
        return writes;
    }

    private Task Observe(Task write)
    {
        write.ContinueWith(t => _metrics.StoreFailed(t.Exception!), TaskContinuationOptions.OnlyOnFaulted);
        return write;
    }
}
