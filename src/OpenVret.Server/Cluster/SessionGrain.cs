using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
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
    Task<HelloAck> Hello(string deviceId, DeviceHello hello);
    Task<BatchAck[]> Samples(string deviceId, SampleBatch[] batches);
    Task<EventAck> Event(string deviceId, ClientEvent e);
    Task<LiveView> View();
    Task<IReadOnlyList<Alert>> OpenAlerts();
    Task EmergencyStop(string actor, string? why);
    Task ReleaseHold(string actor, string why);
    Task ConsoleCount(int consoles);
    /// <summary>Where the session runs now (diagnostics and tests).</summary>
    Task<string> Node();
    /// <summary>Lets the grain deactivate (e.g. before a planned node shutdown); the next call resumes it from the store.</summary>
    Task Deactivate();
}

public sealed class SessionGrain(DbFactory db, StoreWriter store, ISessionSink sink, TimeProvider clock, ServerMetrics metrics, SessionHost host,
    ServerOptions options, ILogger<SessionGrain> log) : Grain, ISessionGrain
{
    private SessionActor? _actor;
    private IGrainTimer? _timer;

    private string SessionId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        await using var ctx = db.Create();
        var s = await ctx.Sessions.AsNoTracking().FirstOrDefaultAsync(x => x.Id == SessionId, ct);
        if (s is { State: SessionState.Running })
        {
            var (setup, started) = await SessionLoader.ResumeAsync(ctx, s, clock, ct);
            _actor = new SessionActor(setup, s.PatientId, started, host.Model, store, sink, clock, metrics);
            metrics.SessionStarted();
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
        _timer ??= this.RegisterGrainTimer(_ => _actor is null ? Task.CompletedTask : _actor.Tick(), new GrainTimerCreationOptions(period, period) { KeepAlive = true, Interleave = false });
    }

    private SessionActor Actor() => _actor ?? throw new InvalidOperationException($"session {SessionId} is not running (start it first)");

    public async Task Start(string actor)
    {
        if (_actor is not null) throw new ExposureInputException("sessionId", SessionId, "is already running");
        await using var ctx = db.Create();
        var s = await ctx.Sessions.FindAsync(SessionId) ?? throw new ExposureInputException("sessionId", SessionId, "no such session");
        if (s.State != SessionState.Created) throw new ExposureInputException("sessionId", SessionId, $"is {s.State}; only a created session can start");
        var (setup, _) = await SessionLoader.FreshAsync(ctx, s);
        var started = clock.GetUtcNow();
        _actor = new SessionActor(setup, s.PatientId, started, host.Model, store, sink, clock, metrics);
        s.State = SessionState.Running;
        s.StartedAt = started;
        await ctx.SaveChangesAsync();
        await store.Audit(actor, "session_start", s.Id, $"{s.Scheduler} {s.Mode} on node {RuntimeIdentity}");
        metrics.SessionStarted();
        StartTimer();
    }

    public async Task<HelloAck> Hello(string deviceId, DeviceHello hello)
    {
        var a = Actor();
        var (stored, lastEvent) = await DeviceState.StoredAsync(db, SessionId, deviceId);
        return await a.Ask((p, o) => p.DeclareDevice(deviceId, hello.Channels, lastEvent, stored, o));
    }

    public Task<BatchAck[]> Samples(string deviceId, SampleBatch[] batches) => Actor().IngestAsync(deviceId, batches);

    public Task<EventAck> Event(string deviceId, ClientEvent e)
    {
        var a = Actor();
        return a.Ask((p, o) => p.OnClientEvent(deviceId, e, a.Now, o));
    }

    public Task<LiveView> View() => Actor().ViewAsync();

    public Task<IReadOnlyList<Alert>> OpenAlerts() => Actor().Ask<IReadOnlyList<Alert>>((p, _) => p.OpenAlerts.ToList());

    public Task EmergencyStop(string actor, string? why) => Actor().AskDurable((p, o) => p.EmergencyStop(actor, why, o));

    public Task ReleaseHold(string actor, string why) => Actor().AskDurable((p, o) => p.ReleaseHold(actor, why, o));

    public Task ConsoleCount(int consoles) => Actor().Ask((p, o) => p.ConsoleCount(consoles, o));

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
    public static async Task<(Dictionary<string, long> Stored, long LastEvent)> StoredAsync(DbFactory db, string sessionId, string deviceId)
    {
        await using var ctx = db.Create();
        var stored = await ctx.SampleChunks.AsNoTracking().Where(c => c.SessionId == sessionId && c.DeviceId == deviceId)
            .GroupBy(c => c.Channel).Select(g => new { g.Key, Max = g.Max(c => c.Sequence) }).ToDictionaryAsync(x => x.Key, x => x.Max);
        var lastEvent = await ctx.Devices.AsNoTracking().Where(d => d.Id == deviceId).Select(d => (long?)d.LastEventSequence).FirstOrDefaultAsync() ?? -1;
        return (stored, lastEvent);
    }
}
