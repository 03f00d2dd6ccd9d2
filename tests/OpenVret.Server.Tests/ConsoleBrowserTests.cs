using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using OpenVret.Protocol;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>Runs only where Debian's Chromium is installed (`.ci/run` installs it); never downloads a browser.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Path = "/usr/bin/chromium";
    public ChromiumFactAttribute()
    {
        if (!File.Exists(Path)) Skip = $"Chromium not found at {Path} (`apt-get install -y chromium`; `.ci/run` does it)";
    }

    /// <summary>Debian's Chromium, headless with software WebGL; never a downloaded browser.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright pw) => pw.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Path,
        Headless = true,
        Args = new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run" },
    });
}

/// <summary>
/// The therapist console in a real headless Chromium against the real server, with a simulated sensor-and-VR
/// device streaming in real time: log in, watch the session, see the values change, approve a proposal and
/// see the scene change, reject one, emergency stop (scene paused, audited), end and open the report.
/// Screenshots of each step go to bin/.../console-screenshots.
/// </summary>
public class ConsoleBrowserTests
{
    [ChromiumFact]
    public async Task A_therapist_watches_and_steers_a_session_in_the_browser()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var pairing = await s.PairAsync(session.Code, DeviceRole.SensorAndVr);
        var commands = new ConcurrentQueue<SceneCommand>();
        var device = await s.DeviceConnectionAsync(pairing.DeviceToken);
        device.On<SceneCommand>(DeviceClientMethods.Command, c => commands.Enqueue(c));
        await device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "browser-test", SimDevice.Channels));
        var sim = new SimDevice();
        using var stop = new CancellationTokenSource();
        long eventSeq = 0;
        var streaming = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (await timer.WaitForNextTickAsync(stop.Token))
                await device.InvokeAsync<BatchAck[]>("SamplesMany", sim.Next().ToArray(), stop.Token);
        });
        async Task CalmTrial()
        {
            foreach (var (kind, value) in new[] { (ClientEventKind.Suds, 15.0), (ClientEventKind.ExpectancyBefore, 70.0), (ClientEventKind.OutcomeAfter, 5.0) })
                await device.InvokeAsync<EventAck>("Event", new ClientEvent(eventSeq++, sim.DeviceClock(sim.DataTime), kind, value, null, null));
        }

        var shots = Path.Combine(AppContext.BaseDirectory, "console-screenshots");
        Directory.CreateDirectory(shots);
        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        page.Dialog += async (_, d) => await d.AcceptAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add($"{m.Text} ({m.Location})"); };
        async Task Shot(string name) => await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, name + ".png"), FullPage = true });

        // Log in (the root redirects to the console).
        await page.GotoAsync(s.BaseUrl);
        await page.GetByLabel("User name").FillAsync(TestServer.AdminUser);
        await page.GetByLabel("Password").FillAsync(TestServer.AdminPassword);
        await Shot("01-login");
        await page.Keyboard.PressAsync("Enter");   // keyboard use
        await page.Locator($"tr[data-session-id='{session.SessionId}'] a.watch").ClickAsync();
        await Assertions.Expect(page.Locator("#live-phase")).ToHaveTextAsync("Baseline");
        await Shot("02-baseline");

        // Live values appear after the baseline window and change.
        await Assertions.Expect(page.Locator("#live-phase")).ToHaveTextAsync("Exposure", new() { Timeout = 90_000 });
        await Assertions.Expect(page.Locator("#live-hr")).Not.ToHaveTextAsync("–");
        string firstScl = await page.Locator("#live-scl").InnerTextAsync();
        string firstElapsed = await page.Locator("#live-elapsed").InnerTextAsync();
        await Assertions.Expect(page.Locator("#live-elapsed")).Not.ToHaveTextAsync(firstElapsed);
        await Assertions.Expect(page.Locator("#live-arousal")).Not.ToHaveTextAsync("–", new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#scene-params")).ToContainTextAsync("floor_height_m = 6");
        await Assertions.Expect(page.Locator("#chart canvas")).ToHaveCountAsync(1);
        await Shot("03-live");

        // A calm trial: a proposal card with its reasons. Reject it: nothing moves, the log says so.
        await CalmTrial();
        var card = page.Locator(".proposal-card").First;
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Assertions.Expect(card.Locator("li").First).ToBeVisibleAsync();
        await Shot("04-proposal");
        await card.Locator("button.reject").ClickAsync();
        await Assertions.Expect(page.Locator(".proposal-card")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("rejected by the therapist");
        await Assertions.Expect(page.Locator("#scene-params")).ToContainTextAsync("floor_height_m = 6");
        await Shot("05-rejected");

        // The next trial: approve; the scene changes in the console and on the VR client.
        await CalmTrial();
        card = page.Locator(".proposal-card").First;
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 10_000 });
        int before = commands.Count;
        await card.Locator("button.approve").ClickAsync();
        await Assertions.Expect(page.Locator("#scene-params")).ToContainTextAsync("floor_height_m = 15", new() { Timeout = 5_000 });
        var waitVr = DateTime.UtcNow.AddSeconds(3);
        while (!commands.Skip(before).Any(c => c.Kind == SceneCommandKind.SetScene) && DateTime.UtcNow < waitVr) await Task.Delay(50);
        Assert.Contains(commands.Skip(before), c => c.Kind == SceneCommandKind.SetScene && c.Parameters!["floor_height_m"] == 15);
        await Shot("06-approved");

        // Emergency stop: scene paused at once, audited.
        before = commands.Count;
        await page.Locator("#estop").ClickAsync();
        await Assertions.Expect(page.Locator("#live-phase")).ToHaveTextAsync("Paused");
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (!commands.Skip(before).Any(c => c.Kind == SceneCommandKind.Pause) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains(commands.Skip(before), c => c.Kind == SceneCommandKind.Pause);
        // The console's call returns once the stop is on the audit trail; the scene may hear of it a moment earlier.
        bool audited = false;
        for (var until = DateTime.UtcNow.AddSeconds(3); !audited && DateTime.UtcNow < until; await Task.Delay(100))
        {
            var audit = await t.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
            audited = audit.EnumerateArray().Any(a => a.GetProperty("action").GetString() == "emergency_stop" && a.GetProperty("sessionId").GetString() == session.SessionId);
        }
        Assert.True(audited, "emergency stop not on the audit trail");
        await Shot("07-emergency-stop");

        // End and report: summary, plots and the archive link.
        stop.Cancel();
        try { await streaming; } catch (OperationCanceledException) { }
        await page.Locator("#end-session").ClickAsync();
        await Assertions.Expect(page.Locator("#report-summary")).ToContainTextAsync("Applied");
        await Assertions.Expect(page.Locator("#report-png")).ToHaveJSPropertyAsync("complete", true);
        Assert.True(await page.Locator("#report-png").EvaluateAsync<int>("i => i.naturalWidth") > 500);
        await Assertions.Expect(page.Locator("#report-plan")).ToContainTextAsync("retrieval", new() { IgnoreCase = true });
        // The report prints to PDF (what the "Print or save as PDF" button gives the therapist).
        var pdf = await page.PdfAsync();
        Assert.True(pdf.Length > 10_000 && System.Text.Encoding.ASCII.GetString(pdf, 0, 5) == "%PDF-");
        await Shot("08-report");
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
        await device.DisposeAsync();
    }

    [ChromiumFact]
    public async Task Patients_hierarchies_and_rules_are_validated_in_the_browser()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        await s.CreateSessionAsync(t, start: false, patientId: "P-first");
        var shots = Path.Combine(AppContext.BaseDirectory, "console-screenshots");
        Directory.CreateDirectory(shots);
        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        // A tablet in portrait.
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 768, Height = 1024 } });
        await page.GotoAsync(s.BaseUrl + "/console/");
        await page.GetByLabel("User name").FillAsync(TestServer.AdminUser);
        await page.GetByLabel("Password").FillAsync(TestServer.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#patients")).ToContainTextAsync("P-first");

        // A hierarchy with an unknown scenario: the engine's error names the field.
        var hierarchy = page.GetByLabel("Hierarchy (steps from least to most feared; scenario parameters follow the scenario schema)");
        string good = await hierarchy.InputValueAsync();
        await page.GetByLabel("Pseudonym (never a name or record number)").FillAsync("P-second");
        await hierarchy.FillAsync(good.Replace("\"heights\"", "\"sharks\""));
        await page.GetByRole(AriaRole.Button, new() { Name = "Save patient" }).ClickAsync();
        await Assertions.Expect(page.Locator("#np-error")).ToContainTextAsync("sharks");
        await hierarchy.FillAsync(good);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save patient" }).ClickAsync();
        await Assertions.Expect(page.Locator("#patients")).ToContainTextAsync("P-second");

        // The rule file: the shipped rules check as valid; a broken one gives the engine's error with its line.
        await page.Locator("#ns-rules-box summary").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Check rules" }).ClickAsync();
        await Assertions.Expect(page.Locator("#ns-rules-result")).ToContainTextAsync("Valid");
        var rules = page.GetByLabel("Rule file (JSON with comments)");
        string text = await rules.InputValueAsync();
        int at = text.IndexOf("\"then\"", StringComparison.Ordinal);
        Assert.True(at > 0);
        int valueStart = text.IndexOf('"', text.IndexOf(':', at) + 1);
        int valueEnd = text.IndexOf('"', valueStart + 1);
        await rules.FillAsync(text[..(valueStart + 1)] + "jump_off" + text[valueEnd..]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Check rules" }).ClickAsync();
        await Assertions.Expect(page.Locator("#ns-rules-result")).ToContainTextAsync("jump_off");
        await Assertions.Expect(page.Locator("#ns-rules-result")).ToContainTextAsync("line");
        // A session cannot be created with it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create session" }).ClickAsync();
        await Assertions.Expect(page.Locator("#ns-error")).ToContainTextAsync("jump_off");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "10-tablet-home.png"), FullPage = true });
    }

    [ChromiumFact]
    public async Task A_device_whose_sensors_are_lost_can_be_removed_from_the_console()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var pairing = await s.PairAsync(session.Code, DeviceRole.Sensor);
        var device = await s.DeviceConnectionAsync(pairing.DeviceToken);
        await device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "browser-test", SimDevice.Channels));
        var sim = new SimDevice();
        for (int i = 0; i < 10; i++) await device.InvokeAsync<BatchAck[]>("SamplesMany", sim.Next().ToArray());   // then it goes silent

        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        page.Dialog += async (_, d) => await d.AcceptAsync();
        await page.GotoAsync(s.BaseUrl);
        await page.GetByLabel("User name").FillAsync(TestServer.AdminUser);
        await page.GetByLabel("Password").FillAsync(TestServer.AdminPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.Locator($"tr[data-session-id='{session.SessionId}'] a.watch").ClickAsync();
        await Assertions.Expect(page.Locator("#sensors .sensor-Lost")).ToHaveCountAsync(SimDevice.Channels.Length, new() { Timeout = 15_000 });
        var remove = page.Locator("#sensors button.remove-device");
        await Assertions.Expect(remove).ToHaveTextAsync($"Remove {pairing.DeviceId}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "console-screenshots", "11-lost-device.png") });
        await remove.ClickAsync();
        await Assertions.Expect(page.Locator("#sensors .badge")).ToHaveCountAsync(0);
        await Assertions.Expect(remove).ToHaveCountAsync(0);
        // The device is out: what it sends now is refused, naming why.
        var acks = await device.InvokeAsync<BatchAck[]>("SamplesMany", sim.Next().ToArray());
        Assert.All(acks, a => Assert.Equal(BatchStatus.Rejected, a.Status));
        Assert.Contains("removed", acks[0].Error);
        await device.DisposeAsync();
    }

    [ChromiumFact]
    public async Task The_demo_is_live_in_the_console_with_the_printed_credentials()
    {
        await using var s = await TestServer.StartAsync(settings: new()
        {
            ["OpenVret:Demo"] = "true", ["OpenVret:DemoPassword"] = "quiet-harbour-lantern-7", ["OpenVret:AdminUser"] = null, ["OpenVret:AdminPassword"] = null,
        });
        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        await page.GotoAsync(s.BaseUrl);
        await page.GetByLabel("User name").FillAsync("demo");
        await page.GetByLabel("Password").FillAsync("quiet-harbour-lantern-7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.Locator("a.watch").First.ClickAsync(new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#live-phase")).ToHaveTextAsync("Baseline");
        await Assertions.Expect(page.Locator("#sensors .sensor-Good")).ToHaveCountAsync(5);
        string first = await page.Locator("#live-baseline").InnerTextAsync();
        await Assertions.Expect(page.Locator("#live-baseline")).Not.ToHaveTextAsync(first, new() { Timeout = 5_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "console-screenshots", "09-demo.png") });
    }
}
