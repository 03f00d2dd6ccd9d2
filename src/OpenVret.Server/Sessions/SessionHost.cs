using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
using OpenVret.Exposure.Session;
using OpenVret.Learning;
using OpenVret.Server.Data;

namespace OpenVret.Server.Sessions;

/// <summary>
/// Single-node hosting of session actors: starts them, finds them, ticks them, and on start-up resumes every
/// session that was running when the server stopped (from the stored state, on a safety hold).
/// </summary>
public sealed class SessionHost(DbFactory db, StoreWriter store, ISessionSink sink, TimeProvider clock, ServerMetrics metrics, ServerOptions options, ILogger<SessionHost> log)
    : BackgroundService, ISessionDirectory
{
    private readonly ConcurrentDictionary<string, SessionActor> _actors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _consoles = new(StringComparer.Ordinal);
    private ArousalModel? _model;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the sessions that were running before a restart have been resumed.</summary>
    public Task Ready => _ready.Task;

    public override async Task StartAsync(CancellationToken ct)
    {
        // In cluster mode running sessions are grains: they resume where they are next called, not here.
        if (!options.IsCluster) await ResumeRunningAsync(ct);
        _ready.TrySetResult();
        await base.StartAsync(ct);
    }

    public ArousalModel Model => _model ??= ArousalModel.Load(options.ArousalModelPath ?? Path.Combine(AppContext.BaseDirectory, "models", "arousal-model.json"));

    public IReadOnlyCollection<SessionActor> Active => _actors.Values.ToList();

    public SessionActor? Find(string sessionId) => _actors.TryGetValue(sessionId, out var a) ? a : null;

    public Task<ISessionHandle?> FindAsync(string sessionId) => Task.FromResult<ISessionHandle?>(Find(sessionId));

    Task ISessionDirectory.StartAsync(string sessionId, string actor) => StartAsync(sessionId, actor);

    public static EngineMode ParseMode(string mode) => mode switch
    {
        "manual" => EngineMode.Manual,
        "suggest" => EngineMode.Suggest,
        "auto" or "supervised-auto" => EngineMode.SupervisedAuto,
        _ => throw new ExposureInputException("mode", mode, "one of manual, suggest, supervised-auto"),
    };

    /// <summary>The session's record and a fresh setup, when it is a created session (one that has not run yet).</summary>
    private async Task<(SessionRecord Record, SessionSetup Setup)> CreatedAsync(string sessionId, string toDo)
    {
        await using var ctx = db.Create();
        var s = await ctx.Sessions.FindAsync(sessionId) ?? throw new ExposureInputException("sessionId", sessionId, "no such session");
        if (s.State != SessionState.Created) throw new ExposureInputException("sessionId", sessionId, $"is {s.State}; only a created session can {toDo}");
        return (s, (await SessionLoader.FreshAsync(ctx, s)).Setup);
    }

    /// <summary>Starts a created session: its record becomes Running and its actor goes live.</summary>
    public async Task<SessionActor> StartAsync(string sessionId, string actor)
    {
        var (s, setup) = await CreatedAsync(sessionId, "start");
        var started = clock.GetUtcNow();
        var a = new SessionActor(setup, s.PatientId, started, Model, store, sink, clock, metrics);
        if (!_actors.TryAdd(s.Id, a)) throw new ExposureInputException("sessionId", sessionId, "is already running");
        await SessionLoader.MarkRunningAsync(store, sessionId, started);
        await store.Audit(actor, "session_start", s.Id, $"{s.Scheduler} {s.Mode} baseline {s.BaselineSeconds.ToString(CultureInfo.InvariantCulture)} s");
        metrics.SessionStarted();
        await a.Ask((p, o) => p.ConsoleCount(_consoles.GetValueOrDefault(s.Id), o));
        return a;
    }

    /// <summary>
    /// Replays a recording through a created session (see <see cref="Replay"/>), its actor in this process. Ends the
    /// session when the recording ends. Returns once the session is live (the replay continues in the background).
    /// </summary>
    public async Task StartReplayAsync(string sessionId, OpenVret.Signals.Recording recording, bool realTime, string actor)
    {
        var (s, setup) = await CreatedAsync(sessionId, "replay a recording");
        var (usable, channels) = Replay.Declare(recording);
        var run = new Replay.Run(clock.GetUtcNow(), (replayClock, started) => new SessionActor(setup, s.PatientId, started, Model, store, sink, replayClock, metrics));
        var a = run.Actor;
        if (!_actors.TryAdd(s.Id, a)) throw new ExposureInputException("sessionId", sessionId, "is already running");
        await run.BeginAsync(store, Path.GetFileName(recording.Source), channels, realTime, actor, _consoles.GetValueOrDefault(s.Id));
        metrics.SessionStarted();
        Replay.DriveInBackground(s.Id, usable, channels, realTime,
            async (t, batches) => Find(a.SessionId) == a ? await run.StepAsync(t, batches) : null,   // null: ended by the therapist
            async () => { if (Find(a.SessionId) == a) await EndAsync(a.SessionId, actor); }, store, log);
    }

    public async Task EndAsync(string sessionId, string actor)
    {
        if (!_actors.TryRemove(sessionId, out var a)) throw new ExposureInputException("sessionId", sessionId, "is not running");
        var date = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var digest = await a.Ask((p, o) => { p.End(actor, o); return p.Digest(date); });
        await UpdateMemoryAsync(store, clock, sessionId, a.PatientId, digest);
        Ended?.Invoke(sessionId);
        await SessionLoader.MarkEndedAsync(store, sessionId, clock.GetUtcNow());
        metrics.SessionStopped();
    }

    /// <summary>The agents' memory of the patient, updated from an ended session (kept editable by the therapist); both hostings.</summary>
    public static async Task UpdateMemoryAsync(StoreWriter store, TimeProvider clock, string sessionId, string patientId, OpenVret.Dialogue.Memory.SessionDigest digest)
    {
        await store.Run(async d =>
        {
            var patient = await d.Patients.FindAsync(patientId);
            if (patient is null) return;
            var updated = OpenVret.Dialogue.Memory.MemoryBuilder.Update(
                string.IsNullOrEmpty(patient.AgentMemory) ? null : new OpenVret.Dialogue.Memory.PatientMemory(patient.AgentMemory), digest);
            patient.AgentMemory = updated.Text;
            patient.AgentMemoryUpdatedAt = clock.GetUtcNow();
            await d.SaveChangesAsync();
        });
        await store.Audit("server", "memory_updated", sessionId, $"session {digest.SessionNumber}: {digest.ItemsPractised.Count} items practised");
    }

    public int ConsolesWatching(string sessionId) => _consoles.GetValueOrDefault(sessionId);

    /// <summary>Raised after a session ended (the agents of that session stop).</summary>
    public event Action<string>? Ended;

    /// <summary>The console hub reports how many consoles watch a session (the session holds without one).</summary>
    public async Task ConsolesChangedAsync(string sessionId, int delta)
    {
        int n = _consoles.AddOrUpdate(sessionId, Math.Max(0, delta), (_, c) => Math.Max(0, c + delta));
        if (Find(sessionId) is { } a) await a.Ask((p, o) => p.ConsoleCount(n, o));
    }

    public async Task ResumeRunningAsync(CancellationToken ct)
    {
        await using var ctx = db.Create();
        var running = await ctx.Sessions.AsNoTracking().Where(s => s.State == SessionState.Running).ToListAsync(ct);
        foreach (var s in running)
        {
            if (s.Source == "replay")
            {
                await Replay.MarkInterruptedAsync(store, s.Id, clock.GetUtcNow(), "the server restarted during a replay");
                continue;
            }
            try
            {
                var (setup, started) = await SessionLoader.ResumeAsync(ctx, s, clock, ct);
                double resumeAt = setup.ResumeAtSeconds;
                var a = new SessionActor(setup, s.PatientId, started, Model, store, sink, clock, metrics);
                _actors[s.Id] = a;
                metrics.SessionStarted();
                await store.Audit("server", "session_resumed", s.Id, $"after restart at step {setup.ResumeItemId}, {resumeAt:0} s into the session");
                log.LogWarning("resumed session {Session} after a restart, on a safety hold", Security.Secrets.Pseudonym("session", s.Id));
            }
            catch (Exception e)
            {
                log.LogError("could not resume session {Session}: {Error}", Security.Secrets.Pseudonym("session", s.Id), e.Message);
                await store.Audit("server", "session_resume_failed", s.Id, e.Message);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.TickMilliseconds), clock);
        var lastLog = DateTimeOffset.MinValue;
        while (await timer.WaitForNextTickAsync(ct))
        {
            bool logNow = options.LiveLogSeconds > 0 && clock.GetUtcNow() - lastLog >= TimeSpan.FromSeconds(options.LiveLogSeconds);
            if (logNow) lastLog = clock.GetUtcNow();
            foreach (var a in _actors.Values)
            {
                try
                {
                    await a.Tick();
                    if (_consoles.GetValueOrDefault(a.SessionId) > 0 || logNow)
                    {
                        var view = await a.ViewAsync();
                        if (_consoles.GetValueOrDefault(a.SessionId) > 0) sink.ToConsole(a.SessionId, view);
                        if (logNow) LogLine(view);
                    }
                }
                catch (Exception e) { log.LogError(e, "session tick failed for {Session}", Security.Secrets.Pseudonym("session", a.SessionId)); }
            }
        }
    }

    private void LogLine(LiveView v)
    {
        string f(double? x, string fmt) => x is double d ? d.ToString(fmt, CultureInfo.InvariantCulture) : "-";
        log.LogInformation("session {Session} t={T}s {Phase}: HR {HR} bpm, SCL {SCL} uS, arousal {P} (level {L}), step {Step} intensity {I}{Hold}{Pending}",
            Security.Secrets.Pseudonym("session", v.SessionId), f(v.Elapsed, "0"), v.Phase, f(v.HeartRateBpm, "0"), f(v.SkinConductance, "0.00"),
            f(v.ArousalProbability, "0.00"), v.ArousalLevel?.ToString() ?? "-", v.CurrentItemId, f(v.CurrentIntensity, "0.00"),
            v.HoldActive ? ", SAFETY HOLD" : "", v.Pending.Count > 0 ? $", {v.Pending.Count} proposal(s) waiting" : "");
    }
}
