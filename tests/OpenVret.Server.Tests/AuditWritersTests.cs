using Microsoft.Extensions.Logging.Abstractions;
using OpenVret.Server.Audit;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>Cluster nodes each run a store writer on one PostgreSQL database: their audit appends must form one intact chain.</summary>
public class AuditWritersTests
{
    [PostgresFact]
    public async Task Two_writers_append_to_one_intact_audit_chain()
    {
        var connection = await TestPostgres.NewDatabaseAsync();
        var folder = Path.Combine(Path.GetTempPath(), "openvret-audit-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // Two cluster nodes: the same keys (configuration), one checkpoint file each in one folder.
            ServerOptions Node(int port) => new() { PostgresConnection = connection, DataFolder = folder, Hosting = "cluster", SiloPort = port };
            var db = new DbFactory(Node(1));
            await db.MigrateAsync();
            using var keys = AuditKeys.LoadOrCreate(Node(1));
            await using var a = new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance, default,
                new AuditSeal(keys, AuditCheckpointFiles.FileOf(Node(1)), TimeProvider.System, TimeSpan.Zero));
            await using var b = new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance, default,
                new AuditSeal(keys, AuditCheckpointFiles.FileOf(Node(2)), TimeProvider.System, TimeSpan.Zero));
            var writes = new List<Task>();
            for (int i = 0; i < 150; i++)
            {
                writes.Add(a.Audit("node-a", "test", null, $"a{i}"));
                writes.Add(b.Audit("node-b", "test", null, $"b{i}"));
                if (i % 10 == 0) await Task.Delay(5);
            }
            await Task.WhenAll(writes);
            await a.Seal!.FlushAsync();
            await b.Seal!.FlushAsync();
            Assert.Equal(2, AuditCheckpointFiles.FilesAt(AuditCheckpointFiles.Folder(Node(1))).Count);
            await using var ctx = db.Create();
            var v = await AuditChain.VerifyAsync(ctx, new AuditChain.Verifier(keys.LinkKey, keys.Verifier, AuditCheckpointFiles.Folder(Node(1))));
            Assert.True(v.Intact, v.Message);
            Assert.Equal(300, v.Entries);
            Assert.True(v.Checkpoints >= 4, v.Message);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(connection);
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }
}
