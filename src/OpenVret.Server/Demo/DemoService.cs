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
/// </summary>
public sealed class DemoService(DbFactory db, SessionHost host, StoreWriter store, ServerOptions options, TimeProvider clock, ILogger<DemoService> log,
    Microsoft.AspNetCore.Hosting.Server.IServer server, IHostApplicationLifetime lifetime) : BackgroundService
{
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
            var sessionId = await EnsureSessionAsync(ct);
            await RunDeviceAsync(sessionId, ct);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { log.LogError(e, "the demo stopped"); }
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
        if (running is not null && host.Find(running) is not null) return running;
        var demoUser = await ctx.Users.AsNoTracking().OrderBy(u => u.Id).FirstAsync(ct);
        var session = new SessionRecord
        {
            Id = "S-demo-" + Secrets.NewToken()[..6], PatientId = PatientId, Scheduler = "inhibitory", Mode = "suggest", Seed = 7,
            BaselineSeconds = options.BaselineSeconds, State = SessionState.Created, CreatedAt = clock.GetUtcNow(), CreatedByUserId = demoUser.Id,
        };
        ctx.Sessions.Add(session);
        await ctx.SaveChangesAsync(ct);
        await host.StartAsync(session.Id, "server:demo");
        return session.Id;
    }

    private async Task RunDeviceAsync(string sessionId, CancellationToken ct)
    {
        var actor = host.Find(sessionId)!;
        string deviceId = "D-demo-" + Secrets.NewToken()[..6];
        await using (var ctx = db.Create())
        {
            ctx.Devices.Add(new DeviceRecord { Id = deviceId, SessionId = sessionId, Name = "simulated patient (demo)", Role = nameof(DeviceRole.SensorAndVr), TokenHash = Secrets.Hash(Secrets.NewToken()), CreatedAt = clock.GetUtcNow() });
            await ctx.SaveChangesAsync(ct);
        }
        var rates = new GeneratorRates();
        var channels = SimulatedDeviceChannels.Declare(rates);
        await actor.Ask((p, o) => p.DeclareDevice(deviceId, channels, -1, new Dictionary<string, long>(), o));
        await host.ConsolesChangedAsync(sessionId, +1);   // the scripted stand-in therapist watches the session
        log.LogInformation("demo: session {Session} is live with a simulated patient device; a scripted stand-in therapist approves proposals " +
            "until you open it in the console: {Url} (log in with the demo account).", Secrets.Pseudonym("session", sessionId), _console);

        var patient = new PatientStream(11, rates);
        double? quietSince = null;
        var seq = new long[channels.Count];
        var sent = new long[channels.Count];
        double deviceClockStart = 5_000 + Random.Shared.NextDouble() * 1000;   // the device's own clock, unrelated to session time
        long eventSeq = 0;
        var pendingSince = new Dictionary<string, double>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), clock);
        while (await timer.WaitForNextTickAsync(ct))
        {
            if (host.Find(sessionId) is null) return;   // ended
            var (phase, intensity, context, paused) = await actor.Ask((p, _) => (p.Phase, p.Engine.Snapshot.CurrentIntensity, p.Engine.CurrentContext, p.Engine.Snapshot.Paused || p.Engine.Stopped));
            bool exposed = phase == SessionPhase.Exposure && !paused;
            var (chunk, reports) = patient.Next(0.1, intensity, context, exposed);
            var data = SimulatedDeviceChannels.Samples(chunk);
            var batches = new List<SampleBatch?>();
            for (int c = 0; c < channels.Count; c++)
            {
                if (data[c].Length == 0) continue;
                batches.Add(new SampleBatch(channels[c].Name, seq[c]++, deviceClockStart + sent[c] / channels[c].RateHz, data[c].Select(v => (float)v).ToArray()));
                sent[c] += data[c].Length;
            }
            foreach (var ack in await actor.IngestAsync(deviceId, batches))
                if (ack.Status == BatchStatus.Rejected) log.LogWarning("demo device: batch rejected: {Error}", ack.Error);
            foreach (var r in reports)
                await actor.Ask((p, o) => p.OnClientEvent(deviceId, new ClientEvent(eventSeq++, deviceClockStart + patient.Time, SimulatedDeviceChannels.EventKind(r), r.Value, null, null), actor.Now, o));
            // The scripted stand-in therapist: approve what waits for 5 s, release holds after a quiet minute.
            // It steps back while a real therapist watches in the console.
            if (host.ConsolesWatching(sessionId) > 1) { pendingSince.Clear(); quietSince = null; continue; }
            await actor.Ask((p, o) =>
            {
                var view = p.View();
                foreach (var w in view.Pending.Where(w => w.Status == ProposalStatus.Pending))
                {
                    if (!pendingSince.TryGetValue(w.Proposal.Id, out var since)) pendingSince[w.Proposal.Id] = since = view.Elapsed;
                    if (view.Elapsed - since >= 5) p.Approve("demo:scripted-therapist", w.Proposal.Id, null, o);
                }
                bool quiet = view.Sensors.Values.All(v => v == nameof(SensorStatus.Good)) && p.OpenAlerts.All(a => a.At < view.Elapsed - 60);
                quietSince = quiet ? quietSince ?? view.Elapsed : null;
                if (quietSince is double q && view.Elapsed - q >= 60)
                {
                    if (view.Stopped) p.Resume("demo:scripted-therapist", "scripted stand-in: nothing has fired for 60 s", o);
                    if (view.HoldActive) p.ReleaseHold("demo:scripted-therapist", "scripted stand-in: nothing has fired for 60 s", o);
                }
            });
        }
    }
}
