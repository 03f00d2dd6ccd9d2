using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Messaging;
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

/// <summary>
/// What the silos of the in-process test cluster share: one store (a real SQLite file, or PostgreSQL) and a sink
/// Set before a cluster is deployed (silo configurators are created by type).
/// </summary>
public static class ClusterTestStore
{
    public static ServerOptions Options { get; private set; } = null!;
    public static DbFactory Db { get; private set; } = null!;
    public static StoreWriter Store { get; private set; } = null!;
    public static bool PostgresMembership { get; private set; }

    public static async Task UseAsync(string? postgres, bool postgresMembership, double replayDriverTimeoutSeconds = 30)
    {
        Options = new ServerOptions { DataFolder = Path.Combine(Path.GetTempPath(), "openvret-cluster-" + Guid.NewGuid().ToString("N")[..8]), PostgresConnection = postgres, TickMilliseconds = 200, Demo = false,
            ReplayDriverTimeoutSeconds = replayDriverTimeoutSeconds };
        Db = new DbFactory(Options);
        await Db.MigrateAsync();
        Store = new StoreWriter(Db, TimeProvider.System, NullLogger<StoreWriter>.Instance);
        PostgresMembership = postgresMembership;
        if (postgresMembership) await OrleansSchema.EnsureAsync(postgres!);
    }

    /// <summary>Protocol and session types cross nodes as JSON (the same options as the store).</summary>
    public static void Serializer(ISerializerBuilder b) => OpenVret.Server.Cluster.ClusterHosting.Serializer(b);
}

public sealed class ClusterSilo : ISiloConfigurator
{
    public void Configure(ISiloBuilder silo)
    {
        if (ClusterTestStore.PostgresMembership)
            silo.UseAdoNetClustering(o => { o.Invariant = OrleansSchema.Invariant; o.ConnectionString = ClusterTestStore.Options.PostgresConnection; });
        silo.ConfigureServices(Services);
    }

    private static void Services(IServiceCollection s)
    {
        s.AddSerializer(ClusterTestStore.Serializer);
        s.AddSingleton(ClusterTestStore.Options);
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(ClusterTestStore.Db);
        s.AddSingleton(ClusterTestStore.Store);
        s.AddSingleton<ServerMetrics>();
        s.AddMetrics();
        s.AddSingleton<SessionHost>();
        // The grains send their output to subscribed nodes; the single-mode host (which supplies the model) needs a sink of its own.
        s.AddSingleton<ISessionSink, NoSink>();
        if (ClusterTestStore.PostgresMembership)
        {
            // Detect a dead node within a few seconds (defaults are tuned for large production clusters).
            s.Configure<Orleans.Configuration.ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
        }
    }
}

internal sealed class NoSink : ISessionSink
{
    public void ToScene(string sessionId, SceneCommand command) { }
    public void ToDevice(string deviceId, DeviceNotice notice) { }
    public void ToConsole(string sessionId, EngineEvent e) { }
    public void ToConsole(string sessionId, Alert alert) { }
    public void ToConsole(string sessionId, LiveView view) { }
    public void ToConsole(string sessionId, TranscriptItem line) { }
}

public sealed class ClusterClient : IClientBuilderConfigurator
{
    public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client)
    {
        client.ConfigureServices(s => s.AddSerializer(ClusterTestStore.Serializer));
        if (ClusterTestStore.PostgresMembership)
            client.UseAdoNetClustering(o => { o.Invariant = OrleansSchema.Invariant; o.ConnectionString = ClusterTestStore.Options.PostgresConnection; });
    }
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
        return await Stored.ChunkCountAsync(ctx, session);
    }

    [Fact]
    public async Task A_session_grain_survives_deactivation_and_a_killed_node_without_losing_acknowledged_samples()
    {
        await ClusterTestStore.UseAsync(null, postgresMembership: false);
        await Run(silos: 2);
    }

    /// <summary>A replay whose driving node stops sending steps ends as interrupted, and the trail says so.</summary>
    [Fact]
    public async Task A_replay_whose_driver_stops_ends_as_interrupted()
    {
        // The grain times the driver out on the real clock (DateTime.UtcNow, not the injected TimeProvider): 2 s let a
        // loaded machine end the replay before its first step arrived; 10 s leaves room, and the test waits for the trail.
        await ClusterTestStore.UseAsync(null, postgresMembership: false, replayDriverTimeoutSeconds: 10);
        var cluster = await DeployAsync(silos: 1);
        try
        {
            var sessionId = await CreateSessionAsync();
            var grain = cluster.GrainFactory.GetGrain<ISessionGrain>(sessionId);
            await grain.StartReplay(SimDevice.Channels.ToArray(), "recording.edf", realTime: false, "user:1");
            var sim = new SimDevice();
            var acks = await grain.ReplayStep(1, sim.Next().ToArray());
            Assert.All(acks!, a => Assert.Equal(BatchStatus.Accepted, a.Status));
            // The driver goes quiet: the grain's timer ends the replay after the timeout. The record is marked ended
            // first and the trail's item written next, so the wait is for the item (the last of the two).
            await Until.ValueAsync(async () =>
            {
                await using var ctx = ClusterTestStore.Db.Create();
                return await ctx.Audit.AsNoTracking().Where(a => a.SessionId == sessionId).Select(a => a.Action).ToListAsync();
            }, actions => actions.Contains("replay_interrupted"), "the trail says the replay whose driver went quiet was interrupted");
            await using (var ctx = ClusterTestStore.Db.Create())
            {
                var record = await ctx.Sessions.AsNoTracking().FirstAsync(x => x.Id == sessionId);
                Assert.Equal(SessionState.Ended, record.State);
                Assert.Equal("replay", record.Source);
            }
            Assert.Null(await grain.ReplayStep(2, sim.Next().ToArray()));   // a late driver learns the session no longer runs
        }
        finally { await cluster.StopAllSilosAsync(); await cluster.DisposeAsync(); }
    }

    /// <summary>Three silos whose membership and store are one real PostgreSQL database (the clinic-network setup).</summary>
    [PostgresFact]
    public async Task Three_silos_with_membership_and_store_in_PostgreSQL_fail_over_a_session()
    {
        var connection = await TestPostgres.NewDatabaseAsync();
        try
        {
            await ClusterTestStore.UseAsync(connection, postgresMembership: true);
            await Run(silos: 3);
            var members = await OrleansSchema.MembersAsync(connection);
            output.WriteLine($"membership rows: {string.Join(", ", members.Select(m => $"{m.Address}:{m.Port}@{m.Generation} {(Orleans.Runtime.SiloStatus)m.Status}"))}");
            Assert.True(members.Count >= 3);
            Assert.Contains(members, m => m.Status == (int)Orleans.Runtime.SiloStatus.Dead);
        }
        finally { await TestPostgres.DropDatabaseAsync(connection); }
    }

    /// <summary>An in-process cluster of <paramref name="silos"/> over <see cref="ClusterTestStore"/>.</summary>
    private static async Task<TestCluster> DeployAsync(int silos)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.UseTestClusterMembership = !ClusterTestStore.PostgresMembership;
        builder.AddSiloBuilderConfigurator<ClusterSilo>();
        builder.AddClientBuilderConfigurator<ClusterClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private async Task Run(int silos)
    {
        var cluster = await DeployAsync(silos);
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
                    var acks = (await grain.Samples("D1", sim.Next().ToArray())).Value;
                    Assert.All(acks, a => Assert.Equal(BatchStatus.Accepted, a.Status));
                    acked += acks.Length;
                }
            }
            await Stream(3);
            Assert.Equal(acked, await Chunks(sessionId));
            string first = await grain.Node();

            // Deactivation (a planned move): the next call resumes the session from the store, on a safety hold.
            await grain.Deactivate();
            await Grains.DeactivatedAsync(cluster.GrainFactory, grain, "the session grain deactivated");
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
            Assert.Contains(await grain.OpenAlerts(), a => a.Kind == "server_restart");
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
