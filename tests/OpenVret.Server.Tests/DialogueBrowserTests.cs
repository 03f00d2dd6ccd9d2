using Microsoft.Playwright;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// A virtual human end to end in two real browser pages: the therapist starts the interviewer in the console;
/// the VR scene shows and speaks its lines; the patient types answers; a crisis statement stops the exposure,
/// the scene shows the safety script and the console a critical alert and a flagged transcript line.
/// Screenshots go to bin/.../dialogue-screenshots.
/// </summary>
public class DialogueBrowserTests
{
    [ChromiumFact]
    public async Task The_therapist_runs_a_virtual_human_and_a_crisis_statement_reaches_the_console()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var shots = Path.Combine(AppContext.BaseDirectory, "dialogue-screenshots");
        Directory.CreateDirectory(shots);
        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var errors = new List<string>();
        var consolePage = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var vr = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        foreach (var p in new[] { consolePage, vr })
        {
            p.Console += (_, m) => { if (m.Type == "error") errors.Add($"{m.Text} ({m.Location})"); };
            p.PageError += (_, e) => errors.Add(e);
        }

        // The therapist watches the session in the console.
        await consolePage.GotoAsync(s.BaseUrl);
        await consolePage.GetByLabel("User name").FillAsync(TestServer.AdminUser);
        await consolePage.GetByLabel("Password").FillAsync(TestServer.AdminPassword);
        await consolePage.Keyboard.PressAsync("Enter");
        await consolePage.Locator($"tr[data-session-id='{session.SessionId}'] a.watch").ClickAsync();
        await Assertions.Expect(consolePage.Locator("#live-phase")).ToHaveTextAsync("Baseline");

        // The headset joins.
        await vr.GotoAsync(s.BaseUrl + "/vr");
        await vr.GetByLabel("Pairing code (from the therapist)").FillAsync(session.Code);
        await vr.GetByRole(AriaRole.Button, new() { Name = "Join the session" }).ClickAsync();
        await vr.WaitForFunctionAsync("() => window.openvretScene.connected");

        // Start the interviewer; the scene shows the AI disclosure, then the first question.
        await consolePage.GetByLabel("Persona").SelectOptionAsync("interviewer");
        await consolePage.GetByRole(AriaRole.Button, new() { Name = "Start the virtual human" }).ClickAsync();
        // Starting the agent waits for the hub's answer: allow for a loaded 2-core machine (the 5 s default failed under load).
        await Assertions.Expect(consolePage.Locator("#ag-name")).ToHaveTextAsync("Ms. Jansen", new() { Timeout = 30_000 });
        await vr.WaitForFunctionAsync("() => window.openvretScene.agentLines >= 2");
        await Assertions.Expect(vr.Locator("#agent")).ToContainTextAsync("Ms. Jansen");
        await Assertions.Expect(consolePage.Locator("#transcript")).ToContainTextAsync("AI character");
        await vr.ScreenshotAsync(new() { Path = Path.Combine(shots, "01-vr-question.png") });

        // The therapist fixes the intensity dial (audited), then hands it back to the exposure engine.
        await consolePage.Locator("#ag-dial").FillAsync("0.9");
        await consolePage.GetByRole(AriaRole.Button, new() { Name = "Fix intensity" }).ClickAsync();
        await Assertions.Expect(consolePage.Locator("#ag-follow")).ToHaveTextAsync("fixed");
        await Assertions.Expect(consolePage.Locator("#ag-intensity")).ToHaveTextAsync("0.90");
        await consolePage.GetByRole(AriaRole.Button, new() { Name = "Follow the exposure" }).ClickAsync();
        await Assertions.Expect(consolePage.Locator("#ag-follow")).ToHaveTextAsync("follows the exposure");

        // The patient types an answer; the agent follows up on "university".
        await vr.GetByLabel("Answer (type, or use the microphone)").FillAsync("I studied chemistry at university");
        await vr.GetByRole(AriaRole.Button, new() { Name = "Say it" }).ClickAsync();
        await Assertions.Expect(vr.Locator("#agent")).ToContainTextAsync("prepare you", new() { Timeout = 10_000 });
        await Assertions.Expect(consolePage.Locator("#transcript")).ToContainTextAsync("I studied chemistry at university");
        await consolePage.ScreenshotAsync(new() { Path = Path.Combine(shots, "02-console-transcript.png"), FullPage = true });

        // A crisis statement, misspelt: the safety script in VR, a critical alert and a flagged line in the console.
        await vr.GetByLabel("Answer (type, or use the microphone)").FillAsync("tbh i just want to kil myself");
        await vr.GetByRole(AriaRole.Button, new() { Name = "Say it" }).ClickAsync();
        await Assertions.Expect(vr.Locator("#agent")).ToContainTextAsync("therapist is being called", new() { Timeout = 10_000 });
        await vr.WaitForFunctionAsync("() => window.openvretScene.paused");
        var alert = consolePage.Locator("#alerts [data-kind='crisis']");
        await Assertions.Expect(alert).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Assertions.Expect(alert).ToContainTextAsync("kil myself");
        await Assertions.Expect(consolePage.Locator("#transcript .flag")).ToContainTextAsync("suicidal ideation");
        await Assertions.Expect(consolePage.Locator("#ag-state")).ToHaveTextAsync("SafetyHold");
        await consolePage.ScreenshotAsync(new() { Path = Path.Combine(shots, "03-console-crisis.png"), FullPage = true });
        await vr.ScreenshotAsync(new() { Path = Path.Combine(shots, "04-vr-safety-script.png") });

        // The therapist lets the agent continue.
        await consolePage.GetByRole(AriaRole.Button, new() { Name = "Let the agent continue" }).ClickAsync();
        await Assertions.Expect(consolePage.Locator("#ag-state")).ToHaveTextAsync("Talking");
        Assert.Empty(errors);
    }
}
