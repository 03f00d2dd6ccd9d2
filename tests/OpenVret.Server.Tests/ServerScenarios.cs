using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenVret.Protocol;
using OpenVret.Server.Audit;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using OpenVret.Signals.Readers;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>Integration scenarios against a real server; run on SQLite always and on PostgreSQL when reachable.</summary>
public static class ServerScenarios
{
    private static async Task<int> ChunkCount(TestServer s, string sessionId)
    {
        await using var db = s.Services.GetRequiredService<DbFactory>().Create();
        return await Stored.ChunkCountAsync(db, sessionId);
    }

    public static async Task Authentication_roles_and_lockout(TestServer s)
    {
        var anon = s.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.GetAsync("/api/patients")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.GetAsync("/api/sessions")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.PostAsJsonAsync("/api/auth/login", new { userName = TestServer.AdminUser, password = "wrong" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anon.GetAsync("/health")).StatusCode);
        var openapi = await anon.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/pair", openapi);
        Assert.Contains("/api/sessions/{id}/export", openapi);

        var admin = await s.LoginAsync();
        var created = await admin.Http.PostAsJsonAsync("/api/users", new { userName = "dr-lee", password = "correct horse battery", role = "therapist" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var weak = await admin.Http.PostAsJsonAsync("/api/users", new { userName = "dr-x", password = "short", role = "therapist" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("password", await weak.Content.ReadAsStringAsync());

        // A therapist is not an admin.
        var lee = await s.LoginAsync("dr-lee", "correct horse battery");
        Assert.Equal(HttpStatusCode.OK, (await lee.Http.GetAsync("/api/patients")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await lee.Http.GetAsync("/api/audit/verify")).StatusCode);

        // Five wrong passwords from one address delay the next attempt from there (429 + Retry-After), even with the right one.
        for (int i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await anon.PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = "nope" })).StatusCode);
        var throttled = await anon.PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.NotNull(throttled.Headers.RetryAfter);

        // A device token opens the device hub of its own session and nothing a therapist can do.
        var session = await s.CreateSessionAsync(admin);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.PostAsJsonAsync("/api/pair", new PairingRequest("ZZZZZZZZ", "x", DeviceRole.Sensor), TestServer.Json)).StatusCode);
        var device = await s.PairAsync(session.Code);
        var asDevice = s.Client();
        asDevice.DefaultRequestHeaders.Authorization = new("Bearer", device.DeviceToken);
        Assert.False((await asDevice.GetAsync($"/api/sessions/{session.SessionId}")).IsSuccessStatusCode);
        Assert.False((await asDevice.GetAsync("/api/patients")).IsSuccessStatusCode);
        Assert.False((await asDevice.GetAsync($"/api/sessions/{session.SessionId}/export")).IsSuccessStatusCode);
        await Assert.ThrowsAnyAsync<Exception>(() => s.DeviceConnectionAsync("not-a-token"));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var c = new HubConnectionBuilder().WithUrl(s.BaseUrl + ProtocolVersion.ConsoleHubPath, o => o.AccessTokenProvider = () => Task.FromResult<string?>(device.DeviceToken)).Build();
            await c.StartAsync();
            await c.InvokeAsync<object>("Watch", session.SessionId);
        });

        // Logins and failures are audited, never with the raw user name of a failure.
        var audit = await admin.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        var actions = audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Contains("login", actions);
        Assert.Contains("login_failed", actions);
        Assert.Contains("login_throttled", actions);
        Assert.Contains("device_paired", actions);
    }

    public static async Task Streaming_is_durable_deduplicated_and_survives_a_restart(TestServer s)
    {
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var pairing = await s.PairAsync(session.Code);
        var hub = await s.DeviceConnectionAsync(pairing.DeviceToken);
        var hello = await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        Assert.Equal(session.SessionId, hello.SessionId);
        Assert.All(hello.LastSequence.Values, v => Assert.Equal(-1, v));

        var device = new SimDevice();
        var sent = new List<SampleBatch>();
        for (int i = 0; i < 30; i++)
            foreach (var b in device.Next())
            {
                var ack = await hub.InvokeAsync<BatchAck>("Samples", b);
                Assert.Equal(BatchStatus.Accepted, ack.Status);
                sent.Add(b);
            }
        Assert.Equal(sent.Count, await ChunkCount(s, session.SessionId));
        Assert.Equal(BatchStatus.Duplicate, (await hub.InvokeAsync<BatchAck>("Samples", sent[^1])).Status);
        var bad = await hub.InvokeAsync<BatchAck>("Samples", new SampleBatch("gsr", 0, 0, new float[] { 1 }));
        Assert.Equal(BatchStatus.Rejected, bad.Status);
        Assert.Contains("'gsr'", bad.Error);
        // A message of the wrong shape is refused by the protocol layer, and the connection and session carry on.
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<BatchAck>("Samples", "not a batch"));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<BatchAck[]>("SamplesMany", Array.Empty<SampleBatch>()));
        var wrongVersion = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(99, "test", SimDevice.Channels)));
        Assert.Contains("version", wrongVersion.Message);
        Assert.Equal(sent.Count, await ChunkCount(s, session.SessionId));

        // A message over the size limit is refused (the connection drops); nothing accepted is lost.
        var huge = new SampleBatch("ecg", 999, 0, new float[200_000]);
        await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync<BatchAck>("Samples", huge));
        await hub.DisposeAsync();
        Assert.Equal(sent.Count, await ChunkCount(s, session.SessionId));

        // Restart: the session resumes on a safety hold; the device learns what the server holds and resends only the rest.
        await s.RestartAsync();
        var live = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}");
        Assert.True(live.GetProperty("state").GetString() == "Running", live.ToString());
        Assert.True(live.GetProperty("live").GetProperty("holdActive").GetBoolean());
        var hub2 = await s.DeviceConnectionAsync(pairing.DeviceToken);
        var hello2 = await hub2.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        foreach (var ch in SimDevice.Channels)
            Assert.Equal(sent.Where(b => b.Channel == ch.Name).Max(b => b.Sequence), hello2.LastSequence[ch.Name]);
        foreach (var b in sent.TakeLast(5)) Assert.Equal(BatchStatus.Duplicate, (await hub2.InvokeAsync<BatchAck>("Samples", b)).Status);
        foreach (var b in device.Next()) Assert.Equal(BatchStatus.Accepted, (await hub2.InvokeAsync<BatchAck>("Samples", b)).Status);
        // A gap left before a restart stays a gap after it: the batches the store never received are taken late, not
        // answered "duplicate" (which would let the device drop them).
        var skipped = device.Next();
        var after = device.Next();
        foreach (var b in after) Assert.Equal(BatchStatus.Accepted, (await hub2.InvokeAsync<BatchAck>("Samples", b)).Status);
        await hub2.DisposeAsync();
        await s.RestartAsync();
        var hub3 = await s.DeviceConnectionAsync(pairing.DeviceToken);
        await hub3.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        foreach (var b in skipped) Assert.Equal(BatchStatus.AcceptedLate, (await hub3.InvokeAsync<BatchAck>("Samples", b)).Status);
        foreach (var b in skipped.Concat(after)) Assert.Equal(BatchStatus.Duplicate, (await hub3.InvokeAsync<BatchAck>("Samples", b)).Status);
        await hub3.DisposeAsync();

        var alerts = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=alert");
        Assert.Contains(alerts.EnumerateArray(), e => e.GetProperty("name").GetString() == "server_restart");
        var verify = await t.Http.GetFromJsonAsync<JsonElement>("/api/audit/verify");
        Assert.True(verify.GetProperty("intact").GetBoolean(), verify.ToString());
    }

    public static async Task A_device_reaches_only_its_own_session(TestServer s)
    {
        var t = await s.LoginAsync();
        var a = await s.CreateSessionAsync(t);
        var b = await s.CreateSessionAsync(t);
        var pa = await s.PairAsync(a.Code);
        Assert.Equal(a.SessionId, pa.SessionId);
        var hub = await s.DeviceConnectionAsync(pa.DeviceToken);
        var hello = await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        Assert.Equal(a.SessionId, hello.SessionId);
        foreach (var batch in new SimDevice().Next()) await hub.InvokeAsync<BatchAck>("Samples", batch);
        Assert.True(await ChunkCount(s, a.SessionId) > 0);
        Assert.Equal(0, await ChunkCount(s, b.SessionId));
        await hub.DisposeAsync();
    }

    /// <summary>A pairing code pairs one device; a removed device cannot come back with a code it saw; tokens die with the session.</summary>
    public static async Task Device_credentials_are_single_use_and_end_with_the_session(TestServer s)
    {
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var first = await s.PairAsync(session.Code, DeviceRole.Sensor, "strap");
        var again = await s.Client().PostAsJsonAsync("/api/pair", new PairingRequest(session.Code, "another", DeviceRole.Sensor), TestServer.Json);
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);

        async Task<string> NewCode() => (await (await t.Http.PostAsync($"/api/sessions/{session.SessionId}/pairing-code", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
        var second = await s.PairAsync(await NewCode(), DeviceRole.VrClient, "headset");
        var headset = await s.DeviceConnectionAsync(second.DeviceToken);
        await headset.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        await headset.DisposeAsync();
        var unused = await NewCode();
        var console = await s.ConsoleConnectionAsync(t);
        await console.InvokeAsync<JsonElement>("Watch", session.SessionId);
        await console.InvokeAsync("RemoveDevice", session.SessionId, second.DeviceId, "lost");
        await Assert.ThrowsAnyAsync<Exception>(() => s.DeviceConnectionAsync(second.DeviceToken));
        // The code outstanding when the device was removed is withdrawn with it.
        var withdrawn = await s.Client().PostAsJsonAsync("/api/pair", new PairingRequest(unused, "headset", DeviceRole.VrClient), TestServer.Json);
        Assert.Equal(HttpStatusCode.Unauthorized, withdrawn.StatusCode);
        await console.DisposeAsync();

        // The first device works until the session ends, and not after (nor can a code be issued then).
        var hub = await s.DeviceConnectionAsync(first.DeviceToken);
        await hub.DisposeAsync();
        (await t.Http.PostAsync($"/api/sessions/{session.SessionId}/end", null)).EnsureSuccessStatusCode();
        await Assert.ThrowsAnyAsync<Exception>(() => s.DeviceConnectionAsync(first.DeviceToken));
        var negotiate = s.Client();
        negotiate.DefaultRequestHeaders.Authorization = new("Bearer", first.DeviceToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await negotiate.PostAsync(ProtocolVersion.DeviceHubPath + "/negotiate?negotiateVersion=1", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await t.Http.PostAsync($"/api/sessions/{session.SessionId}/pairing-code", null)).StatusCode);
    }

    public static async Task The_audit_trail_detects_tampering(TestServer s)
    {
        var t = await s.LoginAsync();
        await s.CreateSessionAsync(t);
        var ok = await t.Http.GetFromJsonAsync<AuditChain.Verification>("/api/audit/verify", TestServer.Json);
        Assert.True(ok!.Intact, ok.Message);
        Assert.True(ok.Entries >= 4);
        var cliOut = new StringWriter();
        Assert.Equal(0, OpenVret.Cli.ServerCommands.Verify(s.DataFolder, s.Postgres, cliOut));
        Assert.Contains("chain intact", cliOut.ToString());
        Assert.Equal(2, OpenVret.Cli.ServerCommands.Verify(Path.Combine(s.DataFolder, "nowhere"), null, TextWriter.Null));
        var db = s.Services.GetRequiredService<DbFactory>();
        var keys = s.Services.GetRequiredService<AuditKeys>();
        var verifier = new AuditChain.Verifier(keys.LinkKey, keys.Verifier, AuditCheckpointFiles.Folder(s.Services.GetRequiredService<ServerOptions>()));
        await using (var ctx = db.Create())
        {
            var victim = await ctx.Audit.OrderBy(a => a.Sequence).Skip(2).FirstAsync();
            victim.Detail += " (edited)";
            await ctx.SaveChangesAsync();
            var bad = await AuditChain.VerifyAsync(ctx, verifier);
            Assert.False(bad.Intact);
            Assert.Equal(victim.Sequence, bad.FirstBadSequence);
            Assert.Contains("modified", bad.Message);
            cliOut = new StringWriter();
            Assert.Equal(1, OpenVret.Cli.ServerCommands.Verify(s.DataFolder, s.Postgres, cliOut));   // `openvret audit verify` finds it too
            Assert.Contains($"entry {victim.Sequence}", cliOut.ToString());
            // Re-hashing the edited row, even with the key, does not help: the next link no longer matches.
            victim.Hash = AuditChain.KeyedHashOf(keys.LinkKey!, victim);
            await ctx.SaveChangesAsync();
            bad = await AuditChain.VerifyAsync(ctx, verifier);
            Assert.False(bad.Intact);
            Assert.Equal(victim.Sequence + 1, bad.FirstBadSequence);
            // Deleting a row is found too.
            ctx.Audit.Remove(await ctx.Audit.OrderBy(a => a.Sequence).Skip(1).FirstAsync());
            await ctx.SaveChangesAsync();
            Assert.Equal(2, (await AuditChain.VerifyAsync(ctx, verifier)).FirstBadSequence);
        }
    }

    public static async Task MessagePack_clients_speak_the_same_protocol(TestServer s)
    {
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var pairing = await s.PairAsync(session.Code);
        var hub = await s.DeviceConnectionAsync(pairing.DeviceToken, messagePack: true);
        var hello = await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "msgpack", SimDevice.Channels));
        Assert.Equal(session.SessionId, hello.SessionId);
        var device = new SimDevice();
        foreach (var b in device.Next()) Assert.Equal(BatchStatus.Accepted, (await hub.InvokeAsync<BatchAck>("Samples", b)).Status);
        var ack = await hub.InvokeAsync<EventAck>("Event", new ClientEvent(0, 1000, ClientEventKind.Suds, 30, null, null));
        Assert.Equal(BatchStatus.Accepted, ack.Status);
        await hub.DisposeAsync();
    }

    public static async Task A_session_exports_as_EDF_CSV_and_JSON(TestServer s)
    {
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var pairing = await s.PairAsync(session.Code);
        var hub = await s.DeviceConnectionAsync(pairing.DeviceToken);
        await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        var device = new SimDevice();
        for (int i = 0; i < 40; i++) foreach (var b in device.Next()) await hub.InvokeAsync<BatchAck>("Samples", b);
        await hub.InvokeAsync<EventAck>("Event", new ClientEvent(0, 1001, ClientEventKind.Suds, 30, null, null));
        await hub.DisposeAsync();

        var bytes = await t.Http.GetByteArrayAsync($"/api/sessions/{session.SessionId}/export");
        using var zip = new ZipArchive(new MemoryStream(bytes));
        Assert.Equal(new[] { "audit.json", "events.json", "features.csv", "signals.edf" }, zip.Entries.Select(e => e.Name).OrderBy(n => n));
        var edfPath = Path.Combine(Path.GetTempPath(), $"export-check-{Guid.NewGuid():N}.edf");
        zip.GetEntry("signals.edf")!.ExtractToFile(edfPath, true);
        var rec = Edf.Read(edfPath).Recording;
        File.Delete(edfPath);
        Assert.Equal(5, rec.Channels.Count);
        var ecg = rec.Channels.Single(c => c.Signal.Name.EndsWith(":ecg"));
        Assert.Equal(250, ecg.Signal.Rate.Hertz);
        Assert.Equal(40 * 25, ecg.Signal.Samples.Count(double.IsFinite));   // every acknowledged sample, none twice
        using var events = JsonDocument.Parse(zip.GetEntry("events.json")!.Open());
        Assert.Contains(events.RootElement.GetProperty("entries").EnumerateArray(), e => e.GetProperty("kind").GetString() == "Rating");
        var audit = await t.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("action").GetString() == "export");
    }
}

public static class ReplayScenarios
{
    /// <summary>
    /// A device over its sample budget is told so (and nothing is stored); under it, everything is accepted. The bucket
    /// refills with the server's clock, here a fake one the test moves on: no waiting for the refill in real time.
    /// </summary>
    public static async Task Ingest_is_rate_limited_per_device()
    {
        // Starts at the real date so the login cookie's expiry lies in the future for the client's cookie container.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(settings: new() { ["OpenVret:MaxSamplesPerSecondPerDevice"] = "1000" }, clock: clock);
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var token = (await s.PairAsync(session.Code)).DeviceToken;
        var hub = await s.DeviceConnectionAsync(token);
        await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        var ok = await hub.InvokeAsync<BatchAck>("Samples", new SampleBatch("ecg", 0, 0, new float[500]));
        Assert.Equal(BatchStatus.Accepted, ok.Status);
        var over = await hub.InvokeAsync<BatchAck>("Samples", new SampleBatch("ecg", 1, 2, new float[2000]));
        Assert.Equal(BatchStatus.Rejected, over.Status);
        Assert.StartsWith("rate:", over.Error);
        // 500 samples are left in the bucket, and no time has passed: 900 more are still too many.
        Assert.Equal(BatchStatus.Rejected, (await hub.InvokeAsync<BatchAck>("Samples", new SampleBatch("ecg", 1, 2, new float[900]))).Status);
        // The budget is the device's, not the connection's (an outside probe got 5x the rate over 5 connections).
        var second = await s.DeviceConnectionAsync(token);
        await second.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", SimDevice.Channels));
        Assert.Equal(BatchStatus.Rejected, (await second.InvokeAsync<BatchAck>("Samples", new SampleBatch("ecg", 1, 2, new float[900]))).Status);
        await second.DisposeAsync();
        clock.Advance(TimeSpan.FromSeconds(1));   // a second later the bucket is full again
        Assert.Equal(BatchStatus.Accepted, (await hub.InvokeAsync<BatchAck>("Samples", new SampleBatch("ecg", 1, 2, new float[900]))).Status);
        await hub.DisposeAsync();
    }

    /// <summary>A 3-minute EDF+ recording of a simulated patient, replayed as fast as possible through a created session.</summary>
    public static async Task A_recording_replays_through_the_pipeline(TestServer s)
    {
        var profile = OpenVret.Simulation.Cohort.Draw(1, 4)[0];
        var gen = new OpenVret.Simulation.SignalGenerator(profile, 4);
        var c = gen.Next(180, t => t < 90 ? 0.1 : 0.6);
        var acc = c.AccX.Select((x, i) => Math.Sqrt(x * x + c.AccY[i] * c.AccY[i] + c.AccZ[i] * c.AccZ[i])).ToArray();
        var rec = new OpenVret.Signals.Recording(new[]
        {
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.Ecg, new OpenVret.Signals.Signal(c.Ecg, new(250), 0, OpenVret.Signals.SignalUnit.Millivolt, "ECG")),
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.Ppg, new OpenVret.Signals.Signal(c.Ppg, new(64), 0, OpenVret.Signals.SignalUnit.Arbitrary, "BVP")),
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.Eda, new OpenVret.Signals.Signal(c.Eda, new(4), 0, OpenVret.Signals.SignalUnit.Microsiemens, "EDA")),
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.SkinTemperature, new OpenVret.Signals.Signal(c.Temperature, new(4), 0, OpenVret.Signals.SignalUnit.DegreesCelsius, "TEMP")),
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.Accelerometer, new OpenVret.Signals.Signal(acc, new(32), 0, OpenVret.Signals.SignalUnit.StandardGravity, "ACC")),
        });
        var edf = Path.Combine(Path.GetTempPath(), $"replay-{Guid.NewGuid():N}.edf");
        Edf.Write(edf, rec, patientCode: "P-x");
        try
        {
            var t = await s.LoginAsync();
            var session = await s.CreateSessionAsync(t, mode: "manual", baseline: 60, start: false);
            using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(edf)), "file", "recording.edf" }, { new StringContent("max"), "speed" } };
            var r = await t.Http.PostAsync($"/api/sessions/{session.SessionId}/replay", form);
            Assert.True(r.StatusCode == HttpStatusCode.Accepted, await r.Content.ReadAsStringAsync());
            await Until.ValueAsync(() => t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}"),
                v => v.GetProperty("state").GetString() == "Ended", "the replayed session ended", TimeSpan.FromSeconds(90));

            var entries = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?limit=5000");
            var names = entries.EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
            Assert.Contains("baseline_calibrated", names);
            Assert.Contains("SetScene", names);
            // Windows every 2 s of recording time from 60 s to 180 s; arousal estimates after the 60 s baseline.
            int windows = names.Count(n => n == "window"), estimates = names.Count(n => n == "estimate");
            Assert.InRange(windows, 55, 62);
            Assert.InRange(estimates, 50, 58);
            // The later, more aroused half reads higher than the calm start (same patient, personalised baseline).
            var arousal = entries.EnumerateArray().Where(e => e.GetProperty("name").GetString() == "estimate")
                .Select(e => (T: e.GetProperty("sessionTime").GetDouble(), P: e.GetProperty("payload").GetProperty("probability").GetDouble())).ToList();
            Assert.True(arousal.Where(a => a.T > 150).Average(a => a.P) > arousal.Where(a => a.T < 85).Average(a => a.P));
            await using var db = s.Services.GetRequiredService<DbFactory>().Create();
            long stored = await Stored.SampleCountAsync(db, session.SessionId);
            Assert.Equal(rec.Channels.Sum(ch => (long)ch.Signal.Length), stored);
            var bad = await t.Http.PostAsync($"/api/sessions/{session.SessionId}/replay",
                new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(edf)), "file", "recording.edf" } });
            Assert.Equal(HttpStatusCode.Conflict, bad.StatusCode);
        }
        finally { File.Delete(edf); }
    }
}
