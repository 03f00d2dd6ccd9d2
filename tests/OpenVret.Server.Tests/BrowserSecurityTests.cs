using Microsoft.Playwright;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// The console and the VR scene under the server's Content-Security-Policy (no inline script, same-origin only) in
/// headless Chromium: log in, watch a live session (uPlot chart, SignalR over WebSocket), open the pairing QR code, pair
/// the scene and render it (three.js, WebXR button), with no CSP violation and no console error.
/// </summary>
public class BrowserSecurityTests
{
    [ChromiumFact]
    public async Task The_console_and_the_scene_work_under_the_content_security_policy()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var unpaired = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60, start: false);

        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var errors = new List<string>();
        var console = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var vr = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        var violations = new List<List<string>>();
        foreach (var p in new[] { console, vr })
        {
            violations.Add(await CspWatch.AttachAsync(p));
            p.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add($"{m.Text} ({m.Location})"); };
            p.PageError += (_, e) => { lock (errors) errors.Add(e); };
        }

        var response = await console.GotoAsync(s.BaseUrl + "/console/");
        var csp = await response!.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self'", csp);
        await console.GetByLabel("User name").FillAsync(TestServer.AdminUser);
        await console.GetByLabel("Password").FillAsync(TestServer.AdminPassword);
        await console.Keyboard.PressAsync("Enter");
        await console.Locator($"tr[data-session-id='{session.SessionId}'] a.watch").ClickAsync();
        await Assertions.Expect(console.Locator("#live-phase")).ToHaveTextAsync("Baseline");
        await console.WaitForFunctionAsync("() => document.querySelector('#chart canvas') !== null");
        // The pairing QR code (an SVG from the API) shown as the console shows it.
        await console.EvaluateAsync($"() => {{ const i = new Image(); i.id = 'qr-test'; i.src = '/api/pairing-qr?code={unpaired.Code}'; document.body.append(i); }}");
        await console.WaitForFunctionAsync("() => document.querySelector('#qr-test').complete && document.querySelector('#qr-test').naturalWidth > 0");

        response = await vr.GotoAsync(s.BaseUrl + "/vr/");
        Assert.Contains("script-src 'self'", await response!.HeaderValueAsync("content-security-policy"));
        await vr.GetByLabel("Pairing code (from the therapist)").FillAsync(session.Code);
        await vr.GetByRole(AriaRole.Button, new() { Name = "Join the session" }).ClickAsync();
        await vr.WaitForFunctionAsync("() => window.openvretScene && window.openvretScene.connected && window.openvretScene.frames > 5");

        var all = violations.SelectMany(v => v).ToList();
        Assert.True(all.Count == 0, "CSP violations:\n" + string.Join("\n", all));
        Assert.True(errors.Count == 0, "console errors:\n" + string.Join("\n", errors));
    }
}
