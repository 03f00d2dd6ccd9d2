using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Sessions;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// Safety under faults (docs/security.md, "Safety under faults"): the console's emergency stop is confirmed or loudly
/// not delivered and retried; the console reconnects forever and shows stale data as stale; a session resumed after a
/// restart shows the headset the calm scene until the therapist releases the hold; a headset that disconnects during
/// exposure alerts the therapist and pauses the session.
/// </summary>
public class SafetyUnderFaultsTests
{
    // ------------------------------------------------------------------------------------------------ helpers

    /// <summary>
    /// Puts a running session in the exposure phase the quick way: its record gets a calibrated baseline (as the actor
    /// stores it at the end of the baseline), then the server restarts and resumes it from the store (on a safety hold).
    /// </summary>
    private static async Task ResumeInExposureAsync(TestServer s, string sessionId)
    {
        var db = s.Services.GetRequiredService<DbFactory>();
        await using (var ctx = db.Create())
        {
            var record = await ctx.Sessions.FindAsync(sessionId);
            record!.BaselineJson = JsonSerializer.Serialize(PipelineTests.Model.Features.ToDictionary(f => f, _ => 0.0));
            await ctx.SaveChangesAsync();
        }
        await s.RestartAsync();
    }

    private static async Task<JsonElement> LiveAsync(TestServer.Therapist t, string sessionId) =>
        (await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{sessionId}")).GetProperty("live");

    private static async Task Until(Func<bool> condition, double seconds, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); !condition(); await Task.Delay(50))
            if (DateTime.UtcNow > deadline) Assert.Fail($"not within {seconds} s: {what}");
    }

    // ------------------------------------------------------------------------------------------------ 17: calm scene on resume

    [Fact]
    public void A_resumed_session_shows_the_calm_scene_until_the_therapist_releases_the_hold()
    {
        var baseline = PipelineTests.Model.Features.ToDictionary(f => f, _ => 0.0);
        var setup = new SessionSetup("S-test", PipelineTests.Patient, "inhibitory", EngineMode.SupervisedAuto, 1, 64, ResumeItemId: "h3", HighestItemId: "h3", Baseline: baseline, ResumeAtSeconds: 600);
        var run = new PipelineTests.Run(setup: setup);
        Assert.True(run.Pipeline.Engine.HoldActive);
        Assert.Equal(SceneCommandKind.CalmScene, run.Scene.Single().Kind);
        // A headset that says hello now (no console anywhere) is given the calm scene, not the feared step.
        var ack = run.Pipeline.DeclareDevice("VR", [], -1, new Dictionary<string, long>(), run.New(), showsScene: true);
        Assert.Equal(SceneCommandKind.CalmScene, ack.CurrentScene!.Kind);
        Assert.True(run.Pipeline.View().ScenePaused);

        // The therapist releases the hold: the step the session was on comes back.
        int before = run.Scene.Count();
        run.Pipeline.Execute(new TherapistCommand(TherapistCommandKind.ReleaseHold, "user:1", Why: "checked the patient"), run.New());
        var scene = run.Scene.Skip(before).Single();
        Assert.Equal(SceneCommandKind.SetScene, scene.Kind);
        Assert.Equal(1, scene.Parameters!["look_down_prompt"]);
        Assert.Equal(SceneCommandKind.SetScene, run.Pipeline.DeclareDevice("VR", [], -1, new Dictionary<string, long>(), run.New(), showsScene: true).CurrentScene!.Kind);
        Assert.False(run.Pipeline.View().ScenePaused);
    }

    [Fact]
    public async Task After_a_restart_a_headset_gets_the_calm_scene_with_no_console_until_the_therapist_releases_the_hold()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var vr = await s.PairAsync(session.Code, DeviceRole.VrClient);
        // The therapist had the patient on the 12th floor without a railing (h4) when the server went down.
        var console = await s.ConsoleConnectionAsync(t);
        await console.InvokeAsync<object>("Watch", session.SessionId);
        await console.InvokeAsync("Override", session.SessionId, "h4", null, null, "test");
        await console.DisposeAsync();
        await ResumeInExposureAsync(s, session.SessionId);

        // The headset reconnects while no console is connected: the calm scene, on hold.
        var headset = await s.DeviceConnectionAsync(vr.DeviceToken);
        var commands = new ConcurrentQueue<SceneCommand>();
        headset.On<SceneCommand>(DeviceClientMethods.Command, c => commands.Enqueue(c));
        var ack = await headset.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", []));
        Assert.Equal(SceneCommandKind.CalmScene, ack.CurrentScene!.Kind);
        var live = await LiveAsync(t, session.SessionId);
        Assert.True(live.GetProperty("holdActive").GetBoolean());
        Assert.Equal("h4", live.GetProperty("currentItemId").GetString());

        // The therapist connects and releases the hold: the headset receives the step again.
        console = await s.ConsoleConnectionAsync(t);
        await console.InvokeAsync<object>("Watch", session.SessionId);
        Assert.Empty(commands.Where(c => c.Kind == SceneCommandKind.SetScene));
        await console.InvokeAsync("ReleaseHold", session.SessionId, "checked the patient");
        await Until(() => commands.Any(c => c.Kind == SceneCommandKind.SetScene), 5, "the headset receives the scene after the hold is released");
        Assert.Equal(36, commands.Single(c => c.Kind == SceneCommandKind.SetScene).Parameters!["floor_height_m"]);
        await headset.DisposeAsync();
        await console.DisposeAsync();
    }

    // ------------------------------------------------------------------------------------------------ 18: headset loss

    [Fact]
    public void A_headset_lost_during_exposure_alerts_and_pauses_and_nothing_is_proposed_until_the_therapist_resumes()
    {
        var run = new PipelineTests.Run();
        run.Stream(68);
        Assert.Equal(SessionPhase.Exposure, run.Pipeline.Phase);
        run.Pipeline.DeclareDevice("VR", [], -1, new Dictionary<string, long>(), run.New(), showsScene: true);

        run.Pipeline.DeviceDisconnected("VR", run.New());
        Assert.Contains(run.Alerts, a => a.Kind == "headset_lost" && a.Critical);
        Assert.True(run.Pipeline.Engine.HoldActive);
        Assert.Equal(SessionPhase.Paused, run.Pipeline.View().Phase);
        Assert.Contains(run.Audit, a => a.Action == "alert_headset_lost");

        // The patient sees nothing: calm trials and data produce no proposal.
        int events = run.Events.Count();
        run.Stream(20);
        run.CalmTrial();
        run.Stream(10);
        Assert.DoesNotContain(run.Events.Skip(events), e => e.Kind == "proposed");
        Assert.Empty(run.Pipeline.View().Pending);

        // The headset comes back: it is told the session is paused; the therapist resumes.
        var ack = run.Pipeline.DeclareDevice("VR", [], -1, new Dictionary<string, long>(), run.New(), showsScene: true);
        Assert.Equal(SessionPhase.Paused, ack.Phase);
        Assert.Contains(run.Entries, e => e.Name == "headset_restored");
        int scene = run.Scene.Count();
        run.Pipeline.Execute(new TherapistCommand(TherapistCommandKind.Resume, "user:1", Why: "headset back on"), run.New());
        Assert.Contains(run.Scene.Skip(scene), c => c.Kind == SceneCommandKind.Resume);
        Assert.Equal(SessionPhase.Exposure, run.Pipeline.View().Phase);
    }

    [Fact]
    public void A_sensor_only_device_that_disconnects_does_not_pause_the_session()
    {
        var run = new PipelineTests.Run();
        run.Stream(68);
        run.Pipeline.DeviceDisconnected("D1", run.New());
        Assert.DoesNotContain(run.Alerts, a => a.Kind == "headset_lost");
        Assert.Equal(SessionPhase.Exposure, run.Pipeline.View().Phase);
    }

    [Fact]
    public async Task A_headset_that_disconnects_during_exposure_raises_an_alert_and_holds_the_session()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var vr = await s.PairAsync(session.Code, DeviceRole.VrClient);
        await ResumeInExposureAsync(s, session.SessionId);
        var console = await s.ConsoleConnectionAsync(t);
        var alerts = new ConcurrentQueue<JsonElement>();
        console.On<JsonElement>(Api.ConsoleClientMethods.Alert, a => alerts.Enqueue(a));
        await console.InvokeAsync<object>("Watch", session.SessionId);
        await console.InvokeAsync("ReleaseHold", session.SessionId, "checked the patient");

        var headset = await s.DeviceConnectionAsync(vr.DeviceToken);
        var ack = await headset.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", []));
        Assert.Equal(SessionPhase.Exposure, ack.Phase);
        Assert.False((await LiveAsync(t, session.SessionId)).GetProperty("holdActive").GetBoolean());

        // The patient takes the headset off (the page closes): the therapist is alerted and the session holds.
        await headset.DisposeAsync();
        await Until(() => alerts.Any(a => a.GetProperty("kind").GetString() == "headset_lost" && a.GetProperty("critical").GetBoolean()), 10, "a critical headset_lost alert");
        var live = await LiveAsync(t, session.SessionId);
        Assert.True(live.GetProperty("holdActive").GetBoolean());
        Assert.Equal("Paused", live.GetProperty("phase").GetString());

        // It comes back: paused until the therapist resumes, then the scene resumes.
        var again = await s.DeviceConnectionAsync(vr.DeviceToken);
        var commands = new ConcurrentQueue<SceneCommand>();
        again.On<SceneCommand>(DeviceClientMethods.Command, c => commands.Enqueue(c));
        Assert.Equal(SessionPhase.Paused, (await again.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test", []))).Phase);
        await console.InvokeAsync("Resume", session.SessionId, "headset back on");
        await Until(() => commands.Any(c => c.Kind == SceneCommandKind.Resume), 5, "the headset is told to resume");
        Assert.Equal("Exposure", (await LiveAsync(t, session.SessionId)).GetProperty("phase").GetString());

        // A server shutdown (a restart, or a cluster node drained) drops the headset's connection without the headset
        // going away: that is not a headset loss (the restart has its own alert and hold).
        await s.RestartAsync();
        var recorded = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=alert");
        Assert.Single(recorded.EnumerateArray(), e => e.GetProperty("name").GetString() == "headset_lost");
        await again.DisposeAsync();
        await console.DisposeAsync();
    }

    [ChromiumFact]
    public async Task The_vr_page_shows_the_calm_scene_after_a_restart_and_closing_it_mid_exposure_alerts_the_therapist()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var console = await s.ConsoleConnectionAsync(t);
        await console.InvokeAsync<object>("Watch", session.SessionId);

        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        await page.GotoAsync(s.BaseUrl + "/vr");
        await page.GetByLabel("Pairing code (from the therapist)").FillAsync(session.Code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Join the session" }).ClickAsync();
        await page.WaitForFunctionAsync("() => window.openvretScene.connected");
        await console.InvokeAsync("Override", session.SessionId, "h4", null, null, "test");
        await page.WaitForFunctionAsync("() => !window.openvretScene.calm && window.openvretScene.stimulusVisible && window.openvretScene.params.floor_height_m === 36");
        await console.DisposeAsync();

        // The server restarts with the session in exposure; the page reconnects with no console anywhere: calm scene.
        await ResumeInExposureAsync(s, session.SessionId);
        await page.WaitForFunctionAsync("() => window.openvretScene.connected && window.openvretScene.reconnects > 0", null, new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.openvretScene.calm && !window.openvretScene.stimulusVisible"), "the feared scene is shown after the restart");

        // The therapist releases the hold: the step is back in the headset.
        console = await s.ConsoleConnectionAsync(t);
        var alerts = new ConcurrentQueue<JsonElement>();
        console.On<JsonElement>(Api.ConsoleClientMethods.Alert, a => alerts.Enqueue(a));
        await console.InvokeAsync<object>("Watch", session.SessionId);
        await console.InvokeAsync("ReleaseHold", session.SessionId, "checked the patient");
        await page.WaitForFunctionAsync("() => !window.openvretScene.calm && window.openvretScene.stimulusVisible && window.openvretScene.params.floor_height_m === 36");

        // The page is closed mid-exposure: the therapist is alerted and the session is paused.
        await page.CloseAsync();
        await Until(() => alerts.Any(a => a.GetProperty("kind").GetString() == "headset_lost"), 10, "a headset_lost alert");
        Assert.Equal("Paused", (await LiveAsync(t, session.SessionId)).GetProperty("phase").GetString());
        await console.DisposeAsync();
    }

    // ------------------------------------------------------------------------------------------------ 15 + 16: the console under a lost server

    [ChromiumFact]
    public async Task The_console_reconnects_forever_marks_stale_data_and_delivers_the_emergency_stop_when_the_server_is_back()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        await ResumeInExposureAsync(s, session.SessionId);

        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        var shots = Path.Combine(AppContext.BaseDirectory, "console-screenshots");
        Directory.CreateDirectory(shots);
        await page.GotoAsync(s.BaseUrl);
        await page.GetByLabel("User name").FillAsync(TestServer.AdminUser);
        await page.GetByLabel("Password").FillAsync(TestServer.AdminPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.Locator($"tr[data-session-id='{session.SessionId}'] a.watch").ClickAsync();
        await Assertions.Expect(page.Locator("#live-phase")).ToHaveTextAsync("Exposure");
        await Assertions.Expect(page.Locator("#conn-banner")).ToBeHiddenAsync();
        // The console acknowledges the restart alert, so the one after the next restart is a new one to resynchronise.
        await page.Locator("#alerts [data-kind='server_restart'] button.ack").ClickAsync();
        await Assertions.Expect(page.Locator("#alerts [data-kind='server_restart']")).ToHaveCountAsync(0);

        // The server goes down: the live view says it is stale, and how old it is.
        await s.StopAsync();
        await Assertions.Expect(page.Locator("#conn-banner")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#conn-banner")).ToContainTextAsync("STALE");
        await Assertions.Expect(page.Locator("#view-live")).ToHaveClassAsync(new Regex(@"\bstale\b"));
        await Assertions.Expect(page.Locator("#conn-age")).Not.ToHaveTextAsync(new Regex(@"^[01]$"), new() { Timeout = 10_000 });

        // The emergency stop cannot be delivered: it says so, loudly, and keeps trying.
        await page.Locator("#estop").ClickAsync();
        await Assertions.Expect(page.Locator("#estop-status")).ToContainTextAsync("NOT DELIVERED - connection lost");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "12-not-delivered.png") });
        // It keeps reconnecting past the 6 attempts after which the console used to give up.
        await page.WaitForFunctionAsync("() => window.openvretConsole.attempts > 6", null, new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#estop-status")).ToContainTextAsync("NOT DELIVERED");

        // The server is back: the console reconnects, the stop is delivered and confirmed, the session is paused on the server.
        await s.StartAgainAsync();
        await Assertions.Expect(page.Locator("#conn-banner")).ToBeHiddenAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#estop-status")).ToContainTextAsync("confirmed by the server", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#view-live")).Not.ToHaveClassAsync(new Regex(@"\bstale\b"));
        await Assertions.Expect(page.Locator("#live-phase")).ToHaveTextAsync("Paused");
        var live = await LiveAsync(t, session.SessionId);
        Assert.Equal("Paused", live.GetProperty("phase").GetString());
        Assert.True(live.GetProperty("stopped").GetBoolean());
        // Resynchronised: the alert the restarted server raised while no console was connected is shown.
        await Assertions.Expect(page.Locator("#alerts [data-kind='server_restart']")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "13-delivered-after-reconnect.png") });
    }
}
