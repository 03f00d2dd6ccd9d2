using Microsoft.Extensions.Logging.Abstractions;
using OpenVret.Server.Data;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>Group commit on a real SQLite file: paced commits gather what arrives meanwhile; nothing is lost or acknowledged early.</summary>
public class StoreWriterTests
{
    private static async Task<(StoreWriter Writer, DbFactory Db, string Folder)> Open(TimeSpan interval)
    {
        var folder = Path.Combine(Path.GetTempPath(), "openvret-store-" + Guid.NewGuid().ToString("N")[..8]);
        var db = new DbFactory(new ServerOptions { DataFolder = folder });
        await db.MigrateAsync();
        return (new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance, interval), db, folder);
    }

    private static SampleChunk Chunk(int seq) => new()
    {
        SessionId = "s1", DeviceId = "d1", Channel = "ecg", Sequence = seq, DeviceTime = seq * 0.1, SessionTime = seq * 0.1, RateHz = 250, Count = 25, Data = new byte[100],
    };

    [Fact]
    public async Task Paced_commits_gather_the_chunks_that_arrive_meanwhile_and_store_every_one()
    {
        var (writer, db, folder) = await Open(TimeSpan.FromMilliseconds(150));
        try
        {
            var acks = new List<Task>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 60; i++) { acks.Add(writer.Chunk(Chunk(i))); await Task.Delay(5); } // ~300 ms of arrivals (longer on a busy machine)
            await Task.WhenAll(acks);
            // Commit starts are 150 ms apart, so however long the arrivals took there are at most about
            // elapsed / 150 ms + 1 commits (140 ms here: a timer may fire a few ms early): a handful, not one per chunk.
            long most = (long)(clock.Elapsed.TotalMilliseconds / 140) + 1;
            Assert.InRange(writer.Commits, 2, Math.Min(most, 30));
            await using var ctx = db.Create();
            Assert.Equal(60, (await Stored.ChunkCountAsync(ctx, "s1")));
        }
        finally { await writer.DisposeAsync(); Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); Directory.Delete(folder, true); }
    }

    [Fact]
    public async Task Without_pacing_a_lone_chunk_is_committed_at_once()
    {
        var (writer, db, folder) = await Open(TimeSpan.Zero);
        try
        {
            for (int i = 0; i < 5; i++) await writer.Chunk(Chunk(i)); // each acknowledged before the next is sent
            Assert.Equal(5, writer.Commits);
            await using var ctx = db.Create();
            Assert.Equal(5, (await Stored.ChunkCountAsync(ctx, "s1")));
        }
        finally { await writer.DisposeAsync(); Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); Directory.Delete(folder, true); }
    }

    [Theory]
    [InlineData("StoreCommitIntervalMs", -5)]
    [InlineData("StoreCommitIntervalMs", double.NaN)]
    [InlineData("PostgresMaxPoolSize", 0)]
    [InlineData("SqliteCacheMiB", 1)]
    public void A_store_setting_no_deployment_means_is_refused_naming_it(string option, double value)
    {
        var o = new ServerOptions { DataFolder = Path.GetTempPath() };
        switch (option)
        {
            case "StoreCommitIntervalMs": o.StoreCommitIntervalMs = value; break;
            case "PostgresMaxPoolSize": o.PostgresMaxPoolSize = (int)value; break;
            default: o.SqliteCacheMiB = (int)value; break;
        }
        var e = Assert.Throws<InvalidOperationException>(() => new DbFactory(o));
        Assert.Contains($"OpenVret:{option} = {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}", e.Message);
    }
}
