using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using OpenVret.Server.Api;
using OpenVret.Server.Cluster;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>One stored row per device message: the codec, the hello's "last durable sequence", and upgrading an older store.</summary>
public class SampleBlockTests
{
    private static SampleChunk Chunk(string channel, long seq, int count, bool late = false, string device = "d1") => new()
    {
        SessionId = "s1", DeviceId = device, Channel = channel, Sequence = seq, DeviceTime = seq * 0.1 + 1000, SessionTime = seq * 0.1 - 0.05, RateHz = count * 10,
        Count = count, Data = Enumerable.Range(0, count).SelectMany(i => BitConverter.GetBytes((float)(seq * 1000 + i) / 7f)).ToArray(), Late = late,
    };

    [Fact]
    public void A_block_round_trips_every_batch_bit_for_bit()
    {
        var chunks = new[] { Chunk("ecg", 12, 25), Chunk("bvp", 3, 7, late: true), Chunk("eda-µS", 99, 1) };
        var block = SampleBlockCodec.Encode(chunks);
        Assert.Equal(33, block.Count);
        Assert.Equal(chunks.Min(c => c.SessionTime), block.SessionTime);
        var back = SampleBlockCodec.Decode(block);
        Assert.Equal(chunks.Length, back.Count);
        for (int i = 0; i < chunks.Length; i++)
        {
            Assert.Equal((chunks[i].SessionId, chunks[i].DeviceId, chunks[i].Channel, chunks[i].Sequence, chunks[i].Late, chunks[i].Count),
                (back[i].SessionId, back[i].DeviceId, back[i].Channel, back[i].Sequence, back[i].Late, back[i].Count));
            Assert.Equal(chunks[i].DeviceTime, back[i].DeviceTime);
            Assert.Equal(chunks[i].SessionTime, back[i].SessionTime);
            Assert.Equal(chunks[i].RateHz, back[i].RateHz);
            Assert.Equal(chunks[i].Data, back[i].Data);
        }
        Assert.Equal(new[] { ("ecg", 12L, false), ("bvp", 3L, true), ("eda-µS", 99L, false) }, SampleBlockCodec.Heads(block));
    }

    [Fact]
    public void A_damaged_block_is_reported_naming_the_block_and_what_is_wrong_never_misread()
    {
        var good = SampleBlockCodec.Encode(new[] { Chunk("ecg", 1, 25), Chunk("bvp", 1, 7) });
        good.Id = 42;
        SampleBlock With(byte[] data) => new() { Id = 42, SessionId = "s1", DeviceId = "d1", Data = data };
        var truncated = Assert.Throws<InvalidDataException>(() => SampleBlockCodec.Decode(With(good.Data[..^3])));
        Assert.Contains("sample block 42", truncated.Message);
        Assert.Contains("bvp:1", truncated.Message);
        var extra = Assert.Throws<InvalidDataException>(() => SampleBlockCodec.Decode(With([.. good.Data, 0])));
        Assert.Contains("1 bytes left over", extra.Message);
        var version = good.Data.ToArray(); version[0] = 9;
        Assert.Contains("version = 9", Assert.Throws<InvalidDataException>(() => SampleBlockCodec.Heads(With(version))).Message);
        Assert.Throws<InvalidDataException>(() => SampleBlockCodec.Decode(With([1])));
        Assert.Throws<ArgumentException>(() => SampleBlockCodec.Encode(new[] { Chunk("ecg", 1, 25), Chunk("ecg", 2, 25, device: "d2") }));
    }

    private static async Task<(DbFactory Db, string Folder)> NewStore()
    {
        var folder = Path.Combine(Path.GetTempPath(), "openvret-blocks-" + Guid.NewGuid().ToString("N")[..8]);
        var db = new DbFactory(new ServerOptions { DataFolder = folder });
        await db.MigrateAsync();
        return (db, folder);
    }

    [Fact]
    public async Task A_hello_learns_each_channels_highest_durable_sequence_even_after_late_batches()
    {
        var (db, folder) = await NewStore();
        try
        {
            var writer = new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance);
            await writer.Chunks(new[] { Chunk("ecg", 0, 25), Chunk("bvp", 0, 7) });
            await writer.Chunks(new[] { Chunk("ecg", 1, 25) });
            await writer.Chunks(new[] { Chunk("ecg", 3, 25) });                    // 2 missing
            await writer.Chunks(new[] { Chunk("ecg", 2, 25, late: true) });        // the gap filled late: newest row, not the highest
            await writer.Chunks(new[] { Chunk("ecg", 7, 25, device: "d2") });      // another device of the session
            for (int i = 0; i < 40; i++) await writer.Chunks(new[] { Chunk("acc", i, 4) }); // pages of 32 rows are crossed
            await writer.DisposeAsync();

            var (stored, _, lastEvent, _) = await DeviceState.StoredAsync(db, "s1", "d1", new[] { "ecg", "bvp", "eda" });
            Assert.Equal(new Dictionary<string, long> { ["ecg"] = 3, ["bvp"] = 0 }, stored);
            Assert.Equal(-1, lastEvent);
            var (d2, _, _, _) = await DeviceState.StoredAsync(db, "s1", "d2", new[] { "ecg" });
            Assert.Equal(7, d2["ecg"]);
        }
        finally { Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); Directory.Delete(folder, true); }
    }

    [Fact]
    public async Task Readers_keep_the_first_copy_of_a_batch_stored_twice()
    {
        var (db, folder) = await NewStore();
        try
        {
            await using (var ctx = db.Create())
            {
                ctx.SampleBlocks.Add(SampleBlockCodec.Encode(new[] { Chunk("ecg", 0, 25), Chunk("bvp", 0, 7) }));
                var again = Chunk("ecg", 0, 25); again.Data = new byte[100];             // e.g. two nodes during a failover
                ctx.SampleBlocks.Add(SampleBlockCodec.Encode(new[] { again, Chunk("ecg", 1, 25) }));
                await ctx.SaveChangesAsync();
            }
            await using var read = db.Create();
            var chunks = await SessionExport.StoredChunksAsync(read, "s1");
            Assert.Equal(new[] { ("ecg", 0L), ("bvp", 0L), ("ecg", 1L) }, chunks.Select(c => (c.Channel, c.Sequence)));
            Assert.Equal(Chunk("ecg", 0, 25).Data, chunks[0].Data);
        }
        finally { Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); Directory.Delete(folder, true); }
    }

    [Fact]
    public async Task An_export_over_a_damaged_block_fails_naming_the_block_instead_of_writing_a_wrong_archive()
    {
        var (db, folder) = await NewStore();
        try
        {
            await using (var ctx = db.Create())
            {
                ctx.Sessions.Add(new SessionRecord { Id = "s1", PatientId = "p1", Scheduler = "inhibitory", Mode = "manual", CreatedAt = DateTimeOffset.UtcNow });
                ctx.SampleBlocks.Add(SampleBlockCodec.Encode(new[] { Chunk("ecg", 0, 25) }));
                var damaged = SampleBlockCodec.Encode(new[] { Chunk("ecg", 1, 25) });
                damaged.Data = damaged.Data[..^10];                                     // e.g. a torn page
                ctx.SampleBlocks.Add(damaged);
                await ctx.SaveChangesAsync();
            }
            await using var read = db.Create();
            var e = await Assert.ThrowsAsync<InvalidDataException>(() => SessionExport.ArchiveAsync(read, "s1"));
            Assert.Contains("sample block 2", e.Message);
            Assert.Contains("ecg:1", e.Message);
        }
        finally { Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); Directory.Delete(folder, true); }
    }

    [Fact]
    public async Task Upgrading_a_store_with_per_channel_rows_moves_every_row_into_blocks_in_order_and_drops_the_old_table()
    {
        var (db, folder) = await NewStore();
        try
        {
            // The table as the previous migrations created it on SQLite.
            await UpgradeAsync(db, """
                CREATE TABLE "SampleChunks" ("Id" INTEGER NOT NULL CONSTRAINT "PK_SampleChunks" PRIMARY KEY AUTOINCREMENT, "SessionId" TEXT NOT NULL,
                "DeviceId" TEXT NOT NULL, "Channel" TEXT NOT NULL, "Sequence" INTEGER NOT NULL, "DeviceTime" REAL NOT NULL, "SessionTime" REAL NOT NULL,
                "RateHz" REAL NOT NULL, "Count" INTEGER NOT NULL, "Data" BLOB NOT NULL, "Late" INTEGER NOT NULL)
                """, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'SampleChunks'");
        }
        finally { Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); Directory.Delete(folder, true); }
    }

    [PostgresFact]
    public async Task Upgrading_a_PostgreSQL_store_with_per_channel_rows_moves_them_too()
    {
        var connection = await TestPostgres.NewDatabaseAsync();
        try
        {
            var db = new DbFactory(new ServerOptions { PostgresConnection = connection });
            await db.MigrateAsync();
            // The table as the previous migrations created it on PostgreSQL.
            await UpgradeAsync(db, """
                CREATE TABLE "SampleChunks" ("Id" bigint GENERATED BY DEFAULT AS IDENTITY CONSTRAINT "PK_SampleChunks" PRIMARY KEY, "SessionId" text NOT NULL,
                "DeviceId" text NOT NULL, "Channel" text NOT NULL, "Sequence" bigint NOT NULL, "DeviceTime" double precision NOT NULL,
                "SessionTime" double precision NOT NULL, "RateHz" double precision NOT NULL, "Count" integer NOT NULL, "Data" bytea NOT NULL, "Late" boolean NOT NULL)
                """, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'SampleChunks'");
        }
        finally { await TestPostgres.DropDatabaseAsync(connection); }
    }

    /// <summary>Fills the legacy table with rows as the previous server wrote them, starts the store again, and checks every row moved in order.</summary>
    private static async Task UpgradeAsync(DbFactory db, string createLegacyTable, string legacyTableCount)
    {
        var legacy = Enumerable.Range(0, LegacyChunks.Batch + 5).Select(i => Chunk(i % 3 == 0 ? "bvp" : "ecg", i, 1 + i % 5, late: i % 7 == 0)).ToList();
        await using (var ctx = db.Create())
        {
            await ctx.Database.ExecuteSqlRawAsync(createLegacyTable);
            foreach (var c in legacy)
                await ctx.Database.ExecuteSqlRawAsync("INSERT INTO \"SampleChunks\" (\"SessionId\", \"DeviceId\", \"Channel\", \"Sequence\", \"DeviceTime\", \"SessionTime\", \"RateHz\", \"Count\", \"Data\", \"Late\") VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9})",
                    c.SessionId, c.DeviceId, c.Channel, c.Sequence, c.DeviceTime, c.SessionTime, c.RateHz, c.Count, c.Data, c.Late);
        }
        Assert.Equal(legacy.Count, await db.MigrateAsync());
        Assert.Equal(0, await db.MigrateAsync());                                 // the next start has nothing to move
        await using var read = db.Create();
        var moved = await SessionExport.StoredChunksAsync(read, "s1");
        Assert.Equal(legacy.Select(c => (c.Channel, c.Sequence, c.Count, c.SessionTime, c.Late)), moved.Select(c => (c.Channel, c.Sequence, c.Count, c.SessionTime, c.Late)));
        Assert.True(legacy.Zip(moved).All(p => p.First.Data.SequenceEqual(p.Second.Data)));
        await read.Database.OpenConnectionAsync();
        await using var cmd = read.Database.GetDbConnection().CreateCommand();
        cmd.CommandText = legacyTableCount;
        Assert.Equal(0L, Convert.ToInt64(await cmd.ExecuteScalarAsync()));
    }
}
