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
        try
        {
            var options = new ServerOptions { PostgresConnection = connection, DataFolder = Path.GetTempPath() };
            var db = new DbFactory(options);
            await db.MigrateAsync();
            await using var a = new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance);
            await using var b = new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance);
            var writes = new List<Task>();
            for (int i = 0; i < 150; i++)
            {
                writes.Add(a.Audit("node-a", "test", null, $"a{i}"));
                writes.Add(b.Audit("node-b", "test", null, $"b{i}"));
                if (i % 10 == 0) await Task.Delay(5);
            }
            await Task.WhenAll(writes);
            await using var ctx = db.Create();
            var v = await AuditChain.VerifyAsync(ctx);
            Assert.True(v.Intact, v.Message);
            Assert.Equal(300, v.Entries);
        }
        finally { await TestPostgres.DropDatabaseAsync(connection); }
    }
}
