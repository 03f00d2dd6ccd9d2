using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
using OpenVret.Exposure.Session;
using Orleans.Concurrency;
using Orleans.Placement;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Sessions;

namespace OpenVret.Server.Cluster;

/// <summary>
/// A live session as an Orleans grain (cluster mode): the same session unit as single mode
/// (<see cref="SessionActor"/> over <see cref="SessionPipeline"/>, with the same store and audit trail), hosted
/// on whichever node Orleans activates it. On activation a running session resumes from the store
/// (<see cref="SessionLoader"/>) on a safety hold, so a node failure costs a short, explained interruption and
/// no acknowledged sample (acks are sent only once chunks are durable).
/// </summary>
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>A created session goes live (the record becomes Running).</summary>
    Task Start(string actor);
    /// <summary>
    /// A created session replays a recording (see <see cref="Replay"/>): its clock follows the recording, and the node
    /// that received the recording drives it with <see cref="ReplayStep"/>.
    /// </summary>
    Task StartReplay([Immutable] ChannelDeclaration[] channels, string source, bool realTime, string actor);
    /// <summary>One replay step: the session's clock moves to <paramref name="seconds"/> into the recording; null when the session no longer runs.</summary>
    Task<BatchAck[]?> ReplayStep(double seconds, [Immutable] SampleBatch[] batches);
    /// <summary>Ends the session and returns what it adds to the patient's memory.</summary>
    Task<OpenVret.Dialogue.Memory.SessionDigest> End(string actor);
    Task<double> Now();
    Task<HelloAck> Hello(string deviceId, DeviceHello hello);
    // [Immutable]: the caller never touches a batch after sending it, so Orleans passes it on without a deep copy.
    // The acks come back as Immutable<T> for the same reason: otherwise Orleans copies them (through JSON) on every call.
    Task<Immutable<BatchAck[]>> Samples(string deviceId, [Immutable] SampleBatch[] batches);
    Task<EventAck> Event(string deviceId, [Immutable] ClientEvent e);
    Task DeviceDisconnected(string deviceId);
    Task<LiveView> View();
    Task<WatchSnapshot> Snapshot();
    Task<IReadOnlyList<Alert>> OpenAlerts();
    Task Command(TherapistCommand command);
    Task AgentSpoke(string personaId, string personaName, OpenVret.Dialogue.AgentTurn[] lines, string actor);
    Task DialogueNote(string actor, string action, string text);
    /// <summary>How many consoles watch the session from one node (the session holds when no node has one).</summary>
    Task ConsoleCount(int consoles);
    Task NodeConsoles(string node, int consoles);
    /// <summary>
    /// A node asks for the session's live output (scene commands, alerts, views); renewed every few seconds. A node
    /// new to this activation (after a failover, say) gets the open alerts, so its consoles see what it missed.
    /// </summary>
    Task<IReadOnlyList<Alert>> Subscribe(string node, ISessionObserver observer);
    /// <summary>Where the session runs now (diagnostics and tests).</summary>
    Task<string> Node();
    /// <summary>Lets the grain deactivate (e.g. before a planned node shutdown); the next call resumes it from the store.</summary>
    Task Deactivate();
}

/// <summary>A node's receiver of a session's live output; it passes it to that node's SignalR clients.</summary>
public interface ISessionObserver : IGrainObserver
{
    void Scene(string sessionId, SceneCommand command);
    void Notice(string deviceId, DeviceNotice notice);
    void Engine(string sessionId, EngineEvent e);
    void AlertRaised(string sessionId, Alert alert);
    void Live(string sessionId, [Immutable] LiveView view);
    void Transcript(string sessionId, TranscriptItem line);
    /// <summary>The session ended (or its replay was interrupted): the node stops what it runs for it (its agent) and forgets it runs.</summary>
    void SessionEnded(string sessionId);
}

/// <summary>
/// A live session as an Orleans grain (cluster mode): the same session unit as single mode
/// (<see cref="SessionActor"/> over <see cref="SessionPipeline"/>, with the same store and audit trail), hosted
/// on whichever node Orleans activates it (the caller's node first). On activation a running session resumes
/// from the store (<see cref="SessionLoader"/>) on a safety hold, so a node failure costs a short, explained
/// interruption and no acknowledged sample (acks are sent only once chunks are durable). Its live output goes
/// to every node that subscribed (the nodes its devices and consoles are connected to).
/// </summary>
[PreferLocalPlacement]
public sealed class SessionGrain(DbFactory db, StoreWriter store, TimeProvider clock, ServerMetrics metrics, SessionHost host,
    ServerOptions options, ILogger<SessionGrain> log) : Grain, ISessionGrain
{
    private SessionActor? _actor;
    private IGrainTimer? _timer;
    /// <summary>The replay this session runs (null for a live session), and when its driver last stepped it.</summary>
    private Replay.Run? _replay;
    private DateTime _lastReplayStep;
    /// <summary>A replay whose driving node sends no step for this long ends as interrupted.</summary>
    private TimeSpan ReplayDriverTimeout => TimeSpan.FromSeconds(options.ReplayDriverTimeoutSeconds);
    private readonly FanOutSink _sink = new();
    private readonly Dictionary<string, int> _consoles = new(StringComparer.Ordinal);

    private string SessionId => this.GetPrimaryKeyString();

    /// <summary>Sends a session's output to the subscribed nodes; a node that stops renewing drops out after 15 s.</summary>
    private sealed class FanOutSink : ISessionSink
    {
        private readonly Dictionary<string, (ISessionObserver Observer, DateTime Until)> _nodes = new(StringComparer.Ordinal);
        /// <summary>Adds or renews a node; true when it was not subscribed.</summary>
        public bool Add(string node, ISessionObserver o)
        {
            bool isNew = !_nodes.ContainsKey(node);
            _nodes[node] = (o, DateTime.UtcNow.AddSeconds(15));
            return isNew;
        }
        private IEnumerable<ISessionObserver> Live()
        {
            var now = DateTime.UtcNow;
            foreach (var k in _nodes.Where(kv => kv.Value.Until < now).Select(kv => kv.Key).ToList()) _nodes.Remove(k);
            return _nodes.Values.Select(v => v.Observer).ToList();
        }
        private void Each(Action<ISessionObserver> send)
        {
            foreach (var o in Live())
                try { send(o); } catch (Exception) { /* a node that is gone stops renewing and drops out */ }
        }
        public void ToScene(string sessionId, SceneCommand command) => Each(o => o.Scene(sessionId, command));
        public void ToDevice(string deviceId, DeviceNotice notice) => Each(o => o.Notice(deviceId, notice));
        public void ToConsole(string sessionId, EngineEvent e) => Each(o => o.Engine(sessionId, e));
        public void ToConsole(string sessionId, Alert alert) => Each(o => o.AlertRaised(sessionId, alert));
        public void ToConsole(string sessionId, LiveView view) => Each(o => o.Live(sessionId, view));
        public void ToConsole(string sessionId, TranscriptItem line) => Each(o => o.Transcript(sessionId, line));
        public void Ended(string sessionId) => Each(o => o.SessionEnded(sessionId));
    }

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        await using var ctx = db.Create();
        var s = await ctx.Sessions.AsNoTracking().FirstOrDefaultAsync(x => x.Id == SessionId, ct);
        if (s is { State: SessionState.Running, Source: "replay" })
        {
            // The recording was in the memory of the node that drove the replay: it cannot go on here.
            await Replay.MarkInterruptedAsync(store, s.Id, clock.GetUtcNow(), $"the session was activated again on node {RuntimeIdentity} during a replay");
            return;
        }
        if (s is { State: SessionState.Running })
        {
            var (setup, started) = await SessionLoader.ResumeAsync(ctx, s, clock, ct);
            _actor = new SessionActor(setup, s.PatientId, started, host.Model, store, _sink, clock, metrics);
            metrics.SessionStarted();
            // Devices stay connected to their nodes through a failover: their channels (from their last hello)
            // rejoin at once, so their next batch is accepted without a new hello.
            var devices = await ctx.Devices.AsNoTracking().Where(d => d.SessionId == s.Id && d.ChannelsJson != null && d.RevokedAt == null).ToListAsync(ct);
            foreach (var d in devices)
            {
                var channels = JsonSerializer.Deserialize<List<ChannelDeclaration>>(d.ChannelsJson!, SessionActor.Json) ?? [];
                await _actor.HelloAsync(d.Id, new DeviceHello(ProtocolVersion.Current, "resumed from the store", channels));
            }
            await store.Audit("server", "session_resumed", s.Id, $"activated on node {RuntimeIdentity} at step {setup.ResumeItemId}, {setup.ResumeAtSeconds:0} s into the session");
            log.LogWarning("session {Session} resumed on node {Node}, on a safety hold", Security.Secrets.Pseudonym("session", s.Id), RuntimeIdentity);
            StartTimer();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        if (_actor is not null) metrics.SessionStopped();
        return Task.CompletedTask;
    }

    private void StartTimer()
    {
        var period = TimeSpan.FromMilliseconds(options.TickMilliseconds);
        _timer ??= this.RegisterGrainTimer(async _ =>
        {
            if (_actor is null) return;
            if (_replay is not null && DateTime.UtcNow - _lastReplayStep > ReplayDriverTimeout)
            {
                await _actor.Ask((p, o) => p.End("server", o));
                await Replay.MarkInterruptedAsync(store, SessionId, clock.GetUtcNow(), $"no replay step for {ReplayDriverTimeout.TotalSeconds:0} s (the node driving it stopped)");
                Stop();
                return;
            }
            await _actor.Tick();
            if (_consoles.Values.Sum() > 0) _sink.ToConsole(SessionId, await _actor.ViewAsync());
        }, new GrainTimerCreationOptions(period, period) { KeepAlive = true, Interleave = false });
    }

    private SessionActor Actor() => _actor ?? throw new SessionNotRunningException(SessionId);

    /// <summary>
    /// The session's record and a fresh setup, when it is a created session that is not running here yet. The messages
    /// say only what is wrong: the directory names the field and the session (as single mode's <see cref="SessionHost"/> does).
    /// </summary>
    private async Task<(SessionRecord Record, SessionSetup Setup)> CreatedAsync(string toDo)
    {
        if (_actor is not null) throw new InvalidOperationException("is already running");
        await using var ctx = db.Create();
        var s = await ctx.Sessions.FindAsync(SessionId) ?? throw new InvalidOperationException("no such session");
        if (s.State != SessionState.Created) throw new InvalidOperationException($"is {s.State}; only a created session can {toDo}");
        return (s, (await SessionLoader.FreshAsync(ctx, s)).Setup);
    }

    public async Task Start(string actor)
    {
        var (s, setup) = await CreatedAsync("start");
        var started = clock.GetUtcNow();
        _actor = new SessionActor(setup, s.PatientId, started, host.Model, store, _sink, clock, metrics);
        await SessionLoader.MarkRunningAsync(store, SessionId, started);
        await store.Audit(actor, "session_start", s.Id, $"{s.Scheduler} {s.Mode} on node {RuntimeIdentity}");
        metrics.SessionStarted();
        StartTimer();
    }

    public async Task StartReplay(ChannelDeclaration[] channels, string source, bool realTime, string actor)
    {
        var (s, setup) = await CreatedAsync("replay a recording");
        _replay = new Replay.Run(clock.GetUtcNow(), (replayClock, started) => new SessionActor(setup, s.PatientId, started, host.Model, store, _sink, replayClock, metrics));
        _actor = _replay.Actor;
        _lastReplayStep = DateTime.UtcNow;
        await _replay.BeginAsync(store, source, channels, realTime, actor, _consoles.Values.Sum());
        metrics.SessionStarted();
        StartTimer();
    }

    public async Task<BatchAck[]?> ReplayStep(double seconds, SampleBatch[] batches)
    {
        if (_replay is null) return null;
        _lastReplayStep = DateTime.UtcNow;
        return await _replay.StepAsync(seconds, batches);
    }

    public async Task<OpenVret.Dialogue.Memory.SessionDigest> End(string actor)
    {
        var a = Actor();
        var date = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var digest = await a.Ask((p, o) => { p.End(actor, o); return p.Digest(date); });
        await SessionLoader.MarkEndedAsync(store, SessionId, clock.GetUtcNow());
        Stop();
        return digest;
    }

    private void Stop()
    {
        _sink.Ended(SessionId);
        _timer?.Dispose();
        _timer = null;
        _actor = null;
        _replay = null;
        metrics.SessionStopped();
        DeactivateOnIdle();
    }

    public Task<double> Now() => Task.FromResult(Actor().Now);
    public Task<HelloAck> Hello(string deviceId, DeviceHello hello) => Actor().HelloAsync(deviceId, hello);
    public async Task<Immutable<BatchAck[]>> Samples(string deviceId, SampleBatch[] batches) => new(await Actor().IngestAsync(deviceId, batches));
    public Task<EventAck> Event(string deviceId, ClientEvent e) => Actor().EventAsync(deviceId, e);
    public Task DeviceDisconnected(string deviceId) => Actor().DeviceDisconnectedAsync(deviceId);
    public Task<LiveView> View() => Actor().ViewAsync();
    public Task<WatchSnapshot> Snapshot() => Actor().SnapshotAsync();
    public Task<IReadOnlyList<Alert>> OpenAlerts() => Actor().Ask<IReadOnlyList<Alert>>((p, _) => p.OpenAlerts.ToList());
    public Task Command(TherapistCommand command) => Actor().CommandAsync(command);
    public Task AgentSpoke(string personaId, string personaName, OpenVret.Dialogue.AgentTurn[] lines, string actor) => Actor().AgentSpokeAsync(personaId, personaName, lines, actor);
    public Task DialogueNote(string actor, string action, string text) => Actor().DialogueNoteAsync(actor, action, text);
    public Task ConsoleCount(int consoles) => NodeConsoles("local", consoles);

    public Task NodeConsoles(string node, int consoles)
    {
        _consoles[node] = Math.Max(0, consoles);
        int total = _consoles.Values.Sum();
        return Actor().Ask((p, o) => p.ConsoleCount(total, o));
    }

    public async Task<IReadOnlyList<Alert>> Subscribe(string node, ISessionObserver observer)
    {
        bool isNew = _sink.Add(node, observer);
        if (!isNew || _actor is null) return [];
        return await _actor.Ask<IReadOnlyList<Alert>>((p, _) => p.OpenAlerts.ToList());
    }

    public Task<string> Node() => Task.FromResult(RuntimeIdentity);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>What the store holds of a device (last durable sequence per channel, last event), for its hello in either hosting.</summary>
public static class DeviceState
{
    /// <summary>
    /// Reads the device's blocks newest first until each of <paramref name="channels"/> has shown a batch that was
    /// not late: blocks are stored in the order the session accepted them, so that batch holds the channel's highest
    /// durable sequence. A channel that never stored anything costs a scan of the device's blocks (headers only).
    /// For the channels in <paramref name="withGaps"/> (new to the session's pipeline: a restart or failover) it reads
    /// every block's headers and also returns the numbers below the highest that the store never received.
    /// </summary>
    public static async Task<(Dictionary<string, long> Stored, Dictionary<string, Sessions.SequenceGaps> Gaps, long LastEvent, bool ShowsScene)> StoredAsync(
        DbFactory db, string sessionId, string deviceId, IEnumerable<string> channels, IReadOnlyCollection<string>? withGaps = null)
    {
        await using var ctx = db.Create();
        var wanted = new HashSet<string>(channels, StringComparer.Ordinal);
        var history = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var c in withGaps ?? []) if (wanted.Contains(c)) history[c] = new List<long>();
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        long before = long.MaxValue;
        while (wanted.Count > 0 || history.Count > 0)
        {
            var page = await ctx.SampleBlocks.AsNoTracking().Where(b => b.SessionId == sessionId && b.DeviceId == deviceId && b.Id < before)
                .OrderByDescending(b => b.Id).Take(32).ToListAsync();
            foreach (var block in page)
                foreach (var (channel, sequence, late) in SampleBlockCodec.Heads(block))
                {
                    if (!late && wanted.Remove(channel)) stored[channel] = sequence;
                    if (history.TryGetValue(channel, out var seen)) seen.Add(sequence);
                }
            if (page.Count < 32) break;
            before = page[^1].Id;
        }
        var gaps = new Dictionary<string, Sessions.SequenceGaps>(StringComparer.Ordinal);
        foreach (var (channel, seen) in history)
            if (stored.TryGetValue(channel, out var highest)) gaps[channel] = Sessions.SequenceGaps.Complement(seen, highest);
        // The device's row: its highest stored event, and whether it was paired as a headset (its loss pauses the exposure).
        var row = await ctx.Devices.AsNoTracking().Where(d => d.Id == deviceId).Select(d => new { d.LastEventSequence, d.Role }).FirstOrDefaultAsync();
        bool showsScene = row?.Role is nameof(DeviceRole.VrClient) or nameof(DeviceRole.SensorAndVr);
        return (stored, gaps, row?.LastEventSequence ?? -1, showsScene);
    }
}
