using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace OpenVret.Server.Data;

/// <summary>
/// Stores created before sample blocks kept one "SampleChunks" row per channel batch. At start-up their rows are
/// moved, oldest first and in transactions of <see cref="Batch"/> rows, into one-batch <see cref="SampleBlock"/>s
/// (same order, so a channel's newest stored batch stays its highest sequence), and the emptied table is dropped.
/// A crash part-way leaves every row in exactly one of the two tables; the next start carries on. Cluster nodes
/// that start together take turns (an advisory lock on PostgreSQL; SQLite has one writer anyway).
/// </summary>
public static class LegacyChunks
{
    public const int Batch = 2000;

    /// <summary>Returns how many legacy rows were moved (0 when there was nothing to move).</summary>
    public static async Task<long> MoveAsync(DbFactory factory, CancellationToken ct = default)
    {
        long moved = 0;
        while (true)
        {
            await using var db = factory.Create();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (factory.Provider == StoreProvider.Postgres)
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7326002)", ct);
            if (!await TableExistsAsync(db, factory.Provider, ct)) return moved;
            var rows = await ReadAsync(db, ct);
            if (rows.Count == 0)
            {
                await db.Database.ExecuteSqlRawAsync("DROP TABLE \"SampleChunks\"", ct);
                await tx.CommitAsync(ct);
                return moved;
            }
            db.SampleBlocks.AddRange(rows.Select(r => SampleBlockCodec.Encode([r.Chunk])));
            await db.SaveChangesAsync(ct);
            await db.Database.ExecuteSqlRawAsync("DELETE FROM \"SampleChunks\" WHERE \"Id\" <= {0}", new object[] { rows[^1].Id }, ct);
            await tx.CommitAsync(ct);
            moved += rows.Count;
        }
    }

    private static async Task<bool> TableExistsAsync(SessionDb db, StoreProvider provider, CancellationToken ct)
    {
        await using var cmd = Command(db, provider == StoreProvider.Sqlite
            ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'SampleChunks'"
            : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'SampleChunks'");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static async Task<List<(long Id, SampleChunk Chunk)>> ReadAsync(SessionDb db, CancellationToken ct)
    {
        await using var cmd = Command(db, "SELECT \"Id\", \"SessionId\", \"DeviceId\", \"Channel\", \"Sequence\", \"DeviceTime\", \"SessionTime\", \"RateHz\", \"Count\", \"Data\", \"Late\" " +
            $"FROM \"SampleChunks\" ORDER BY \"Id\" LIMIT {Batch}");
        var rows = new List<(long, SampleChunk)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add((r.GetInt64(0), new SampleChunk
            {
                SessionId = r.GetString(1), DeviceId = r.GetString(2), Channel = r.GetString(3), Sequence = r.GetInt64(4), DeviceTime = r.GetDouble(5),
                SessionTime = r.GetDouble(6), RateHz = r.GetDouble(7), Count = r.GetInt32(8), Data = (byte[])r.GetValue(9), Late = r.GetBoolean(10),
            }));
        }
        return rows;
    }

    private static DbCommand Command(SessionDb db, string sql)
    {
        var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.Transaction = db.Database.CurrentTransaction!.GetDbTransaction();
        cmd.CommandText = sql;
        return cmd;
    }
}
