using Npgsql;

namespace OpenVret.Server.Cluster;

/// <summary>
/// The tables and queries Orleans' ADO.NET clustering provider (Microsoft.Orleans.Clustering.AdoNet) needs in the
/// clinic network's PostgreSQL database, created when a cluster node starts.
/// <para>
/// The provider reads its queries from a table (<c>OrleansQuery</c>) and binds them by name: each query's parameter
/// names and result column names are the contract, the SQL is the database's own. Orleans ships its PostgreSQL
/// scripts only in its source repository, not in the NuGet package, so OpenVret writes this schema itself to that
/// contract. A database already set up with Orleans' own scripts is left as it is: tables are created only when
/// missing, and only query texts written by OpenVret (marked <c>-- openvret</c>) are ever replaced.
/// </para>
/// <para>
/// Membership writes are optimistic: the table version row must still hold the version the node last read, and the
/// version moves on in the same statement as the row it guards. Heartbeats (IAmAlive) touch only the row's time.
/// </para>
/// </summary>
public static class OrleansSchema
{
    /// <summary>The provider's name for Npgsql (OpenVret's cluster mode runs on PostgreSQL only).</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Marks the query texts written here; those, and only those, are replaced when they change.</summary>
    private const string Mark = "-- openvret clustering v1\n";

    /// <summary>Dead silos: the value of Orleans' <c>SiloStatus.Dead</c>.</summary>
    private const int Dead = 6;

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS OrleansQuery (
            QueryKey varchar(64) NOT NULL PRIMARY KEY,
            QueryText text NOT NULL);
        CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable (
            DeploymentId varchar(150) NOT NULL PRIMARY KEY,
            Timestamp timestamptz NOT NULL DEFAULT now(),
            Version integer NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS OrleansMembershipTable (
            DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId) ON DELETE CASCADE,
            Address varchar(45) NOT NULL,
            Port integer NOT NULL,
            Generation integer NOT NULL,
            SiloName varchar(150) NOT NULL,
            HostName varchar(150) NOT NULL,
            Status integer NOT NULL,
            ProxyPort integer NOT NULL,
            SuspectTimes varchar(8000) NULL,
            StartTime timestamptz NOT NULL,
            IAmAliveTime timestamptz NOT NULL,
            PRIMARY KEY (DeploymentId, Address, Port, Generation));
        """;

    /// <summary>One silo's row, by its address (the parameters every per-silo query shares).</summary>
    private const string Silo = "DeploymentId = @DeploymentId::varchar AND Address = @Address::varchar AND Port = @Port::int AND Generation = @Generation::int";

    private const string MemberColumns = "m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime";

    /// <summary>The queries by the provider's keys. Each returns what the provider reads by name (see the class remarks).</summary>
    public static readonly IReadOnlyDictionary<string, string> Queries = new Dictionary<string, string>
    {
        // A version row for the cluster, once: answers whether this call created it.
        ["InsertMembershipVersionKey"] = """
            WITH created AS (
                INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId::varchar)
                ON CONFLICT (DeploymentId) DO NOTHING RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM created);
            """,
        // A new silo's row, only if the table is still at the version the node read and the silo is not there yet.
        // (A new silo has no suspicions; the provider does not bind @SuspectTimes here, and an unbound @name would
        // reach PostgreSQL as an operator.)
        ["InsertMembershipKey"] = $"""
            WITH bumped AS (
                UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
                WHERE DeploymentId = @DeploymentId::varchar AND Version = @Version::int
                  AND NOT EXISTS (SELECT 1 FROM OrleansMembershipTable WHERE {Silo})
                RETURNING 1),
            inserted AS (
                INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime)
                SELECT @DeploymentId::varchar, @Address::varchar, @Port::int, @Generation::int, @SiloName::varchar, @HostName::varchar, @Status::int,
                       @ProxyPort::int, NULL, @StartTime::timestamptz, @IAmAliveTime::timestamptz
                FROM bumped
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM inserted);
            """,
        // A silo's status and suspicions, only if the table is still at the version the node read.
        ["UpdateMembershipKey"] = $"""
            WITH bumped AS (
                UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
                WHERE DeploymentId = @DeploymentId::varchar AND Version = @Version::int
                  AND EXISTS (SELECT 1 FROM OrleansMembershipTable WHERE {Silo})
                RETURNING 1),
            updated AS (
                UPDATE OrleansMembershipTable SET Status = @Status::int, SuspectTimes = @SuspectTimes::varchar, IAmAliveTime = @IAmAliveTime::timestamptz
                WHERE {Silo} AND EXISTS (SELECT 1 FROM bumped)
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM updated);
            """,
        // A heartbeat: the silo's time only; the table version does not move.
        ["UpdateIAmAlivetimeKey"] = $"UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime::timestamptz WHERE {Silo};",
        // The version, and the silo's row when there is one (a row with no StartTime means "no such silo").
        ["MembershipReadRowKey"] = $"""
            SELECT v.Version, {MemberColumns}
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
                AND m.Address = @Address::varchar AND m.Port = @Port::int AND m.Generation = @Generation::int
            WHERE v.DeploymentId = @DeploymentId::varchar;
            """,
        // The version and every silo's row, read in one statement (one snapshot).
        ["MembershipReadAllKey"] = $"""
            SELECT v.Version, {MemberColumns}
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
            WHERE v.DeploymentId = @DeploymentId::varchar;
            """,
        // Gateways for clients: active silos that accept client connections.
        ["GatewaysQueryKey"] = """
            SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId::varchar AND Status = @Status::int AND ProxyPort > 0;
            """,
        // The whole cluster's membership (its rows go with the version row).
        ["DeleteMembershipTableEntriesKey"] = "DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId::varchar;",
        // Dead silos not heard of since the given time.
        ["CleanupDefunctSiloEntriesKey"] = $"""
            DELETE FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId::varchar AND Status = {Dead}
              AND IAmAliveTime < @IAmAliveTime::timestamptz AND StartTime < @IAmAliveTime::timestamptz AND SuspectTimes IS NULL;
            """,
        // One dead silo's row, only if it is still exactly as the node read it.
        ["CleanupDefunctSiloEntryKey"] = $"""
            DELETE FROM OrleansMembershipTable
            WHERE {Silo} AND Status = {Dead}
              AND IAmAliveTime = @IAmAliveTime::timestamptz AND StartTime = @StartTime::timestamptz
              AND SuspectTimes IS NOT DISTINCT FROM @SuspectTimes::varchar;
            """,
    };

    /// <summary>
    /// Creates what is missing (tables, queries) and brings OpenVret's own query texts up to date. Nodes starting
    /// together take turns (a transaction-scoped advisory lock), so concurrent creation cannot collide.
    /// </summary>
    public static async Task EnsureAsync(string connectionString, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7326011)", connection, tx))
            await lockCmd.ExecuteNonQueryAsync(ct);
        await using (var create = new NpgsqlCommand(Tables, connection, tx))
            await create.ExecuteNonQueryAsync(ct);
        foreach (var (key, text) in Queries)
        {
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES (@key, @text)
                ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText
                WHERE OrleansQuery.QueryText LIKE '-- openvret%' AND OrleansQuery.QueryText <> EXCLUDED.QueryText;
                """, connection, tx);
            upsert.Parameters.AddWithValue("key", key);
            upsert.Parameters.AddWithValue("text", Mark + text);
            await upsert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>One silo as the membership table holds it (diagnostics and tests).</summary>
    public sealed record Member(string Address, int Port, int Generation, string SiloName, int Status, DateTime IAmAliveTime);

    /// <summary>The silos the membership table lists: of one cluster, or of every cluster in the database.</summary>
    public static async Task<IReadOnlyList<Member>> MembersAsync(string connectionString, string? clusterId = null, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT Address, Port, Generation, SiloName, Status, IAmAliveTime FROM OrleansMembershipTable WHERE @id::varchar IS NULL OR DeploymentId = @id::varchar ORDER BY StartTime", connection);
        cmd.Parameters.AddWithValue("id", (object?)clusterId ?? DBNull.Value);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<Member>();
        while (await r.ReadAsync(ct)) list.Add(new Member(r.GetString(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetInt32(4), r.GetDateTime(5)));
        return list;
    }
}
