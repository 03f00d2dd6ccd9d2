using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using OpenVret.Server.Audit;

namespace OpenVret.Server.Data;

/// <summary>
/// The single writer of the store (group commit): every session hands it sample chunks, session entries and
/// audit items; it writes whatever has queued up in one transaction and then completes each item's task, so
/// a device's batch is acknowledged only once it is durable, and thousands of small writes per second cost one
/// commit each few milliseconds. It also owns the audit chain: sequence numbers and hashes are assigned here,
/// in commit order, so the chain has exactly one writer.
/// </summary>
public sealed class StoreWriter : IAsyncDisposable
{
    private abstract record Item(TaskCompletionSource Done);
    private sealed record BlockItem(SampleBlock Block, TaskCompletionSource Done) : Item(Done);
    private sealed record EntryItem(SessionEntry Entry, TaskCompletionSource Done) : Item(Done);
    private sealed record AuditItem(string Actor, string Action, string? SessionId, string Detail, TaskCompletionSource Done) : Item(Done);
    private sealed record ActionItem(Func<SessionDb, Task> Action, TaskCompletionSource Done) : Item(Done);

    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DbFactory _db;
    /// <summary>The store this writer writes to (for reads that must see the same database).</summary>
    public DbFactory Db => _db;
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly Task _loop;
    private long _auditSequence;
    private string _auditHash = AuditChain.Genesis;

    public const int MaxBatch = 4000;
    public long Commits { get; private set; }
    public long ItemsWritten { get; private set; }
    public int Queued => _queue.Reader.CanCount ? _queue.Reader.Count : -1;

    private readonly TimeSpan _commitInterval;

    /// <summary>Keyed links and signed checkpoints of the audit chain; null: plain SHA-256 links (tools and tests of other parts only).</summary>
    public AuditSeal? Seal { get; }

    /// <param name="commitInterval">Least time between the starts of two commits (group commit); zero commits as soon as possible.</param>
    /// <param name="seal">The audit trail's keys and checkpoint file (the server always has one).</param>
    public StoreWriter(DbFactory db, TimeProvider clock, ILogger<StoreWriter> log, TimeSpan commitInterval = default, AuditSeal? seal = null)
    {
        _db = db; _clock = clock; _log = log; _commitInterval = commitInterval; Seal = seal;
        using (var ctx = db.Create())
        {
            var last = ctx.Audit.AsNoTracking().OrderByDescending(a => a.Sequence).FirstOrDefault();
            if (last is not null) { _auditSequence = last.Sequence; _auditHash = last.Hash; }
            // Seal what the store holds before anything is appended: a restart after a crash covers the entries the
            // last run could not checkpoint, and an older store's plain SHA-256 chain becomes the sealed legacy prefix.
            seal?.Start(_auditSequence, _auditHash, () => ctx.Audit.AsNoTracking().Where(a => !a.Hash.StartsWith(AuditChain.KeyedPrefix)).Max(a => (long?)a.Sequence) ?? 0,
                s => ctx.Audit.AsNoTracking().Where(a => a.Sequence == s).Select(a => a.Hash).FirstOrDefault());
        }
        _loop = Task.Run(Loop);
        if (db.Provider == StoreProvider.Sqlite) _checkpoints = Task.Run(CheckpointLoop);
    }

    private readonly Task? _checkpoints;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>
    /// SQLite only: copies the write-ahead log into the database once a second on a connection of its own. A passive
    /// checkpoint runs beside the writer (it never blocks a commit), so commits, and the acks waiting for them, do
    /// not stall while megabytes of log are copied and synced. Every connection has automatic checkpoints off.
    /// </summary>
    private async Task CheckpointLoop()
    {
        using var timer = new PeriodicTimer(CheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) await Checkpoint("PASSIVE").ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
    }

    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private async Task Checkpoint(string mode)
    {
        try
        {
            await using var db = _db.Create();
            await db.Database.ExecuteSqlRawAsync($"PRAGMA wal_checkpoint({mode});").ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogWarning("WAL checkpoint ({Mode}) failed: {Error}", mode, e.GetBaseException().Message);
        }
    }

    public Task Chunk(SampleChunk c) => Chunks([c]);
    /// <summary>
    /// The accepted batches of one device message, acknowledged together: stored as one <see cref="SampleBlock"/>, in
    /// the order they are enqueued. They are encoded here, on the caller's thread, not on the single writer's.
    /// Batches the codec refuses (of several devices, say) give a failed task, like a failed commit.
    /// </summary>
    public Task Chunks(IReadOnlyList<SampleChunk> c)
    {
        SampleBlock block;
        try { block = SampleBlockCodec.Encode(c); }
        catch (ArgumentException e) { return Task.FromException(e); }
        return Enqueue(new BlockItem(block, NewTcs()));
    }
    public Task Entry(SessionEntry e) => Enqueue(new EntryItem(e, NewTcs()));
    public Task Audit(string actor, string action, string? sessionId, string detail) => Enqueue(new AuditItem(actor, action, sessionId, detail, NewTcs()));
    /// <summary>Runs an update (e.g. a session record change) in commit order with everything queued before it.</summary>
    public Task Run(Func<SessionDb, Task> action) => Enqueue(new ActionItem(action, NewTcs()));

    private static TaskCompletionSource NewTcs() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task Enqueue(Item item)
    {
        if (!_queue.Writer.TryWrite(item)) item.Done.TrySetException(new ObjectDisposedException(nameof(StoreWriter), "the store is shutting down"));
        return item.Done.Task;
    }

    private async Task Loop()
    {
        var batch = new List<Item>(MaxBatch);
        long lastCommit = 0;
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Pace commits: what arrives within the interval joins this commit instead of forcing its own.
            var since = lastCommit == 0 ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(lastCommit);
            if (since < _commitInterval) await Task.Delay(_commitInterval - since).ConfigureAwait(false);
            lastCommit = Stopwatch.GetTimestamp();
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                await Write(batch).ConfigureAwait(false);
                foreach (var i in batch) i.Done.TrySetResult();
            }
            catch (Exception e) when (batch.Count > 1)
            {
                // Isolate the item that fails so that the others are still written and acknowledged.
                _log.LogWarning("group commit of {Count} items failed ({Error}); writing them one by one", batch.Count, e.GetBaseException().Message);
                foreach (var i in batch)
                {
                    try { await Write(new List<Item> { i }).ConfigureAwait(false); i.Done.TrySetResult(); }
                    catch (Exception one) { i.Done.TrySetException(one); }
                }
            }
            catch (Exception e)
            {
                foreach (var i in batch) i.Done.TrySetException(e);
            }
        }
    }

    private async Task Write(List<Item> batch)
    {
        await using var db = _db.Create();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var tx = await db.Database.BeginTransactionAsync().ConfigureAwait(false);
        await InsertBlocks(db, batch.OfType<BlockItem>().Select(b => b.Block)).ConfigureAwait(false);
        long seq = _auditSequence;
        string hash = _auditHash;
        if (_db.Provider == StoreProvider.Postgres && batch.Any(i => i is AuditItem))
        {
            // Several writers (cluster nodes) may append to one chain: serialise appends in the database and
            // continue from the chain's real tail, not this writer's memory of it.
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7326001)").ConfigureAwait(false);
            var tail = await db.Audit.AsNoTracking().OrderByDescending(x => x.Sequence).Select(x => new { x.Sequence, x.Hash }).FirstOrDefaultAsync().ConfigureAwait(false);
            if (tail is not null) { seq = tail.Sequence; hash = tail.Hash; }
        }
        var actions = new List<Func<SessionDb, Task>>();
        foreach (var item in batch)
        {
            switch (item)
            {
                case EntryItem e: db.Entries.Add(e.Entry); break;
                case AuditItem a:
                    // Whole microseconds: what PostgreSQL's timestamptz keeps, so the hash still holds after a round trip.
                    var now = _clock.GetUtcNow();
                    var at = new DateTimeOffset(now.UtcTicks - now.UtcTicks % 10, TimeSpan.Zero);
                    seq++;
                    var entry = new AuditEntry { Sequence = seq, At = at, Actor = a.Actor, Action = a.Action, SessionId = a.SessionId, Detail = a.Detail, PreviousHash = hash, Hash = "" };
                    entry.Hash = Seal is null ? AuditChain.LegacyHashOf(entry) : AuditChain.KeyedHashOf(Seal.Keys.LinkKey!, entry);
                    hash = entry.Hash;
                    db.Audit.Add(entry);
                    break;
                case ActionItem x: actions.Add(x.Action); break;
            }
        }
        await db.SaveChangesAsync().ConfigureAwait(false);
        db.ChangeTracker.AutoDetectChangesEnabled = true;   // actions edit tracked entities
        foreach (var act in actions) await act(db).ConfigureAwait(false);
        await tx.CommitAsync().ConfigureAwait(false);
        if (seq != _auditSequence) Seal?.Advance(seq, hash);   // the checkpoint is written beside the writer, not on its thread
        _auditSequence = seq;
        _auditHash = hash;
        Commits++;
        ItemsWritten += batch.Count;
    }

    /// <summary>
    /// Sample blocks are the hot path (one per device message, thousands per second): inserted with prepared
    /// commands on the context's connection and transaction rather than through change tracking. The SQL is the
    /// same for SQLite and PostgreSQL (quoted identifiers, positional parameters named by the provider). Where the
    /// provider batches commands (Npgsql), up to <see cref="InsertBatch"/> inserts travel in one round trip; SQLite
    /// runs in-process and executes them one by one.
    /// </summary>
    private static async Task InsertBlocks(SessionDb db, IEnumerable<SampleBlock> blocks)
    {
        const string sql = "INSERT INTO \"SampleBlocks\" (\"SessionId\", \"DeviceId\", \"SessionTime\", \"Count\", \"Data\") VALUES (@s, @d, @t, @n, @x)";
        var conn = db.Database.GetDbConnection();
        var tx = db.Database.CurrentTransaction!.GetDbTransaction();
        if (conn.CanCreateBatch)
        {
            foreach (var group in blocks.Chunk(InsertBatch))
            {
                await using var batch = conn.CreateBatch();
                batch.Transaction = tx;
                foreach (var c in group)
                {
                    var cmd = batch.CreateBatchCommand();
                    cmd.CommandText = sql;
                    Bind(cmd.Parameters, cmd.CreateParameter, c);
                    batch.BatchCommands.Add(cmd);
                }
                await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            return;
        }
        System.Data.Common.DbCommand? one = null;
        try
        {
            foreach (var c in blocks)
            {
                if (one is null)
                {
                    one = conn.CreateCommand();
                    one.Transaction = tx;
                    one.CommandText = sql;
                    Bind(one.Parameters, one.CreateParameter, c);
                }
                else SetValues(one.Parameters, c);
                await one.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (one is not null) await one.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Inserts per round trip where the provider batches commands.</summary>
    public const int InsertBatch = 500;

    private static readonly string[] ParameterNames = { "@s", "@d", "@t", "@n", "@x" };

    private static void Bind(System.Data.Common.DbParameterCollection ps, Func<System.Data.Common.DbParameter> create, SampleBlock c)
    {
        foreach (var name in ParameterNames) { var p = create(); p.ParameterName = name; ps.Add(p); }
        SetValues(ps, c);
    }

    private static void SetValues(System.Data.Common.DbParameterCollection ps, SampleBlock c)
    {
        ps[0].Value = c.SessionId; ps[1].Value = c.DeviceId; ps[2].Value = c.SessionTime; ps[3].Value = c.Count; ps[4].Value = c.Data;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (Seal is not null) await Seal.DisposeAsync().ConfigureAwait(false);   // the shutdown checkpoint
        if (_checkpoints is not null)
        {
            _stop.Cancel();
            await _checkpoints.ConfigureAwait(false);
            await Checkpoint("TRUNCATE").ConfigureAwait(false);   // leave a compact database behind
        }
    }
}
