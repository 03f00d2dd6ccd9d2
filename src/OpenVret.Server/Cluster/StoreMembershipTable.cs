using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Serialization;
using OpenVret.Server.Data;

namespace OpenVret.Server.Cluster;

/// <summary>
/// Orleans cluster membership kept in the server's own store (PostgreSQL for a clinic network, or SQLite), through
/// EF Core, so a cluster needs no second database schema. Implements the membership table contract: inserts and
/// updates change a silo's row and the table version atomically, and fail (return false) on a stale version etag
/// or row etag. Writes are serialised in the database: a PostgreSQL advisory lock, or SQLite's write lock.
/// </summary>
public sealed class StoreMembershipTable(DbFactory db, Serializer<MembershipEntry> serializer, IOptions<ClusterOptions> cluster) : IMembershipTable, IGatewayListProvider
{
    private string ClusterId => cluster.Value.ClusterId;

    private static string Key(SiloAddress a) => a.ToParsableString();
    private static string NewEtag() => Guid.NewGuid().ToString("N");

    public async Task InitializeMembershipTable(bool tryInitTableVersion)
    {
        if (!tryInitTableVersion) return;
        await using var ctx = db.Create();
        await using var tx = await ctx.Database.BeginTransactionAsync();
        await Lock(ctx);
        if (await ctx.ClusterVersions.FindAsync(ClusterId) is null)
        {
            ctx.ClusterVersions.Add(new ClusterVersion { ClusterId = ClusterId, Version = 0, Etag = NewEtag() });
            await ctx.SaveChangesAsync();
        }
        await tx.CommitAsync();
    }

    public async Task DeleteMembershipTableEntries(string clusterId)
    {
        await using var ctx = db.Create();
        await ctx.ClusterMembers.Where(m => m.ClusterId == clusterId).ExecuteDeleteAsync();
        await ctx.ClusterVersions.Where(v => v.ClusterId == clusterId).ExecuteDeleteAsync();
    }

    public async Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate)
    {
        await using var ctx = db.Create();
        var before = beforeDate.UtcDateTime;
        await ctx.ClusterMembers.Where(m => m.ClusterId == ClusterId && m.Status == (int)SiloStatus.Dead && m.IAmAliveTime < before).ExecuteDeleteAsync();
    }

    public async Task<MembershipTableData> ReadRow(SiloAddress key)
    {
        await using var ctx = db.Create();
        await using var tx = await ctx.Database.BeginTransactionAsync();
        var version = await Version(ctx);
        var row = await ctx.ClusterMembers.AsNoTracking().FirstOrDefaultAsync(m => m.ClusterId == ClusterId && m.Silo == Key(key));
        await tx.CommitAsync();
        return row is null ? new MembershipTableData(version) : new MembershipTableData(Tuple.Create(Entry(row), row.Etag), version);
    }

    public async Task<MembershipTableData> ReadAll()
    {
        await using var ctx = db.Create();
        await using var tx = await ctx.Database.BeginTransactionAsync();
        var version = await Version(ctx);
        var rows = await ctx.ClusterMembers.AsNoTracking().Where(m => m.ClusterId == ClusterId).ToListAsync();
        await tx.CommitAsync();
        return new MembershipTableData(rows.Select(r => Tuple.Create(Entry(r), r.Etag)).ToList(), version);
    }

    public async Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion)
    {
        await using var ctx = db.Create();
        await using var tx = await ctx.Database.BeginTransactionAsync();
        await Lock(ctx);
        var version = await ctx.ClusterVersions.FindAsync(ClusterId);
        if (version is null || version.Etag != tableVersion.VersionEtag) return false;
        if (await ctx.ClusterMembers.AnyAsync(m => m.ClusterId == ClusterId && m.Silo == Key(entry.SiloAddress))) return false;
        ctx.ClusterMembers.Add(new OpenVret.Server.Data.ClusterMember
        {
            ClusterId = ClusterId, Silo = Key(entry.SiloAddress), Etag = NewEtag(), Status = (int)entry.Status, IAmAliveTime = entry.IAmAliveTime, Entry = serializer.SerializeToArray(entry),
        });
        version.Version = tableVersion.Version;
        version.Etag = NewEtag();
        await ctx.SaveChangesAsync();
        await tx.CommitAsync();
        return true;
    }

    public async Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion)
    {
        await using var ctx = db.Create();
        await using var tx = await ctx.Database.BeginTransactionAsync();
        await Lock(ctx);
        var version = await ctx.ClusterVersions.FindAsync(ClusterId);
        if (version is null || version.Etag != tableVersion.VersionEtag) return false;
        var row = await ctx.ClusterMembers.FindAsync(ClusterId, Key(entry.SiloAddress));
        if (row is null || row.Etag != etag) return false;
        row.Entry = serializer.SerializeToArray(entry);
        row.Status = (int)entry.Status;
        row.IAmAliveTime = entry.IAmAliveTime;
        row.Etag = NewEtag();
        version.Version = tableVersion.Version;
        version.Etag = NewEtag();
        await ctx.SaveChangesAsync();
        await tx.CommitAsync();
        return true;
    }

    public async Task UpdateIAmAlive(MembershipEntry entry)
    {
        await using var ctx = db.Create();
        await using var tx = await ctx.Database.BeginTransactionAsync();
        await Lock(ctx);
        var row = await ctx.ClusterMembers.FindAsync(ClusterId, Key(entry.SiloAddress));
        if (row is null) return;
        var stored = Entry(row);
        stored.IAmAliveTime = entry.IAmAliveTime;
        row.Entry = serializer.SerializeToArray(stored);
        row.IAmAliveTime = entry.IAmAliveTime;
        await ctx.SaveChangesAsync();
        await tx.CommitAsync();
    }

    // ------------------------------------------------------------------ gateways (for clients outside the silos)

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        var all = await ReadAll();
        return all.Members.Where(m => m.Item1.Status == SiloStatus.Active && m.Item1.ProxyPort > 0)
            .Select(m => SiloAddress.New(m.Item1.SiloAddress.Endpoint.Address, m.Item1.ProxyPort, m.Item1.SiloAddress.Generation).ToGatewayUri()).ToList();
    }

    public TimeSpan MaxStaleness => TimeSpan.FromSeconds(10);
    public bool IsUpdatable => true;

    private MembershipEntry Entry(OpenVret.Server.Data.ClusterMember row) => serializer.Deserialize(row.Entry);

    private async Task<TableVersion> Version(SessionDb ctx)
    {
        var v = await ctx.ClusterVersions.AsNoTracking().FirstOrDefaultAsync(x => x.ClusterId == ClusterId);
        return v is null ? new TableVersion(0, "") : new TableVersion(v.Version, v.Etag);
    }

    /// <summary>Serialises membership writes: PostgreSQL takes a transaction-scoped advisory lock; SQLite's write transaction already is one.</summary>
    private async Task Lock(SessionDb ctx)
    {
        if (db.Provider == StoreProvider.Postgres) await ctx.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7326002)");
    }
}
