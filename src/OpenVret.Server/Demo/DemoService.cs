using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Security;
using OpenVret.Server.Sessions;
using OpenVret.Simulation;

namespace OpenVret.Server.Demo;

/// <summary>
/// The out-of-the-box demo. On an empty database it seeds a demo account (password from configuration, or a
/// random one printed once), a demo patient with a fear-of-heights hierarchy and a session; on every start it
/// makes sure the demo session runs and feeds it from a simulated patient device: a virtual patient from
/// <c>OpenVret.Simulation</c> whose fear follows the scene the engine sets (closed loop), streaming ECG 250 Hz,
/// BVP 64 Hz, EDA 4 Hz, skin temperature 4 Hz and accelerometer 32 Hz in 100 ms batches with its own
/// (offset) clock, plus SUDS and expectancy ratings. A scripted stand-in therapist approves proposals after a
/// few seconds and releases safety holds once nothing has fired for a minute, so the loop moves without a console;
/// it steps back as soon as a therapist opens the session in the console.
/// The demo works on the session through the same operations as devices and consoles (<see cref="ISessionDirectory"/>),
/// so it runs in both hostings. In a cluster one node runs it (the holder of a PostgreSQL advisory lock); when that
/// node dies its lock goes with its connection, another node takes over and the session resumes there.
/// </summary>
public sealed class DemoService(DbFactory db, SessionHost host, ISessionDirectory sessions, StoreWriter store, ServerOptions options, TimeProvider clock, ILogger<DemoService> log,
    Microsoft.AspNetCore.Hosting.Server.IServer server, IHostApplicationLifetime lifetime) : BackgroundService
{
    private const string Actor = "demo:scripted-therapist";
    private const string DeviceName = "simulated patient (demo)";

    public const string PatientId = "P-demo-01";
    private string _console = "/console/";

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            await host.Ready.WaitAsync(ct);
            var started = new TaskCompletionSource();
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult())) await started.Task.WaitAsync(ct);
            _console = (server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5080") + "/console/";
            await using var leader = await LeaderAsync(ct);
            var sessionId = await EnsureSessionAsync(ct);
            await RunDeviceAsync(sessionId, ct);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { log.LogError(e, "the demo stopped"); }
    }

    /// <summary>In a cluster, waits until this node holds the demo's advisory lock (held for as long as the returned connection is open).</summary>
    private async Task<IAsyncDisposable?> LeaderAsync(CancellationToken ct)
    {
        if (!options.IsCluster) return null;
        while (true)
        {
            // Unpooled: the lock belongs to this physical connection and must go when it closes.
            var c = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(options.PostgresConnection) { Pooling = false }.ConnectionString);
            try
            {
                await c.OpenAsync(ct);
                await using var cmd = new Npgsql.NpgsqlCommand("SELECT pg_try_advisory_lock(7326003)", c);
                if (await cmd.ExecuteScalarAsync(ct) is true)
                {
                    log.LogInformation("demo: this node runs the demo session");
                    return c;
                }
            }
            catch (Npgsql.NpgsqlException e) { log.LogDebug("demo: lock attempt failed: {Error}", e.Message); }
            await c.DisposeAsync();
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
        }
    }

    private async Task<string> EnsureSessionAsync(CancellationToken ct)
    {
        await using var ctx = db.Create();
        if (!await ctx.Users.AnyAsync(ct))
        {
            string password = string.IsNullOrEmpty(options.DemoPassword) ? Secrets.NewPassword() : options.DemoPassword;
            var user = new UserAccount { UserName = options.DemoUser, PasswordHash = "", Role = UserRole.Admin, CreatedAt = clock.GetUtcNow() };
            user.PasswordHash = new PasswordHasher<UserAccount>().HashPassword(user, password);
            ctx.Users.Add(user);
            await ctx.SaveChangesAsync(ct);
            // Printed once, to the console only (never to the log): the account is created only on an empty database.
            Console.WriteLine($"""

                ==== OpenVRET demo ====
                Open {_console} and log in.
                Demo account (admin + therapist): user '{options.DemoUser}', password '{password}'
                This is shown only now. Set OpenVret__DemoPassword to choose it; set OpenVret__Demo=false for no demo.
                =======================

                """);
            await store.Audit("server", "demo_seeded", null, $"user:{user.Id}");
        }
        if (await ctx.Patients.FindAsync(new object[] { PatientId }, ct) is null)
        {
            // Stored as plain JSON (the sample file has comments).
            var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "demo", "heights-hierarchy.json"), ct),
                documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.ToJsonString();
            ctx.Patients.Add(new PatientRecord { Id = PatientId, Site = "demo", HierarchyJson = json, Notes = "Demo patient (simulated); fear of heights.", CreatedAt = clock.GetUtcNow() });
            await ctx.SaveChangesAsync(ct);
        }
        var running = await ctx.Sessions.AsNoTracking().Where(s => s.PatientId == PatientId && s.State == SessionState.Running).Select(s => s.Id).FirstOrDefaultAsync(ct);
        if (running is not null && await sessions.FindAsync(running) is not null) return running;
        var demoUser = await ctx.Users.AsNoTracking().OrderBy(u => u.Id).FirstAsync(ct);
        var session = new SessionRecord
        {
            Id = "S-demo-" + Secrets.NewToken()[..6], PatientId = PatientId, Scheduler = "inhibitory", Mode = "suggest", Seed = 7,
            BaselineSeconds = options.BaselineSeconds, State = SessionState.Created, CreatedAt = clock.GetUtcNow(), CreatedByUserId = demoUser.Id,
        };
        ctx.Sessions.Add(session);
        await ctx.SaveChangesAsync(ct);
        await sessions.StartAsync(session.Id, "server:demo");
        return session.Id;
    }

    private async Task RunDeviceAsync(string sessionId, CancellationToken ct)
    {
        var rates = new GeneratorRates();
        var channels = SimulatedDeviceChannels.Declare(rates);
        string deviceId = "D-demo-" + Secrets.NewToken()[..6];
        List<string> previous;
        await using (var ctx = db.Create())
        {
            // A demo device left by an earlier run (a restart, or a cluster node that died) will not come back.
            previous = await ctx.Devices.Where(d => d.SessionId == sessionId && d.Name == DeviceName && d.RevokedAt == null).Select(d => d.Id).ToListAsync(ct);
            ctx.Devices.Add(new DeviceRecord { Id = deviceId, SessionId = sessionId, Name = DeviceName, Role = nameof(DeviceRole.SensorAndVr),
                TokenHash = Secrets.Hash(Secrets.NewToken()), CreatedAt = clock.GetUtcNow(), ChannelsJson = System.Text.Json.JsonSerializer.Serialize(channels, SessionActor.Json) });
            await ctx.SaveChangesAsync(ct);
        }
        var session = await sessions.FindAsync(sessionId) ?? throw new InvalidOperationException($"demo session {sessionId} is not running");
        foreach (var old in previous)
        {
            // Taken out of the session like a therapist would (audited), so its lost sensors do not hold the demo forever.
            try { await session.CommandAsync(new TherapistCommand(TherapistCommandKind.RemoveDevice, "server:demo", DeviceId: old, Why: "the demo's previous simulated device (its server stopped)")); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not in the live session (it never said hello since the session resumed): revoking it is enough.
                log.LogDebug("demo: previous device not in the live session: {Error}", e.Message);
                await SessionLoader.RevokeDeviceAsync(store, sessionId, old, clock.GetUtcNow());
            }
        }
        await session.HelloAsync(deviceId, new DeviceHello(ProtocolVersion.Current, "simulated patient (demo)", channels));
        await sessions.ConsolesChangedAsync(sessionId, +1);   // the scripted stand-in therapist watches the session
        log.LogInformation("demo: session {Session} is live with a simulated patient device; a scripted stand-in therapist approves proposals " +
            "until you open it in the console: {Url} (log in with the demo account).", Secrets.Pseudonym("session", sessionId), _console);

        var patient = new PatientStream(11, rates);
        double? quietSince = null;
        var seq = new long[channels.Count];
        var sent = new long[channels.Count];
        double deviceClockStart = 5_000 + Random.Shared.NextDouble() * 1000;   // the device's own clock, unrelated to session time
        long eventSeq = 0, tick = 0;
        var pendingSince = new Dictionary<string, double>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), clock);
        while (await timer.WaitForNextTickAsync(ct))
        {
            if (await sessions.FindAsync(sessionId) is not { } s) return;   // ended
            var view = await s.ViewAsync();
            bool exposed = view.Phase == SessionPhase.Exposure && !view.ScenePaused;
            var (chunk, reports) = patient.Next(0.1, view.CurrentIntensity, view.Context, exposed);
            var data = SimulatedDeviceChannels.Samples(chunk);
            var batches = new List<SampleBatch>();
            for (int c = 0; c < channels.Count; c++)
            {
                if (data[c].Length == 0) continue;
                batches.Add(new SampleBatch(channels[c].Name, seq[c]++, deviceClockStart + sent[c] / channels[c].RateHz, data[c].Select(v => (float)v).ToArray()));
                sent[c] += data[c].Length;
            }
            foreach (var ack in await s.SamplesAsync(deviceId, batches.ToArray()))
                if (ack.Status == BatchStatus.Rejected) log.LogWarning("demo device: batch rejected: {Error}", ack.Error);
            foreach (var r in reports)
                await s.EventAsync(deviceId, new ClientEvent(eventSeq++, deviceClockStart + patient.Time, SimulatedDeviceChannels.EventKind(r), r.Value, null, null));
            // The scripted stand-in therapist, once a second: approve what waits for 5 s, release holds after a quiet
            // minute. It steps back while a real therapist watches in the console.
            if (++tick % 10 != 0) continue;
            if (sessions.ConsolesWatching(sessionId) > 1) { pendingSince.Clear(); quietSince = null; continue; }
            var snapshot = await s.SnapshotAsync();
            var v = snapshot.View;
            foreach (var w in v.Pending.Where(w => w.Status == ProposalStatus.Pending))
            {
                if (!pendingSince.TryGetValue(w.Proposal.Id, out var since)) pendingSince[w.Proposal.Id] = since = v.Elapsed;
                if (v.Elapsed - since >= 5) await s.CommandAsync(new TherapistCommand(TherapistCommandKind.Approve, Actor, ProposalId: w.Proposal.Id));
            }
            bool quiet = v.Sensors.Values.All(x => x == nameof(SensorStatus.Good)) && snapshot.OpenAlerts.All(a => a.At < v.Elapsed - 60);
            quietSince = quiet ? quietSince ?? v.Elapsed : null;
            if (quietSince is double q && v.Elapsed - q >= 60)
            {
                const string why = "scripted stand-in: nothing has fired for 60 s";
                if (v.Stopped) await s.CommandAsync(new TherapistCommand(TherapistCommandKind.Resume, Actor, Why: why));
                if (v.HoldActive) await s.CommandAsync(new TherapistCommand(TherapistCommandKind.ReleaseHold, Actor, Why: why));
            }
        }
    }
}
