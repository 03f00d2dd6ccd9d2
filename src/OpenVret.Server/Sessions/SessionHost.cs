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
    : BackgroundService
{
    private readonly ConcurrentDictionary<string, SessionActor> _actors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _consoles = new(StringComparer.Ordinal);
    private ArousalModel? _model;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the sessions that were running before a restart have been resumed.</summary>
    public Task Ready => _ready.Task;

    public override async Task StartAsync(CancellationToken ct)
    {
        await ResumeRunningAsync(ct);
        _ready.TrySetResult();
        await base.StartAsync(ct);
    }

    public ArousalModel Model => _model ??= ArousalModel.Load(options.ArousalModelPath ?? Path.Combine(AppContext.BaseDirectory, "models", "arousal-model.json"));

    public IReadOnlyCollection<SessionActor> Active => _actors.Values.ToList();

    public SessionActor? Find(string sessionId) => _actors.TryGetValue(sessionId, out var a) ? a : null;

    public static EngineMode ParseMode(string mode) => mode switch
    {
        "manual" => EngineMode.Manual,
        "suggest" => EngineMode.Suggest,
        "auto" or "supervised-auto" => EngineMode.SupervisedAuto,
        _ => throw new ExposureInputException("mode", mode, "one of manual, suggest, supervised-auto"),
    };

    /// <summary>Starts a created session: its record becomes Running and its actor goes live.</summary>
    public async Task<SessionActor> StartAsync(string sessionId, string actor)
    {
        await using var ctx = db.Create();
        var s = await ctx.Sessions.FindAsync(sessionId) ?? throw new ExposureInputException("sessionId", sessionId, "no such session");
        if (s.State != SessionState.Created) throw new ExposureInputException("sessionId", sessionId, $"is {s.State}; only a created session can start");
        var patient = await ctx.Patients.FindAsync(s.PatientId) ?? throw new ExposureInputException("patientId", s.PatientId, "no such patient");
        var started = clock.GetUtcNow();
        var setup = new SessionSetup(s.Id, ExposureFiles.ParsePatient(patient.HierarchyJson, $"patient {patient.Id}"), s.Scheduler, ParseMode(s.Mode), s.Seed, s.BaselineSeconds, s.SessionNumber);
        var a = new SessionActor(setup, s.PatientId, started, Model, store, sink, clock, metrics);
        if (!_actors.TryAdd(s.Id, a)) throw new ExposureInputException("sessionId", sessionId, "is already running");
        await store.Run(async d =>
        {
            var rec = await d.Sessions.FindAsync(sessionId);
            rec!.State = SessionState.Running;
            rec.StartedAt = started;
            await d.SaveChangesAsync();
        });
        await store.Audit(actor, "session_start", s.Id, $"{s.Scheduler} {s.Mode} baseline {s.BaselineSeconds.ToString(CultureInfo.InvariantCulture)} s");
        metrics.SessionStarted();
        await a.Ask((p, o) => p.ConsoleCount(_consoles.GetValueOrDefault(s.Id), o));
        return a;
    }

    public async Task EndAsync(string sessionId, string actor)
    {
        if (!_actors.TryRemove(sessionId, out var a)) throw new ExposureInputException("sessionId", sessionId, "is not running");
        await a.Ask((p, o) => p.End(actor, o));
        await store.Run(async d =>
        {
            var rec = await d.Sessions.FindAsync(sessionId);
            rec!.State = SessionState.Ended;
            rec.EndedAt = clock.GetUtcNow();
            await d.SaveChangesAsync();
        });
        metrics.SessionStopped();
    }

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
            try
            {
                var patient = await ctx.Patients.AsNoTracking().FirstAsync(p => p.Id == s.PatientId, ct);
                var lastScene = await ctx.Entries.AsNoTracking()
                    .Where(e => e.SessionId == s.Id && e.Kind == EntryKind.Command && e.Name == "SetScene")
                    .OrderByDescending(e => e.Id).Select(e => e.Json).FirstOrDefaultAsync(ct);
                string? item = null, highest = null;
                if (lastScene is not null)
                {
                    using var doc = JsonDocument.Parse(lastScene);
                    if (doc.RootElement.TryGetProperty("itemId", out var i) && i.ValueKind == JsonValueKind.String) item = i.GetString();
                    if (doc.RootElement.TryGetProperty("highestItemId", out var h) && h.ValueKind == JsonValueKind.String) highest = h.GetString();
                }
                var baseline = s.BaselineJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, double>>(s.BaselineJson, SessionActor.Json);
                var started = s.StartedAt ?? clock.GetUtcNow();
                double resumeAt = (clock.GetUtcNow() - started).TotalSeconds;
                var setup = new SessionSetup(s.Id, ExposureFiles.ParsePatient(patient.HierarchyJson, $"patient {patient.Id}"), s.Scheduler, ParseMode(s.Mode), s.Seed,
                    s.BaselineSeconds, s.SessionNumber, ResumeItemId: item ?? ExposureFiles.ParsePatient(patient.HierarchyJson, "").Hierarchy.Items[0].Id,
                    HighestItemId: highest, Baseline: baseline, ResumeAtSeconds: resumeAt);
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
