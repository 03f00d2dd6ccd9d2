using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using OpenVret.Protocol;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// The whole loop in real time on a real server: a sensor-and-VR device streams a simulated patient, the console
/// watches; after the baseline the scene starts, a calm trial makes the engine propose, the therapist approves
/// on the console hub, the VR client receives the new scene; the emergency stop pauses it; the device vanishing
/// alerts the console. About 70 s (the baseline needs 60 s of data).
/// </summary>
public class LiveLoopTests
{
    [Fact]
    public async Task Sensor_to_scene_with_the_therapist_in_charge()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var pairing = await s.PairAsync(session.Code, DeviceRole.SensorAndVr);

        var commands = new ConcurrentQueue<SceneCommand>();
        var device = await s.DeviceConnectionAsync(pairing.DeviceToken);
        device.On<SceneCommand>(DeviceClientMethods.Command, c => commands.Enqueue(c));
        var hello = await device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "live-test", SimDevice.Channels));
        // The VR client joined after the session started: the hello tells it the scene to show now.
        Assert.Equal(SceneCommandKind.CalmScene, hello.CurrentScene!.Kind);
        Assert.Equal(SessionPhase.Baseline, hello.Phase);

        var live = new ConcurrentQueue<(DateTime At, JsonElement View)>();
        var events = new ConcurrentQueue<JsonElement>();
        var alerts = new ConcurrentQueue<JsonElement>();
        var console = await s.ConsoleConnectionAsync(t);
        console.On<JsonElement>("Live", v => live.Enqueue((DateTime.UtcNow, v)));
        console.On<JsonElement>("EngineEvent", e => events.Enqueue(e));
        console.On<JsonElement>("Alert", a => alerts.Enqueue(a));
        var watch = await console.InvokeAsync<JsonElement>("Watch", session.SessionId);
        Assert.Equal("Baseline", watch.GetProperty("view").GetProperty("phase").GetString());

        var sim = new SimDevice();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        long eventSeq = 0;
        async Task StreamUntil(Func<bool> done, double maxSeconds)
        {
            var until = clock.Elapsed.TotalSeconds + maxSeconds;
            while (!done() && clock.Elapsed.TotalSeconds < until)
            {
                await timer.WaitForNextTickAsync();
                foreach (var b in sim.Next()) Assert.Equal(BatchStatus.Accepted, (await device.InvokeAsync<BatchAck>("Samples", b)).Status);
            }
            Assert.True(done(), $"condition not met within {maxSeconds} s");
        }
        Task<EventAck> Rate(ClientEventKind kind, double value) =>
            device.InvokeAsync<EventAck>("Event", new ClientEvent(eventSeq++, sim.DeviceClock(sim.DataTime), kind, value, null, null));

        await StreamUntil(() => commands.Any(c => c.Kind == SceneCommandKind.SetScene), 80);
        var first = commands.First(c => c.Kind == SceneCommandKind.SetScene);
        Assert.Equal("heights", first.ScenarioId);
        Assert.Equal(6, first.Parameters!["floor_height_m"]);

        // The console is refreshed at least 4 times per second.
        var recent = live.Where(l => l.At > DateTime.UtcNow.AddSeconds(-10)).Count();
        Assert.True(recent >= 40, $"{recent} live updates in the last 10 s");
        var view = live.Last().View;
        Assert.Equal("Exposure", view.GetProperty("phase").GetString());
        Assert.True(view.GetProperty("heartRateBpm").GetDouble() is > 40 and < 120);

        // A calm trial: the engine proposes; nothing moves until the therapist approves.
        Assert.Equal(BatchStatus.Accepted, (await Rate(ClientEventKind.Suds, 15)).Status);
        Assert.Equal(BatchStatus.Accepted, (await Rate(ClientEventKind.ExpectancyBefore, 70)).Status);
        double trialStart = sim.DataTime;
        await StreamUntil(() => sim.DataTime >= trialStart + 1, 3);
        Assert.Equal(BatchStatus.Accepted, (await Rate(ClientEventKind.OutcomeAfter, 5)).Status);
        JsonElement Pending() => events.FirstOrDefault(e => e.GetProperty("kind").GetString() == "proposed" && e.GetProperty("status").GetString() == "Pending");
        await StreamUntil(() => Pending().ValueKind == JsonValueKind.Object, 5);
        var proposal = Pending().GetProperty("proposal");
        Assert.NotEmpty(proposal.GetProperty("reasons").EnumerateArray());
        int before = commands.Count;
        await console.InvokeAsync("Approve", session.SessionId, proposal.GetProperty("id").GetString(), null);
        await StreamUntil(() => commands.Count > before, 3);
        var moved = commands.Last();
        Assert.Equal(SceneCommandKind.SetScene, moved.Kind);
        Assert.Equal(proposal.GetProperty("parameters").GetProperty("floor_height_m").GetDouble(), moved.Parameters!["floor_height_m"]);

        // Bad input from the console gets a clear error naming the value.
        var err = await Assert.ThrowsAsync<HubException>(() => console.InvokeAsync("Approve", session.SessionId, "p999", null));
        Assert.Contains("p999", err.Message);

        // Emergency stop: the scene pauses at once.
        before = commands.Count;
        await console.InvokeAsync("EmergencyStop", session.SessionId, "test");
        await StreamUntil(() => commands.Count > before, 2);
        Assert.Equal(SceneCommandKind.Pause, commands.Last().Kind);

        // The device vanishes: the console is alerted.
        await device.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(SessionPipelineLostAfter + 15); // generous under load: the loop ends as soon as the alert arrives
        while (!alerts.Any(a => a.GetProperty("kind").GetString() == "sensor_lost") && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains(alerts, a => a.GetProperty("kind").GetString() == "device_disconnected");
        Assert.Contains(alerts, a => a.GetProperty("kind").GetString() == "sensor_lost" && a.GetProperty("critical").GetBoolean());

        // Everything is on record.
        var decisions = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=decision");
        Assert.Contains(decisions.EnumerateArray(), e => e.GetProperty("name").GetString() == "applied");
        var audit = await t.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        var actions = audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToHashSet();
        foreach (var a in new[] { "approve", "emergency_stop", "proposed", "applied", "sensor_lost", "baseline_calibrated" }) Assert.Contains(a, actions);

        // The session-level outcome dataset: the therapist's assessment plus what this session recorded.
        var patientId = (await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}")).GetProperty("patientId").GetString();
        var badAge = await t.Http.PutAsJsonAsync($"/api/patients/{patientId}/assessment", new { age = 300 });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badAge.StatusCode);
        (await t.Http.PutAsJsonAsync($"/api/patients/{patientId}/assessment", new { age = 34, sex = "F", baselineSeverity = 70, followUpSeverity = 30 })).EnsureSuccessStatusCode();
        (await t.Http.PostAsync($"/api/sessions/{session.SessionId}/end", null)).EnsureSuccessStatusCode();
        var csv = await t.Http.GetStringAsync("/api/outcome-dataset?site=test");
        var rows = OpenVret.Learning.Outcome.OutcomeSchema.Read(new StringReader(csv), "site", "export");
        var row = Assert.Single(rows, r => r.Patient == patientId);
        Assert.Equal(70, row.Numeric["baseline_severity"]);
        Assert.Equal("f", row.Categorical["sex"]);
        Assert.Equal(1, row.Outcomes["responder"]);
        Assert.InRange(row.Numeric["s1_hr_baseline_bpm"], 40, 120);
        Assert.Equal(15, row.Numeric["s1_suds_peak"]);
        Assert.Equal(70, row.Numeric["s1_expectancy_first"]);
        Assert.Equal(65, row.Numeric["s1_violation_mean"]);
        Assert.Equal(1, row.Numeric["s1_trials"]);
        Assert.True(row.Numeric["s1_exposure_minutes"] > 0);
        audit = await t.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        Assert.Contains(audit.EnumerateArray(), x => x.GetProperty("action").GetString() == "data_export");
        await console.DisposeAsync();
    }

    private const double SessionPipelineLostAfter = Sessions.SessionPipeline.LostAfterSeconds;
}
