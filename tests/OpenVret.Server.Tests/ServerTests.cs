using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>The integration scenarios on the default store: a real SQLite file.</summary>
public class SqliteServerTests
{
    private static async Task On(Func<TestServer, Task> scenario)
    {
        await using var s = await TestServer.StartAsync();
        await scenario(s);
    }

    [Fact] public Task Authentication_roles_and_lockout() => On(ServerScenarios.Authentication_roles_and_lockout);
    [Fact] public Task Streaming_is_durable_deduplicated_and_survives_a_restart() => On(ServerScenarios.Streaming_is_durable_deduplicated_and_survives_a_restart);
    [Fact] public Task A_device_reaches_only_its_own_session() => On(ServerScenarios.A_device_reaches_only_its_own_session);
    [Fact] public Task Device_credentials_are_single_use_and_end_with_the_session() => On(ServerScenarios.Device_credentials_are_single_use_and_end_with_the_session);
    [Fact] public Task The_audit_trail_detects_tampering() => On(ServerScenarios.The_audit_trail_detects_tampering);
    [Fact] public Task MessagePack_clients_speak_the_same_protocol() => On(ServerScenarios.MessagePack_clients_speak_the_same_protocol);
    [Fact] public Task A_session_exports_as_EDF_CSV_and_JSON() => On(ServerScenarios.A_session_exports_as_EDF_CSV_and_JSON);
    [Fact] public Task A_recording_replays_through_the_pipeline() => On(ReplayScenarios.A_recording_replays_through_the_pipeline);
    [Fact] public Task Ingest_is_rate_limited_per_device() => ReplayScenarios.Ingest_is_rate_limited_per_device();
    [Fact] public Task Therapists_reach_only_their_site_and_pooled_exports_need_a_key() => On(MultiSiteScenarios.Therapists_reach_only_their_site_and_pooled_exports_are_pseudonymised);
    [Fact] public Task A_virtual_human_talks_through_the_session_and_a_crisis_stops_everything() => On(AgentScenarios.A_virtual_human_talks_through_the_session_and_a_crisis_stops_everything);
    [Fact] public Task The_therapist_picks_lines_and_the_memory_carries_to_the_next_session() => On(AgentScenarios.The_therapist_picks_lines_and_the_memory_carries_to_the_next_session);
    [Fact] public Task An_LLM_agent_answers_and_falls_back_to_the_script_when_the_model_fails() => AgentScenarios.An_LLM_agent_answers_and_falls_back_to_the_script_when_the_model_fails();
}

/// <summary>The same scenarios on PostgreSQL (a fresh database each), when OPENVRET_TEST_POSTGRES reaches one.</summary>
public class PostgresServerTests
{
    private static async Task On(Func<TestServer, Task> scenario)
    {
        await using var s = await TestServer.StartAsync(await TestPostgres.NewDatabaseAsync());
        await scenario(s);
    }

    [PostgresFact] public Task Authentication_roles_and_lockout() => On(ServerScenarios.Authentication_roles_and_lockout);
    [PostgresFact] public Task Streaming_is_durable_deduplicated_and_survives_a_restart() => On(ServerScenarios.Streaming_is_durable_deduplicated_and_survives_a_restart);
    [PostgresFact] public Task A_device_reaches_only_its_own_session() => On(ServerScenarios.A_device_reaches_only_its_own_session);
    [PostgresFact] public Task Device_credentials_are_single_use_and_end_with_the_session() => On(ServerScenarios.Device_credentials_are_single_use_and_end_with_the_session);
    [PostgresFact] public Task The_audit_trail_detects_tampering() => On(ServerScenarios.The_audit_trail_detects_tampering);
    [PostgresFact] public Task MessagePack_clients_speak_the_same_protocol() => On(ServerScenarios.MessagePack_clients_speak_the_same_protocol);
    [PostgresFact] public Task A_session_exports_as_EDF_CSV_and_JSON() => On(ServerScenarios.A_session_exports_as_EDF_CSV_and_JSON);
    [PostgresFact] public Task A_recording_replays_through_the_pipeline() => On(ReplayScenarios.A_recording_replays_through_the_pipeline);
    [PostgresFact] public async Task Therapists_reach_only_their_site_and_pooled_exports_are_pseudonymised()
    {
        await using var s = await TestServer.StartAsync(await TestPostgres.NewDatabaseAsync(), new() { ["OpenVret:ExportPseudonymKey"] = MultiSiteScenarios.ExportKey });
        await MultiSiteScenarios.Therapists_reach_only_their_site_and_pooled_exports_are_pseudonymised(s);
    }
    [PostgresFact] public Task The_therapist_picks_lines_and_the_memory_carries_to_the_next_session() => On(AgentScenarios.The_therapist_picks_lines_and_the_memory_carries_to_the_next_session);
}

/// <summary>
/// Scenarios on a one-node cluster (an Orleans silo in the test process, the store on PostgreSQL): the same REST
/// and hub calls reach sessions hosted as grains.
/// </summary>
public class ClusterServerTests
{
    private static async Task<TestServer> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OpenVret:Hosting"] = "cluster", ["OpenVret:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["OpenVret:SiloPort"] = TestPorts.Free().ToString(), ["OpenVret:GatewayPort"] = TestPorts.Free().ToString(),
        };
        foreach (var kv in extra ?? new()) settings[kv.Key] = kv.Value;
        return await TestServer.StartAsync(await TestPostgres.NewDatabaseAsync(), settings);
    }

    private static async Task On(Func<TestServer, Task> scenario)
    {
        await using var s = await StartAsync();
        await scenario(s);
    }

    [PostgresFact]
    public async Task The_demo_session_runs_in_a_cluster_too()
    {
        await using var s = await StartAsync(new() { ["OpenVret:Demo"] = "true", ["OpenVret:DemoPassword"] = "quiet-harbour-lantern-7", ["OpenVret:AdminUser"] = null, ["OpenVret:AdminPassword"] = null });
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = new Uri(s.BaseUrl) };
        string? sessionId = null;
        long samples = 0;
        await Until.TrueAsync(async () =>   // four seconds of the simulated wearable in the store
        {
            await using var db = s.Services.GetRequiredService<OpenVret.Server.Data.DbFactory>().Create();
            sessionId ??= await db.Sessions.Where(x => x.PatientId == OpenVret.Server.Demo.DemoService.PatientId && x.State == OpenVret.Server.Data.SessionState.Running)
                .Select(x => x.Id).FirstOrDefaultAsync();
            if (sessionId is not null) samples = await Stored.SampleCountAsync(db, sessionId);
            return samples >= 4 * 350;
        }, "the demo session stored 4 s of samples", detail: () => sessionId is null ? "the demo session never started" : $"{samples} samples stored");
        (await http.PostAsJsonAsync("/api/auth/login", new { userName = "demo", password = "quiet-harbour-lantern-7" })).EnsureSuccessStatusCode();
        var view = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/sessions/{sessionId}");
        Assert.Equal("Baseline", view.GetProperty("live").GetProperty("phase").GetString());
    }

    /// <summary>
    /// A node trusts that a session runs for a while without asking the store. If the session ends elsewhere and the
    /// news of it is lost, a device's next message is answered that the session is not running (not a generic error),
    /// and so is every one after it; a therapist's "end" is a conflict, not a server error.
    /// </summary>
    [PostgresFact]
    public async Task A_device_whose_session_ended_unannounced_is_told_it_is_not_running()
    {
        await using var s = await StartAsync();
        var t = await s.LoginAsync();
        var a = await s.CreateSessionAsync(t);
        var b = await s.CreateSessionAsync(t);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await t.Http.GetAsync($"/api/sessions/{b.SessionId}")).StatusCode);   // the node now knows b runs
        var hub = await s.DeviceConnectionAsync((await s.PairAsync(a.Code)).DeviceToken);
        await hub.InvokeAsync<OpenVret.Protocol.HelloAck>("Hello", new OpenVret.Protocol.DeviceHello(OpenVret.Protocol.ProtocolVersion.Current, "test", SimDevice.Channels));
        var sim = new SimDevice();
        var acks = await hub.InvokeAsync<OpenVret.Protocol.BatchAck[]>("SamplesMany", sim.Next().ToArray());
        Assert.All(acks, x => Assert.Equal(OpenVret.Protocol.BatchStatus.Accepted, x.Status));

        // Both sessions end without this node hearing of it: the store says Ended and the grains are gone. (The
        // node's directory may call a grain again at once, which then finds the session ended: so the wait is for the
        // running activations to stop, which the server's count of active sessions tells.)
        var metrics = s.Services.GetRequiredService<ServerMetrics>();
        var writer = s.Services.GetRequiredService<OpenVret.Server.Data.StoreWriter>();
        long running = metrics.Snapshot(writer).ActiveSessions;
        foreach (var id in new[] { a.SessionId, b.SessionId })
        {
            await using (var ctx = s.Services.GetRequiredService<OpenVret.Server.Data.DbFactory>().Create())
            {
                var record = await ctx.Sessions.FindAsync(id);
                record!.State = OpenVret.Server.Data.SessionState.Ended;
                record.EndedAt = DateTimeOffset.UtcNow;
                await ctx.SaveChangesAsync();
            }
            await s.Services.GetRequiredService<IGrainFactory>().GetGrain<OpenVret.Server.Cluster.ISessionGrain>(id).Deactivate();
        }
        await Until.TrueAsync(() => metrics.Snapshot(writer).ActiveSessions <= running - 2, "both session grains deactivated",
            detail: () => $"{metrics.Snapshot(writer).ActiveSessions} of {running} sessions still active");

        // The therapist's "end" for b: a conflict naming the session, not a server error.
        var end = await t.Http.PostAsync($"/api/sessions/{b.SessionId}/end", null);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, end.StatusCode);
        Assert.Contains("is not running", await end.Content.ReadAsStringAsync());

        for (int i = 0; i < 2; i++)
        {
            var e = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => hub.InvokeAsync<OpenVret.Protocol.BatchAck[]>("SamplesMany", sim.Next().ToArray()));
            Assert.Contains($"{a.SessionId} is not running", e.Message);
        }
        await hub.DisposeAsync();
    }

    [PostgresFact] public Task A_recording_replays_through_the_pipeline() => On(ReplayScenarios.A_recording_replays_through_the_pipeline);
    [PostgresFact] public Task A_virtual_human_talks_through_the_session_and_a_crisis_stops_everything() => On(AgentScenarios.A_virtual_human_talks_through_the_session_and_a_crisis_stops_everything);
}
