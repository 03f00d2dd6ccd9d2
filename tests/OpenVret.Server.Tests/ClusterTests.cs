using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.TestingHost;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Cluster;
using OpenVret.Server.Data;
using OpenVret.Server.Sessions;
using OpenVret.Server.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Server.Tests;

/// <summary>What the silos of the in-process test cluster share: one store (a real SQLite file) and a sink that records what sessions send.</summary>
public static class ClusterTestStore
{
    public static readonly string Folder = Path.Combine(Path.GetTempPath(), "openvret-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    public static readonly ServerOptions Options = new() { DataFolder = Folder, TickMilliseconds = 200, Demo = false };
    public static readonly DbFactory Db = new(Options);
    public static readonly StoreWriter Store = Migrated();

    private static StoreWriter Migrated()
    {
        Db.MigrateAsync().GetAwaiter().GetResult();
        return new StoreWriter(Db, TimeProvider.System, NullLogger<StoreWriter>.Instance);
    }
    public static readonly RecordingSink Sink = new();

    public sealed class RecordingSink : ISessionSink
    {
        public ConcurrentQueue<Alert> Alerts { get; } = new();
        public ConcurrentQueue<SceneCommand> Scene { get; } = new();
        public void ToScene(string sessionId, SceneCommand command) => Scene.Enqueue(command);
        public void ToDevice(string deviceId, DeviceNotice notice) { }
        public void ToConsole(string sessionId, EngineEvent e) { }
        public void ToConsole(string sessionId, Alert alert) => Alerts.Enqueue(alert);
        public void ToConsole(string sessionId, LiveView view) { }
        public void ToConsole(string sessionId, TranscriptItem line) { }
    }

    /// <summary>Protocol and session types cross nodes as JSON (the same options as the store).</summary>
    public static void Serializer(ISerializerBuilder b) =>
        b.AddJsonSerializer(isSupported: t => t.Namespace?.StartsWith("OpenVret", StringComparison.Ordinal) == true, jsonSerializerOptions: SessionActor.Json);
}

public sealed class ClusterSilo : ISiloConfigurator
{
    public void Configure(ISiloBuilder silo) => silo.ConfigureServices(s =>
    {
        s.AddSerializer(ClusterTestStore.Serializer);
        s.AddSingleton(ClusterTestStore.Options);
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(ClusterTestStore.Db);
        s.AddSingleton(ClusterTestStore.Store);
        s.AddSingleton<ISessionSink>(ClusterTestStore.Sink);
        s.AddSingleton<ServerMetrics>();
        s.AddMetrics();
        s.AddSingleton<SessionHost>();
    });
}

public sealed class ClusterClient : IClientBuilderConfigurator
{
    public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
        client.ConfigureServices(s => s.AddSerializer(ClusterTestStore.Serializer));
}

/// <summary>
/// Sessions as Orleans grains on an in-process cluster of two silos (Orleans TestingHost) over one real SQLite
/// store: activation, resumption from the store after deactivation, and a node killed mid-session.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    private static async Task<string> CreateSessionAsync()
    {
        await ClusterTestStore.Db.MigrateAsync();
        await using var ctx = ClusterTestStore.Db.Create();
        string patient = "PC-" + Guid.NewGuid().ToString("N")[..6], session = "SC-" + Guid.NewGuid().ToString("N")[..8];
        ctx.Patients.Add(new PatientRecord { Id = patient, Site = "test", HierarchyJson = JsonSerializer.Serialize(TestServer.DemoHierarchy), CreatedAt = DateTimeOffset.UtcNow });
        ctx.Sessions.Add(new SessionRecord { Id = session, PatientId = patient, Scheduler = "inhibitory", Mode = "suggest", Seed = 3, BaselineSeconds = 60, State = SessionState.Created, CreatedAt = DateTimeOffset.UtcNow });
        await ctx.SaveChangesAsync();
        return session;
    }

    private static async Task<int> Chunks(string session)
    {
        await using var ctx = ClusterTestStore.Db.Create();
        return await ctx.SampleChunks.CountAsync(c => c.SessionId == session);
    }

    [Fact]
    public async Task A_session_grain_survives_deactivation_and_a_killed_node_without_losing_acknowledged_samples()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<ClusterSilo>();
        builder.AddClientBuilderConfigurator<ClusterClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var sessionId = await CreateSessionAsync();
            var grain = cluster.GrainFactory.GetGrain<ISessionGrain>(sessionId);
            await grain.Start("user:1");
            await grain.ConsoleCount(1);
            var hello = await grain.Hello("D1", new DeviceHello(ProtocolVersion.Current, "cluster-test", SimDevice.Channels));
            Assert.Equal(sessionId, hello.SessionId);
            var sim = new SimDevice();
            int acked = 0;
            async Task Stream(double seconds)
            {
                for (int i = 0; i < seconds * 10; i++)
                {
                    var acks = await grain.Samples("D1", sim.Next().ToArray());
                    Assert.All(acks, a => Assert.Equal(BatchStatus.Accepted, a.Status));
                    acked += acks.Length;
                }
            }
            await Stream(3);
            Assert.Equal(acked, await Chunks(sessionId));
            string first = await grain.Node();

            // Deactivation (a planned move): the next call resumes the session from the store, on a safety hold.
            await grain.Deactivate();
            await Task.Delay(500);
            var view = await grain.View();
            Assert.True(view.HoldActive, "a resumed session holds until the therapist releases it");
            var again = await grain.Hello("D1", new DeviceHello(ProtocolVersion.Current, "cluster-test", SimDevice.Channels));
            foreach (var ch in SimDevice.Channels) Assert.True(again.LastSequence[ch.Name] >= 0, $"{ch.Name}: the resumed session must know what is stored");
            await Stream(2);

            // A node dies mid-session: the session reactivates on the other node from the store.
            first = await grain.Node();
            var victim = cluster.Silos.First(s => first.Contains(s.SiloAddress.ToString(), StringComparison.Ordinal) || s.SiloAddress.ToString().Contains(first, StringComparison.Ordinal));
            var watch = Stopwatch.StartNew();
            await cluster.KillSiloAsync(victim);
            string second = "";
            while (watch.Elapsed < TimeSpan.FromSeconds(120))
            {
                try { second = await grain.Node().WaitAsync(TimeSpan.FromSeconds(5)); break; }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException) { await Task.Delay(250); }
            }
            watch.Stop();
            output.WriteLine($"node {first} killed; session resumed on {second} after {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.NotEqual("", second);
            Assert.NotEqual(first, second);
            Assert.True((await grain.View()).HoldActive);
            Assert.Contains(ClusterTestStore.Sink.Alerts, a => a.Kind == "server_restart");
            await grain.Hello("D1", new DeviceHello(ProtocolVersion.Current, "cluster-test", SimDevice.Channels));
            await Stream(2);
            Assert.Equal(acked, await Chunks(sessionId));   // every acknowledged batch is in the store
            await using var ctx = ClusterTestStore.Db.Create();
            Assert.True(await ctx.Audit.CountAsync(a => a.SessionId == sessionId && a.Action == "session_resumed") >= 2);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
