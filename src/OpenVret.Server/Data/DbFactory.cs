using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace OpenVret.Server.Data;

public enum StoreProvider { Sqlite, Postgres }

/// <summary>Creates contexts for the configured provider; applies migrations at start-up.</summary>
public sealed class DbFactory
{
    private readonly DbContextOptions<SqliteSessionDb>? _sqlite;
    private readonly DbContextOptions<PostgresSessionDb>? _postgres;
    public StoreProvider Provider { get; }
    /// <summary>Where the store is, without credentials (for logs and health output).</summary>
    public string Description { get; }

    public DbFactory(ServerOptions options)
    {
        options.ValidateStore();
        if (!string.IsNullOrWhiteSpace(options.PostgresConnection))
        {
            Provider = StoreProvider.Postgres;
            var b = new Npgsql.NpgsqlConnectionStringBuilder(options.PostgresConnection);
            // Npgsql's default pool (100) equals PostgreSQL's default max_connections: a storm of device
            // connections then gets "53300: remaining connection slots are reserved" and 500s. A smaller pool makes
            // requests wait for a connection instead (nodes x pool must stay below max_connections).
            if (!System.Text.RegularExpressions.Regex.IsMatch(options.PostgresConnection, @"max(imum)?\s*pool\s*size", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
                b.MaxPoolSize = options.PostgresMaxPoolSize;
            _postgres = new DbContextOptionsBuilder<PostgresSessionDb>().UseNpgsql(b.ConnectionString).Options;
            Description = $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
        }
        else
        {
            Provider = StoreProvider.Sqlite;
            Directory.CreateDirectory(options.DataFolder);
            var path = Path.GetFullPath(Path.Combine(options.DataFolder, "openvret.db"));
            var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
            _sqlite = new DbContextOptionsBuilder<SqliteSessionDb>().UseSqlite(cs).AddInterceptors(new SqliteCacheSize(options.SqliteCacheMiB)).Options;
            Description = $"SQLite {path}";
        }
    }

    public SessionDb Create() => Provider == StoreProvider.Sqlite ? new SqliteSessionDb(_sqlite!) : new PostgresSessionDb(_postgres!);

    /// <summary>Applies migrations, then moves any per-channel sample rows of an older store into blocks; returns how many were moved.</summary>
    public async Task<long> MigrateAsync(CancellationToken ct = default)
    {
        await using var db = Create();
        await db.Database.MigrateAsync(ct);
        if (Provider == StoreProvider.Sqlite)
        {
            // WAL lets readers work beside the single writer. synchronous stays at SQLite's default (FULL): each
            // commit is synced to disk, durable on power loss too; group commit keeps that affordable.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        return await LegacyChunks.MoveAsync(this, ct);
    }
}

/// <summary>Sets SQLite's page cache on every connection EF Core opens (the pragma is per connection).</summary>
internal sealed class SqliteCacheSize(int mebibytes) : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    // wal_autocheckpoint=0: no connection checkpoints as a side effect of its commit (which would stall the store
    // writer, and with it every device's ack, while the WAL is copied into the database and synced); the store
    // writer's checkpointer does it beside the writer instead (see StoreWriter).
    private readonly string _pragma = $"PRAGMA cache_size=-{mebibytes * 1024}; PRAGMA wal_autocheckpoint=0;";

    public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = _pragma;
        cmd.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = _pragma;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
