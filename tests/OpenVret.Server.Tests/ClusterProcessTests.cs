using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Sessions;
using OpenVret.Server.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Server.Tests;

/// <summary>
/// Three server processes on loopback in cluster mode over one PostgreSQL database: the session starts on node 1,
/// its device streams to node 2, its console watches from node 3 and starts a virtual human there; node 1 is
/// killed mid-session.
/// </summary>
public sealed class ClusterProcessTests(ITestOutputHelper output)
{
    private sealed class Node : IAsyncDisposable
    {
        public required Process Process { get; init; }
        public required string Url { get; init; }
        public StringWriter Log { get; } = new();
        public ValueTask DisposeAsync()
        {
            try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<Node> StartNode(string postgres, string folder)
    {
        int http = TestPorts.Free(), silo = TestPorts.Free(), gateway = TestPorts.Free();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "OpenVret.Server.dll"), "--urls", $"http://127.0.0.1:{http}",
                     "--OpenVret:Hosting=cluster", $"--OpenVret:PostgresConnection={postgres}", $"--OpenVret:SiloPort={silo}", $"--OpenVret:GatewayPort={gateway}",
                     "--OpenVret:Demo=false", $"--OpenVret:AdminUser={TestServer.AdminUser}", $"--OpenVret:AdminPassword={TestServer.AdminPassword}",
                     $"--OpenVret:DataFolder={folder}", "--OpenVret:LiveLogSeconds=0" })
            psi.ArgumentList.Add(a);
        var node = new Node { Process = Process.Start(psi)!, Url = $"http://127.0.0.1:{http}" };
        var logFile = Path.Combine(folder, $"node-{http}.log");
        void Write(string? line)
        {
            if (line == null) return;
            lock (node.Log) { node.Log.WriteLine(line); File.AppendAllText(logFile, line + "\n"); }
        }
        node.Process.OutputDataReceived += (_, e) => Write(e.Data);
        node.Process.ErrorDataReceived += (_, e) => Write(e.Data);
        node.Process.BeginOutputReadLine();
        node.Process.BeginErrorReadLine();
        using var http1 = new HttpClient();
        await Until.TrueAsync(async () =>
        {
            if (node.Process.HasExited) throw new Xunit.Sdk.XunitException($"node exited: {node.Log}");
            try { return (await http1.GetAsync(node.Url + "/health")).IsSuccessStatusCode; } catch (HttpRequestException) { return false; }
        }, "the node answers /health", TimeSpan.FromSeconds(90), () => node.Log.ToString());
        return node;
    }

    private static async Task<(HttpClient Http, CookieContainer Cookies)> Login(string url)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(url) };
        (await http.PostAsJsonAsync("/api/auth/login", new { userName = TestServer.AdminUser, password = TestServer.AdminPassword })).EnsureSuccessStatusCode();
        return (http, cookies);
    }

    [PostgresFact]
    public async Task Devices_and_consoles_on_any_node_reach_their_session_which_survives_a_killed_node()
    {
        var postgres = await TestPostgres.NewDatabaseAsync();
        var folder = Directory.CreateTempSubdirectory("openvret-cluster-proc").FullName;
        var nodes = new List<Node>();
        var stages = Path.Combine(folder, "stages.txt");
        void Stage(string what) { output.WriteLine(what); File.AppendAllText(stages, $"{DateTime.UtcNow:HH:mm:ss.fff} {what}\n"); }
        try
        {
            nodes.Add(await StartNode(postgres, folder));   // the first node migrates and seeds; the others join
            nodes.Add(await StartNode(postgres, folder));
            nodes.Add(await StartNode(postgres, folder));
            Stage("three nodes healthy");
            var (admin, _) = await Login(nodes[0].Url);
            (await admin.PostAsJsonAsync("/api/patients", new { id = "PX-1", site = "test", hierarchy = TestServer.DemoHierarchy })).EnsureSuccessStatusCode();
            var created = await (await admin.PostAsJsonAsync("/api/sessions", new { patientId = "PX-1", scheduler = "inhibitory", mode = "suggest", baselineSeconds = 60, seed = 3 })).Content.ReadFromJsonAsync<JsonElement>();
            string sessionId = created.GetProperty("session").GetProperty("id").GetString()!, code = created.GetProperty("pairing").GetProperty("code").GetString()!;
            (await admin.PostAsync($"/api/sessions/{sessionId}/start", null)).EnsureSuccessStatusCode();   // the grain starts on node 1

            Stage("session started");
            // The device pairs and streams through node 2.
            var pair = await (await new HttpClient().PostAsJsonAsync(nodes[1].Url + "/api/pair", new PairingRequest(code, "cluster device", DeviceRole.SensorAndVr), TestServer.Json)).Content.ReadFromJsonAsync<PairingResult>(TestServer.Json);
            var scene = new Inbox<SceneCommand>();
            var device = new HubConnectionBuilder().WithUrl(nodes[1].Url + ProtocolVersion.DeviceHubPath, o => o.AccessTokenProvider = () => Task.FromResult<string?>(pair!.DeviceToken))
                .AddMessagePackProtocol().Build();
            device.On<SceneCommand>(DeviceClientMethods.Command, c => scene.Add(c));
            await device.StartAsync();
            await device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "cluster-test", SimDevice.Channels));
            var sim = new SimDevice();
            long acked = 0;
            async Task Stream(double seconds)
            {
                for (int i = 0; i < seconds * 10; i++)
                {
                    var acks = await device.InvokeAsync<BatchAck[]>("SamplesMany", sim.Next().ToArray());
                    Assert.All(acks, a => Assert.Equal(BatchStatus.Accepted, a.Status));
                    acked += acks.Length;
                }
            }
            Stage("device streaming on node 2");
            await Stream(2);

            // The console watches from node 3: live views arrive, and its emergency stop reaches the device on node 2.
            var (therapist, cookies) = await Login(nodes[2].Url);
            var alerts = new Inbox<Alert>();
            var views = new Inbox<JsonElement>();
            var console = new HubConnectionBuilder().WithUrl(nodes[2].Url + ProtocolVersion.ConsoleHubPath, o => o.Cookies = cookies)
                .AddJsonProtocol(o => { o.PayloadSerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()); o.PayloadSerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals; })
                .Build();
            console.On<Alert>("Alert", a => alerts.Add(a));
            console.On<JsonElement>("Live", v => views.Add(v));
            await console.StartAsync();
            await console.InvokeAsync<JsonElement>("Watch", sessionId);
            await Stream(1);
            await views.WaitAsync(_ => true, "a live view on the console on another node");
            Stage("views reach node 3");

            // A virtual human started from the console on node 3 hears the patient speak through the device on node 2,
            // and its answer reaches the headset on node 2.
            await console.InvokeAsync<JsonElement>("StartAgent", sessionId, "interviewer", "local-keywords", false, 0.1);
            await scene.WaitAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Context!["source"] == "disclosure", "the AI disclosure on the headset");
            var said = await device.InvokeAsync<EventAck>("Event", new ClientEvent(0, 5, ClientEventKind.Utterance, 12, "I studied biology at university", null, 1.5));
            Assert.Equal(BatchStatus.Accepted, said.Status);
            await scene.WaitAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Prompt!.Contains("studies prepare you"), "the agent's answer on the headset");
            Stage("the agent on node 3 answered the patient on node 2");
            await console.InvokeAsync("EmergencyStop", sessionId, "cluster test");
            await scene.WaitAsync(c => c.Kind == SceneCommandKind.Pause, "the emergency stop's pause on the headset");

            Stage("pause reached the device");
            // Node 1 dies; the device keeps streaming through node 2 and the session comes back on a safety hold.
            nodes[0].Process.Kill(entireProcessTree: true);
            var watch = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    var acks = await device.InvokeAsync<BatchAck[]>("SamplesMany", sim.Next().ToArray(), attempt.Token);
                    if (acks.All(a => a.Status == BatchStatus.Accepted)) { acked += acks.Length; break; }
                    Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"batches still refused after the failover: {acks.First(a => a.Status != BatchStatus.Accepted).Error}");
                    await Task.Delay(250);
                }
                catch (Exception) when (watch.Elapsed < TimeSpan.FromSeconds(90)) { await Task.Delay(250); }
            }
            watch.Stop();
            output.WriteLine($"node 1 killed: the device's next batch was acknowledged after {watch.Elapsed.TotalSeconds:0.0} s");
            Stage("streaming again after the kill");
            await Stream(2);
            await alerts.WaitAsync(a => a.Kind == "server_restart", "the server_restart alert on the console");

            var options = new ServerOptions { PostgresConnection = postgres, DataFolder = folder };
            await using var ctx = new DbFactory(options).Create();
            Assert.Equal(acked, await Stored.ChunkCountAsync(ctx, sessionId));
            Assert.True((await OpenVret.Server.Cluster.OrleansSchema.MembersAsync(postgres, options.ClusterId)).Count >= 3, "the membership table lists the three nodes");
            await device.DisposeAsync();
            await console.DisposeAsync();
        }
        catch
        {
            foreach (var n in nodes) output.WriteLine($"--- node {n.Url}\n{n.Log}");
            throw;
        }
        finally
        {
            output.WriteLine(File.Exists(stages) ? File.ReadAllText(stages) : "");
            foreach (var n in nodes) await n.DisposeAsync();
            await TestPostgres.DropDatabaseAsync(postgres);
        }
    }
}
