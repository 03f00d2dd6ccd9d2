using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using OpenVret.Protocol;
using OpenVret.Server.Api;
using OpenVret.Server.Data;
using OpenVret.Server.Sessions;
using OpenVret.Exposure.Session;

namespace OpenVret.Server.Cluster;

/// <summary>
/// A live session in the cluster, reached through its grain: the same operations as in single mode. A call that finds the
/// session no longer running (it ended on another node and this node missed the news) makes the directory forget it.
/// </summary>
public sealed class GrainSessionHandle(string sessionId, ISessionGrain grain, Action<string> notRunning) : ISessionHandle
{
    public string SessionId => sessionId;
    public Task<double> NowAsync() => Call(grain.Now());
    public Task<HelloAck> HelloAsync(string deviceId, DeviceHello hello) => Call(grain.Hello(deviceId, hello));
    public async Task<BatchAck[]> SamplesAsync(string deviceId, SampleBatch[] batches) => (await Call(grain.Samples(deviceId, batches))).Value;
    public Task<EventAck> EventAsync(string deviceId, ClientEvent e) => Call(grain.Event(deviceId, e));
    public Task DeviceDisconnectedAsync(string deviceId) => Call(grain.DeviceDisconnected(deviceId));
    public Task<LiveView> ViewAsync() => Call(grain.View());
    public Task<WatchSnapshot> SnapshotAsync() => Call(grain.Snapshot());
    public Task CommandAsync(TherapistCommand command) => Call(grain.Command(command));
    public Task AgentSpokeAsync(string personaId, string personaName, OpenVret.Dialogue.AgentTurn[] lines, string actor) => Call(grain.AgentSpoke(personaId, personaName, lines, actor));
    public Task DialogueNoteAsync(string actor, string action, string text) => Call(grain.DialogueNote(actor, action, text));

    private async Task<T> Call<T>(Task<T> call)
    {
        try { return await call.ConfigureAwait(false); }
        catch (SessionNotRunningException) { notRunning(sessionId); throw; }
    }
    private async Task Call(Task call)
    {
        try { await call.ConfigureAwait(false); }
        catch (SessionNotRunningException) { notRunning(sessionId); throw; }
    }
}

/// <summary>
/// This node's end of the sessions' live output: it subscribes to the sessions its devices and consoles use
/// (renewed every few seconds, so a session that moved to another node after a failure finds this node again)
/// and passes what arrives to its local SignalR clients.
/// </summary>
public sealed class NodeRelay(IHubContext<DeviceHub> devices, IHubContext<ConsoleHub> consoles, Dialogue.PatientSpeech speech, IGrainFactory grains, ILogger<NodeRelay> log) : ISessionObserver, IHostedService
{
    private readonly SignalRSink _local = new(devices, consoles, speech);
    private readonly ConcurrentDictionary<string, DateTime> _sessions = new(StringComparer.Ordinal);
    private ISessionObserver? _self;
    private CancellationTokenSource? _stop;
    public string Node { get; } = Environment.MachineName + ":" + Environment.ProcessId;
    /// <summary>How many consoles of this node watch a session (set by the directory), re-sent with each renewal.</summary>
    public Func<string, int> Consoles { get; set; } = _ => 0;

    /// <summary>This node has a client of the session: make sure the session's output reaches it.</summary>
    public async Task TrackAsync(string sessionId)
    {
        var now = DateTime.UtcNow;
        if (_sessions.TryGetValue(sessionId, out var seen))
        {
            if (now - seen > TimeSpan.FromSeconds(1)) _sessions[sessionId] = now;   // every device message calls this: write at most once a second
            return;
        }
        _sessions[sessionId] = now;
        if (_self is not null) await Renew(sessionId);
    }

    private async Task Renew(string sessionId)
    {
        try
        {
            var grain = grains.GetGrain<ISessionGrain>(sessionId);
            foreach (var alert in await grain.Subscribe(Node, _self!)) _local.ToConsole(sessionId, alert);
            // A session that moved after a node failure learns again who watches it from here.
            await grain.NodeConsoles(Node, Consoles(sessionId));
        }
        catch (Exception e) { log.LogDebug("subscription to a session failed: {Error}", e.Message); }
    }

    public Task StartAsync(CancellationToken ct)
    {
        _self = grains.CreateObjectReference<ISessionObserver>(this);
        _stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(3));
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                foreach (var (id, seen) in _sessions)
                {
                    if (DateTime.UtcNow - seen > TimeSpan.FromMinutes(5)) { _sessions.TryRemove(id, out _); continue; }
                    await Renew(id).ConfigureAwait(false);
                }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct)
    {
        _stop?.Cancel();
        return Task.CompletedTask;
    }

    public void Scene(string sessionId, SceneCommand command) => _local.ToScene(sessionId, command);
    public void Notice(string deviceId, DeviceNotice notice) => _local.ToDevice(deviceId, notice);
    public void Engine(string sessionId, EngineEvent e) => _local.ToConsole(sessionId, e);
    public void AlertRaised(string sessionId, Alert alert) => _local.ToConsole(sessionId, alert);
    public void Live(string sessionId, LiveView view) => _local.ToConsole(sessionId, view);
    public void Transcript(string sessionId, TranscriptItem line) => _local.ToConsole(sessionId, line);
    public void SessionEnded(string sessionId)
    {
        _sessions.TryRemove(sessionId, out _);
        Ended?.Invoke(sessionId);
    }
    /// <summary>A session this node had clients of ended, wherever it ran.</summary>
    public event Action<string>? Ended;
}

/// <summary>Cluster mode's directory: running sessions are grains (activated where first called), output relayed to every node with clients.</summary>
public sealed class ClusterDirectory : ISessionDirectory
{
    private readonly IGrainFactory grains;
    private readonly DbFactory db;
    private readonly StoreWriter store;
    private readonly TimeProvider clock;
    private readonly NodeRelay relay;
    private readonly ConcurrentDictionary<string, int> _consoles = new(StringComparer.Ordinal);

    private readonly ILogger<ClusterDirectory> log;

    public ClusterDirectory(IGrainFactory grains, DbFactory db, StoreWriter store, TimeProvider clock, NodeRelay relay, ILogger<ClusterDirectory> log)
    {
        (this.grains, this.db, this.store, this.clock, this.relay, this.log) = (grains, db, store, clock, relay, log);
        relay.Consoles = id => _consoles.GetValueOrDefault(id);
        relay.Ended += id =>
        {
            Forget(id);
            Ended?.Invoke(id);
        };
    }

    /// <summary>
    /// How long this node trusts what it last read of a session's state. A running session is asked about rarely: its end
    /// reaches this node as a broadcast (<see cref="NodeRelay.SessionEnded"/>), and should that be missed, the next call to
    /// it fails with <see cref="SessionNotRunningException"/> and the session is forgotten. A session that is not running
    /// may be started from another node at any moment, so that answer is kept briefly. (Asking the store every 2 s per
    /// session, on the device-message path, was 7 % of a 1-node cluster's CPU at 300 sessions.)
    /// </summary>
    private static readonly TimeSpan RecheckRunning = TimeSpan.FromSeconds(30), RecheckNotRunning = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (bool Running, DateTime At)> _state = new(StringComparer.Ordinal);
    /// <summary>One handle per running session (a grain reference is stable), forgotten when the session ends.</summary>
    private readonly ConcurrentDictionary<string, GrainSessionHandle> _handles = new(StringComparer.Ordinal);

    public event Action<string>? Ended;

    public async Task<ISessionHandle?> FindAsync(string sessionId)
    {
        if (!_state.TryGetValue(sessionId, out var s) || DateTime.UtcNow - s.At > (s.Running ? RecheckRunning : RecheckNotRunning))
        {
            await using var ctx = db.Create();
            bool running = await ctx.Sessions.AsNoTracking().AnyAsync(x => x.Id == sessionId && x.State == SessionState.Running);
            _state[sessionId] = s = (running, DateTime.UtcNow);
        }
        if (!s.Running) return null;
        await relay.TrackAsync(sessionId);
        return _handles.GetOrAdd(sessionId, id => new GrainSessionHandle(id, grains.GetGrain<ISessionGrain>(id), Forget));
    }

    /// <summary>The session ended (or was found not running): the next lookup asks the store.</summary>
    private void Forget(string sessionId)
    {
        _state.TryRemove(sessionId, out _);
        _handles.TryRemove(sessionId, out _);
    }

    public async Task StartAsync(string sessionId, string actor)
    {
        try { await grains.GetGrain<ISessionGrain>(sessionId).Start(actor); }
        catch (InvalidOperationException e) { throw new OpenVret.Exposure.ExposureInputException("sessionId", sessionId, e.Message); }
        _state.TryRemove(sessionId, out _);
        await relay.TrackAsync(sessionId);
    }

    /// <summary>
    /// The session's grain runs the replay on the recording's clock; this node, which holds the recording, drives it
    /// step by step. If this node dies, the grain ends the replay as interrupted (OpenVret:ReplayDriverTimeoutSeconds without a step).
    /// </summary>
    public async Task StartReplayAsync(string sessionId, OpenVret.Signals.Recording recording, bool realTime, string actor)
    {
        var (usable, channels) = Replay.Declare(recording);
        var grain = grains.GetGrain<ISessionGrain>(sessionId);
        try { await grain.StartReplay(channels.ToArray(), Path.GetFileName(recording.Source), realTime, actor); }
        catch (InvalidOperationException e) { throw new OpenVret.Exposure.ExposureInputException("sessionId", sessionId, e.Message); }
        _state.TryRemove(sessionId, out _);
        await relay.TrackAsync(sessionId);
        Replay.DriveInBackground(sessionId, usable, channels, realTime, (t, batches) => grain.ReplayStep(t, batches), () => EndAsync(sessionId, actor), store, log);
    }

    public async Task EndAsync(string sessionId, string actor)
    {
        if (await FindAsync(sessionId) is null) throw new OpenVret.Exposure.ExposureInputException("sessionId", sessionId, "is not running");
        OpenVret.Dialogue.Memory.SessionDigest digest;
        try { digest = await grains.GetGrain<ISessionGrain>(sessionId).End(actor); }
        catch (SessionNotRunningException)   // it ended on another node a moment ago, and this node had not heard
        {
            Forget(sessionId);
            throw new OpenVret.Exposure.ExposureInputException("sessionId", sessionId, "is not running");
        }
        Forget(sessionId);
        await using (var ctx = db.Create())
        {
            var patientId = await ctx.Sessions.AsNoTracking().Where(x => x.Id == sessionId).Select(x => x.PatientId).FirstAsync();
            await SessionHost.UpdateMemoryAsync(store, clock, sessionId, patientId, digest);
        }
        Ended?.Invoke(sessionId);
    }

    public int ConsolesWatching(string sessionId) => _consoles.GetValueOrDefault(sessionId);

    public async Task ConsolesChangedAsync(string sessionId, int delta)
    {
        int n = _consoles.AddOrUpdate(sessionId, Math.Max(0, delta), (_, c) => Math.Max(0, c + delta));
        if (await FindAsync(sessionId) is not null) await grains.GetGrain<ISessionGrain>(sessionId).NodeConsoles(relay.Node, n);
    }
}
