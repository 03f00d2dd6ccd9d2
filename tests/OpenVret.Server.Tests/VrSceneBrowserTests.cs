using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>The WebXR scene page in headless Chromium (software WebGL): pair by code, follow the therapist's commands, send a SUDS rating.</summary>
public class VrSceneBrowserTests
{
    [ChromiumFact]
    public async Task The_scene_pairs_follows_commands_and_sends_ratings()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var console = await s.ConsoleConnectionAsync(t);
        await console.InvokeAsync<object>("Watch", session.SessionId);

        var shots = Path.Combine(AppContext.BaseDirectory, "vr-screenshots");
        Directory.CreateDirectory(shots);
        using var pw = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"{m.Text} ({m.Location})"); };
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(s.BaseUrl + "/vr");
        await page.GetByLabel("Pairing code (from the therapist)").FillAsync("WRONG234");
        await page.GetByRole(AriaRole.Button, new() { Name = "Join the session" }).ClickAsync();
        await Assertions.Expect(page.Locator("#pair-error")).ToContainTextAsync("code");
        errors.Clear();   // the browser logs the refused pairing (401) it was asked to make
        await page.GetByLabel("Pairing code (from the therapist)").FillAsync(session.Code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Join the session" }).ClickAsync();
        await page.WaitForFunctionAsync("() => window.openvretScene.connected && window.openvretScene.frames > 5");
        Assert.True(await page.EvaluateAsync<bool>("() => window.openvretScene.calm"));   // baseline: calm scene
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "01-calm.png") });

        // The therapist sets the 12th floor without a railing: the scene receives it and moves there smoothly.
        await console.InvokeAsync("Override", session.SessionId, "h4", null, null, "test");
        await page.WaitForFunctionAsync("() => !window.openvretScene.calm && window.openvretScene.params.floor_height_m === 36");
        await page.WaitForFunctionAsync("() => Math.abs(window.openvretScene.shown.floor_height_m - 36) < 0.5", null, new() { Timeout = 10_000 });
        Assert.Equal("heights", await page.EvaluateAsync<string>("() => window.openvretScene.scenario"));
        Assert.Equal(0, await page.EvaluateAsync<double>("() => window.openvretScene.params.railing"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "02-twelfth-floor.png") });

        // A SUDS rating from the slider is stored.
        await page.Locator("#suds").FillAsync("65");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send rating" }).ClickAsync();
        await page.WaitForFunctionAsync("() => window.openvretScene.eventsSent > 0");
        var ratings = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=rating");
        Assert.Contains(ratings.EnumerateArray(), e => e.GetProperty("name").GetString() == "Suds" && e.GetProperty("payload").GetProperty("value").GetDouble() == 65);

        // The in-VR SUDS panel (what a controller's trigger presses) rates too.
        Assert.True(await page.EvaluateAsync<bool>("() => window.openvretPressSuds(80)"));
        await page.WaitForFunctionAsync("() => window.openvretScene.eventsSent > 1");
        ratings = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=rating");
        Assert.Contains(ratings.EnumerateArray(), e => e.GetProperty("name").GetString() == "Suds" && e.GetProperty("payload").GetProperty("value").GetDouble() == 80);

        // Its mode button switches the panel to expectancy ratings.
        Assert.True(await page.EvaluateAsync<bool>("() => window.openvretPressSuds('mode')"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.openvretPressSuds(30)"));
        await page.WaitForFunctionAsync("() => window.openvretScene.eventsSent > 2");
        ratings = await t.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=rating");
        Assert.Contains(ratings.EnumerateArray(), e => e.GetProperty("name").GetString() == "ExpectancyBefore" && e.GetProperty("payload").GetProperty("value").GetDouble() == 30);

        // The therapist turns on the breathing guide.
        await console.InvokeAsync("SetBiofeedback", session.SessionId, true, false);
        await page.WaitForFunctionAsync("() => window.openvretScene.biofeedback && window.openvretScene.biofeedback.breathing");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "02b-breathing-guide.png") });

        // Emergency stop: the scene turns calm at once.
        await console.InvokeAsync("EmergencyStop", session.SessionId, "test");
        await page.WaitForFunctionAsync("() => window.openvretScene.paused");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "03-paused.png") });
        Assert.True(await page.EvaluateAsync<bool>("() => !window.openvretScene.stimulusVisible"));
        await console.InvokeAsync("Resume", session.SessionId, "test");
        await page.WaitForFunctionAsync("() => !window.openvretScene.paused && window.openvretScene.stimulusVisible");
        await console.DisposeAsync();

        // The server goes away mid-exposure: the page shows the calm room (no stuck stimulus), reconnects by itself
        // when the server is back, and takes the scene the session is in.
        await s.RestartAsync();
        await page.WaitForFunctionAsync("() => window.openvretScene.connected && window.openvretScene.reconnects > 0", null, new() { Timeout = 20_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.openvretScene.sawDisconnectedCalm"));
        errors.RemoveAll(e => e.Contains("WebSocket") || e.Contains("Failed to complete negotiation") || e.Contains("ERR_CONNECTION_REFUSED") || e.Contains("Connection disconnected"));
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
