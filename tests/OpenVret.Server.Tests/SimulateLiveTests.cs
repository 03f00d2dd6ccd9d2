using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Cli;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using OpenVret.Simulation;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>`openvret simulate-live`: a virtual patient streaming to a running server through the device protocol, following the scene commands.</summary>
public class SimulateLiveTests
{
    [Fact]
    public void Scene_commands_set_what_the_patient_sees()
    {
        var s = new SimulateLiveCommand.SceneState();
        Assert.False(s.Exposed);
        s.Apply(new SceneCommand(1, SceneCommandKind.SetScene, "heights", new Dictionary<string, double> { ["floor_height_m"] = 90, ["railing"] = 0, ["look_down_prompt"] = 1 },
            new Dictionary<string, string> { ["room"] = "street" }, null, "test"));
        Assert.True(s.Exposed);
        Assert.True(s.Intensity > 0.8);
        Assert.Equal("street", s.Context.Room);
        s.Apply(new SceneCommand(2, SceneCommandKind.Pause, null, null, null, null, "stop"));
        Assert.False(s.Exposed);
        s.Apply(new SceneCommand(3, SceneCommandKind.Resume, null, null, null, null, "go"));
        Assert.True(s.Exposed);
        s.Apply(new SceneCommand(4, SceneCommandKind.CalmScene, null, null, null, null, "end"));
        Assert.False(s.Exposed);
    }

    [Fact]
    public async Task A_virtual_patient_streams_as_a_device_and_reacts_to_the_scene()
    {
        await using var server = await TestServer.StartAsync();
        var t = await server.LoginAsync();
        var session = await server.CreateSessionAsync(t, mode: "suggest", baseline: 60);
        var scene = new SimulateLiveCommand.SceneState();
        var patient = new PatientStream(5);
        // 24 s of streaming: the override may reach the device late on a busy machine, and 6 s in the scene must still fit.
        const int Seconds = 24;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));   // a safety net only
        var run = SimulateLiveCommand.RunAsync(server.BaseUrl, session.Code, 5, Seconds, 1, TextWriter.Null, cts.Token, scene, patient);

        // Baseline: the calm scene from the hello; the patient is calm. Waits are on the patient's own (simulated)
        // time, which the device advances as it streams: a busy machine makes them longer, never wrong.
        // (The first wait includes pairing and connecting the device.)
        await Until.TrueAsync(() => patient.Time >= 3, "the virtual patient streamed 3 s", TimeSpan.FromMinutes(2), () => $"streamed {patient.Time:0.0} s");
        lock (scene) Assert.False(scene.Exposed);
        double calm = patient.Arousal;
        // The therapist sets the top step by hand: the command reaches the device, and the patient's fear follows.
        var console = await server.ConsoleConnectionAsync(t);
        await console.InvokeAsync<object>("Watch", session.SessionId);
        await console.InvokeAsync("Override", session.SessionId, "h5", null, null, "test: top of the hierarchy");
        await Until.TrueAsync(() => { lock (scene) return scene.Exposed; }, "the device shows the exposure scene");
        double exposedAt = patient.Time;
        lock (scene) Assert.True(scene.Intensity > 0.8, $"intensity {scene.Intensity:0.00}");
        await Until.TrueAsync(() => patient.Time >= exposedAt + 6, "the patient spent 6 s in the exposure scene",
            detail: () => $"exposed at {exposedAt:0.0} s, now {patient.Time:0.0} s of {Seconds}");
        Assert.True(patient.Arousal > calm + 0.2, $"arousal {calm:0.00} -> {patient.Arousal:0.00}");

        Assert.Equal(0, await run);
        await using var db = server.Services.GetRequiredService<DbFactory>().Create();
        long stored = await Stored.SampleCountAsync(db, session.SessionId);
        // Seconds of ECG 250 + BVP 64 + EDA 4 + TEMP 4 + ACC 32 Hz, every batch acknowledged once.
        Assert.InRange(stored, (long)(Seconds * 354 * 0.98), (long)(Seconds * 354 * 1.02));
        var ratings = await t.Http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/sessions/{session.SessionId}/entries?kind=fault");
        Assert.DoesNotContain(ratings.EnumerateArray(), e => e.GetProperty("name").GetString() == "batch_rejected");
        await console.DisposeAsync();
    }
}
