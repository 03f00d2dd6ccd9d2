using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;
using OpenVret.Server.Cluster;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// OpenVret's PostgreSQL schema for Orleans' ADO.NET clustering provider, driven through the provider itself
/// (<see cref="AdoNetClusteringTable"/>) as a silo drives it: the membership protocol's optimistic writes must hold.
/// </summary>
public sealed class OrleansSchemaTests
{
    /// <summary>What a silo (or a client) of cluster <paramref name="clusterId"/> would be given.</summary>
    private static ServiceProvider Services(string connection, string clusterId) => new ServiceCollection()
        .AddLogging()
        .Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = "openvret"; })
        .Configure<AdoNetClusteringSiloOptions>(o => { o.Invariant = OrleansSchema.Invariant; o.ConnectionString = connection; })
        .Configure<AdoNetClusteringClientOptions>(o => { o.Invariant = OrleansSchema.Invariant; o.ConnectionString = connection; })
        .Configure<GatewayOptions>(_ => { })
        .BuildServiceProvider();

    private static AdoNetClusteringTable Table(string connection, string clusterId) =>
        ActivatorUtilities.CreateInstance<AdoNetClusteringTable>(Services(connection, clusterId));

    private static MembershipEntry Entry(int port, SiloStatus status) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 42),
        SiloName = "node-" + port,
        HostName = "host-" + port,
        Status = status,
        ProxyPort = port + 1000,
        StartTime = DateTime.UtcNow.AddMinutes(-10),
        IAmAliveTime = DateTime.UtcNow.AddMinutes(-5),
    };

    [PostgresFact]
    public async Task The_membership_protocol_holds_on_our_schema()
    {
        var connection = await TestPostgres.NewDatabaseAsync();
        try
        {
            await OrleansSchema.EnsureAsync(connection);
            await OrleansSchema.EnsureAsync(connection);   // every node runs it at start-up: a second run changes nothing
            var table = Table(connection, "c1");
#pragma warning disable CS0618   // the provider's synchronous-named members are the IMembershipTable contract Orleans calls
            await table.InitializeMembershipTable(tryInitTableVersion: true);
            await table.InitializeMembershipTable(tryInitTableVersion: true);

            var empty = await table.ReadAll();
            Assert.Empty(empty.Members);
            var v0 = empty.Version;

            // A row goes in only at the version read, and only once.
            var a = Entry(11111, SiloStatus.Joining);
            Assert.True(await table.InsertRow(a, v0.Next()));
            Assert.False(await table.InsertRow(Entry(22222, SiloStatus.Joining), v0.Next()));   // stale version
            var one = await table.ReadAll();
            Assert.Equal(v0.Version + 1, one.Version.Version);
            var (stored, etag) = Assert.Single(one.Members);
            Assert.Equal(a.SiloAddress, stored.SiloAddress);
            Assert.Equal(("node-11111", "host-11111", SiloStatus.Joining, 12111), (stored.SiloName, stored.HostName, stored.Status, stored.ProxyPort));
            Assert.Equal(a.StartTime, stored.StartTime, TimeSpan.FromMilliseconds(1));
            Assert.False(await table.InsertRow(a, one.Version.Next()));   // the same silo again

            // Updates: only at the version read; suspicions round-trip.
            var b = Entry(22222, SiloStatus.Joining);
            Assert.True(await table.InsertRow(b, one.Version.Next()));
            var two = await table.ReadAll();
            a.Status = SiloStatus.Active;
            a.SuspectTimes = [Tuple.Create(b.SiloAddress, DateTime.UtcNow.AddSeconds(-3))];
            Assert.False(await table.UpdateRow(a, one.Version.VersionEtag, one.Version.Next()));   // stale
            Assert.True(await table.UpdateRow(a, two.Version.VersionEtag, two.Version.Next()));
            var row = await table.ReadRow(a.SiloAddress);
            var (updated, _) = Assert.Single(row.Members);
            Assert.Equal(SiloStatus.Active, updated.Status);
            Assert.Equal(b.SiloAddress, Assert.Single(updated.SuspectTimes).Item1);
            Assert.Equal(two.Version.Version + 1, row.Version.Version);

            // A heartbeat changes the row's time and leaves the version alone.
            var before = row.Version.Version;
            a.IAmAliveTime = DateTime.UtcNow;
            await table.UpdateIAmAlive(a);
            var beat = await table.ReadRow(a.SiloAddress);
            Assert.Equal(before, beat.Version.Version);
            Assert.Equal(a.IAmAliveTime, beat.Members[0].Item1.IAmAliveTime, TimeSpan.FromMilliseconds(1));

            // Gateways: active silos only.
            var gateways = ActivatorUtilities.CreateInstance<Orleans.Runtime.Membership.AdoNetGatewayListProvider>(Services(connection, "c1"));
            await gateways.InitializeGatewayListProvider();
            var uri = Assert.Single(await gateways.GetGateways());
            Assert.Equal(12111, uri.Port);

            // A dead silo not heard of for long is cleaned up; a live one stays; another cluster is untouched.
            b.Status = SiloStatus.Dead;
            var three = await table.ReadAll();
            Assert.True(await table.UpdateRow(b, three.Version.VersionEtag, three.Version.Next()));
            var other = Table(connection, "c2");
            await other.InitializeMembershipTable(true);
            Assert.True(await other.InsertRow(Entry(33333, SiloStatus.Dead), (await other.ReadAll()).Version.Next()));
            await table.CleanupDefunctSiloEntries(DateTimeOffset.UtcNow);
            var left = await table.ReadAll();
            Assert.Equal(a.SiloAddress, Assert.Single(left.Members).Item1.SiloAddress);
            Assert.Single((await other.ReadAll()).Members);

            await table.DeleteMembershipTableEntries("c1");
            Assert.Empty(await OrleansSchema.MembersAsync(connection, "c1"));
            Assert.Single(await OrleansSchema.MembersAsync(connection, "c2"));
#pragma warning restore CS0618
        }
        finally { await TestPostgres.DropDatabaseAsync(connection); }
    }

    /// <summary>A database set up with Orleans' own scripts keeps its query texts; OpenVret's own are brought up to date.</summary>
    [PostgresFact]
    public async Task Set_up_keeps_foreign_query_texts_and_updates_its_own()
    {
        var connection = await TestPostgres.NewDatabaseAsync();
        try
        {
            await OrleansSchema.EnsureAsync(connection);
            await using (var c = new NpgsqlConnection(connection))
            {
                await c.OpenAsync();
                await using var edit = new NpgsqlCommand("""
                    UPDATE OrleansQuery SET QueryText = 'SELECT 1; -- an operator''s own text' WHERE QueryKey = 'GatewaysQueryKey';
                    UPDATE OrleansQuery SET QueryText = '-- openvret clustering v0 (older)' WHERE QueryKey = 'MembershipReadAllKey';
                    DELETE FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntryKey';
                    """, c);
                await edit.ExecuteNonQueryAsync();
            }
            await OrleansSchema.EnsureAsync(connection);
            await using var read = new NpgsqlConnection(connection);
            await read.OpenAsync();
            async Task<string> Text(string key)
            {
                await using var q = new NpgsqlCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = @k", read);
                q.Parameters.AddWithValue("k", key);
                return (string)(await q.ExecuteScalarAsync())!;
            }
            Assert.Equal("SELECT 1; -- an operator's own text", await Text("GatewaysQueryKey"));
            Assert.EndsWith(OrleansSchema.Queries["MembershipReadAllKey"], await Text("MembershipReadAllKey"));
            Assert.EndsWith(OrleansSchema.Queries["CleanupDefunctSiloEntryKey"], await Text("CleanupDefunctSiloEntryKey"));
        }
        finally { await TestPostgres.DropDatabaseAsync(connection); }
    }
}
