using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVret.Server.Audit;

/// <summary>
/// A signed statement that the audit chain had <see cref="Count"/> entries and entry #Count had hash
/// <see cref="Head"/> at <see cref="At"/>. Checkpoints are lines of an append-only JSON-lines file outside the
/// database; each names its ordinal in the file and the SHA-256 of the line before it, and is signed (ECDSA P-256,
/// SHA-256) over all its fields. <see cref="Legacy"/>: how many leading entries are plain SHA-256 links of a store
/// written before keyed links (sealed by the first checkpoint, the same in every one).
/// </summary>
public sealed record AuditCheckpoint(
    [property: JsonPropertyName("ordinal")] long Ordinal,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("head")] string Head,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("legacy")] long Legacy,
    [property: JsonPropertyName("previous")] string Previous,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("signature")] string Signature)
{
    public byte[] SignedBytes() => Encoding.UTF8.GetBytes(string.Join('\n', "openvret-audit-checkpoint/1",
        Ordinal.ToString(CultureInfo.InvariantCulture), Count.ToString(CultureInfo.InvariantCulture), Head,
        At.UtcTicks.ToString(CultureInfo.InvariantCulture), Legacy.ToString(CultureInfo.InvariantCulture), Previous, Key));

    public static AuditCheckpoint Sign(ECDsa key, string keyId, long ordinal, long count, string head, DateTimeOffset at, long legacy, string previous)
    {
        var c = new AuditCheckpoint(ordinal, count, head, at.ToUniversalTime(), legacy, previous, keyId, "");
        return c with { Signature = Convert.ToBase64String(key.SignData(c.SignedBytes(), HashAlgorithmName.SHA256)) };
    }

    public bool SignatureHolds(ECDsa key)
    {
        try { return key.VerifyData(SignedBytes(), Convert.FromBase64String(Signature), HashAlgorithmName.SHA256); }
        catch (FormatException) { return false; }
    }

    public string ToLine() => JsonSerializer.Serialize(this);

    public static string LineHash(string line) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(line)));
}

/// <summary>The checkpoint files: one per writing node (<c>*.jsonl</c> in the checkpoint folder), read for verification.</summary>
public static class AuditCheckpointFiles
{
    public const string Extension = ".jsonl";

    public static string Folder(ServerOptions o) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(o.AuditCheckpointFolder) ? Path.Combine(o.DataFolder, "audit-checkpoints") : o.AuditCheckpointFolder, o.DataFolder);

    /// <summary>This node's file: checkpoints.jsonl, or one per node (address and silo port) in cluster mode, so nodes never append to one file.</summary>
    public static string FileOf(ServerOptions o) => Path.Combine(Folder(o), o.IsCluster
        ? $"checkpoints-{new string(o.AdvertisedAddress.Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-').ToArray())}-{o.SiloPort}{Extension}"
        : "checkpoints" + Extension);

    /// <summary>The checkpoint files a path names: the file itself, or every *.jsonl in the folder (none when it does not exist).</summary>
    public static IReadOnlyList<string> FilesAt(string path) =>
        File.Exists(path) ? [path]
        : Directory.Exists(path) ? Directory.GetFiles(path, "*" + Extension).OrderBy(f => f, StringComparer.Ordinal).ToList()
        : [];

    public sealed record Line(string File, int Number, string Text, AuditCheckpoint? Checkpoint, string? Error);

    public static IEnumerable<Line> Read(string file)
    {
        string text = File.ReadAllText(file);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string l = lines[i];
            if (i == lines.Length - 1 && l.Length == 0) yield break;   // the newline that ends the last line
            AuditCheckpoint? c = null;
            string? error = null;
            if (i == lines.Length - 1) error = "the last line is incomplete (the file was cut)";
            else
            {
                try { c = JsonSerializer.Deserialize<AuditCheckpoint>(l); }
                catch (JsonException e) { error = $"not a checkpoint ({e.Message})"; }
                if (c is not null && (c.Head is null || c.Previous is null || c.Key is null || c.Signature is null)) { c = null; error = "a checkpoint field is missing"; }
                if (c is null && error is null) error = "not a checkpoint";
            }
            yield return new Line(file, i + 1, l, c, error);
        }
    }
}

/// <summary>
/// The server side of checkpoints: the store writer reports each commit's chain head (<see cref="Advance"/>, no I/O
/// on its thread); a background loop appends a signed checkpoint (synced to disk) when the head moved, at most once
/// per <c>OpenVret:AuditCheckpointSeconds</c>; one is written at start-up (sealing what the store holds, a legacy
/// prefix included) and one at shutdown.
/// </summary>
public sealed class AuditSeal : IAsyncDisposable
{
    public AuditKeys Keys { get; }
    public string File { get; }
    private readonly TimeProvider _clock;
    private readonly TimeSpan _interval;
    private readonly Action<string> _warn;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _ordinal;
    private string _previousLine = "";
    private (long Count, string Head) _written = (-1, "");
    private (long Count, string Head) _latest;
    /// <summary>Leading plain SHA-256 entries of an older store; everything after them is keyed.</summary>
    public long Legacy { get; private set; }
    public long Written { get; private set; }
    /// <summary>Set at start-up when the stored chain does not extend this node's last checkpoint (also logged).</summary>
    public string? StartupProblem { get; private set; }

    public AuditSeal(AuditKeys keys, string file, TimeProvider clock, TimeSpan interval, Action<string>? warn = null)
    {
        if (keys.LinkKey is null || keys.Signer is null) throw new ArgumentException("the seal needs the link key and the signing key", nameof(keys));
        Keys = keys; File = file; _clock = clock; _interval = interval; _warn = warn ?? (_ => { });
    }

    /// <summary>
    /// Called once by the store writer with the chain's tail. The legacy prefix comes from this node's last checkpoint,
    /// else from <paramref name="legacyScan"/> (the last plain SHA-256 entry of the store). Writes the start-up checkpoint.
    /// </summary>
    public void Start(long count, string head, Func<long> legacyScan, Func<long, string?>? hashAt = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(File)!);
        AuditCheckpoint? last = null;
        if (System.IO.File.Exists(File))
        {
            string text = System.IO.File.ReadAllText(File);
            if (text.Length > 0 && !text.EndsWith('\n'))
            {
                // A line cut by a crash (or by someone): keep it, on a line of its own, for verification to report.
                _warn($"the audit checkpoint file's last line is incomplete; verification will report it");
                System.IO.File.AppendAllText(File, "\n");
                text += "\n";
            }
            foreach (var line in AuditCheckpointFiles.Read(File))
            {
                if (line.Checkpoint is not null) { last = line.Checkpoint; _ordinal = line.Checkpoint.Ordinal; }
                _previousLine = line.Text;
            }
        }
        if (last is not null)
        {
            // The chain must still extend what this node signed last; if not, the store was tampered with while it was down.
            string? signed = last.Count > count ? null : last.Count == 0 ? AuditChain.Genesis : last.Count == count ? head : hashAt?.Invoke(last.Count);
            if (signed != last.Head)
            {
                StartupProblem = $"the audit chain ({count} entries) does not extend this node's last checkpoint (#{last.Ordinal}, count {last.Count}): entries were removed or rewritten; run `openvret audit verify`";
                _warn(StartupProblem);
            }
        }
        Legacy = last?.Legacy ?? (head.StartsWith(AuditChain.KeyedPrefix, StringComparison.Ordinal) || count == 0 ? legacyScan() : count);
        if (last is null && count > Legacy && !Directory.EnumerateFiles(Path.GetDirectoryName(File)!, "*.jsonl").Any(f => f != File))
        {
            // Keyed entries exist, yet no checkpoint anywhere in the folder: removed (or a new cluster node with its own folder).
            StartupProblem = $"the audit trail has {count - Legacy} keyed entries but no checkpoint file in {Path.GetFileName(Path.GetDirectoryName(File))}: checkpoints were removed, unless this is a new cluster node; `openvret audit verify` will report it";
            _warn(StartupProblem);
        }
        if (last is not null) _written = (last.Count, last.Head);
        _latest = (count, head);
        WriteIfMoved(force: last is null);
        _loop = Task.Run(Loop);
    }

    /// <summary>The chain's head after a commit that appended audit entries. Cheap: remembers it and wakes the loop.</summary>
    public void Advance(long count, string head)
    {
        lock (_gate) { if (count > _latest.Count) _latest = (count, head); }
        try { _signal.Release(); } catch (SemaphoreFullException) { }
    }

    /// <summary>Writes a checkpoint now if the head moved since the last one (tests, shutdown).</summary>
    public async Task FlushAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try { WriteLocked(false); }
        finally { _writeLock.Release(); }
    }

    private void WriteIfMoved(bool force)
    {
        _writeLock.Wait();
        try { WriteLocked(force); }
        finally { _writeLock.Release(); }
    }

    private void WriteLocked(bool force)
    {
        (long Count, string Head) state;
        lock (_gate) state = _latest;
        if (!force && state == _written) return;
        var c = AuditCheckpoint.Sign(Keys.Signer!, Keys.KeyId!, _ordinal + 1, state.Count, state.Head, _clock.GetUtcNow(), Legacy,
            _previousLine.Length == 0 ? "" : AuditCheckpoint.LineHash(_previousLine));
        string line = c.ToLine();
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        using (var f = new FileStream(File, options))
        {
            f.Write(Encoding.UTF8.GetBytes(line + "\n"));
            f.Flush(flushToDisk: true);
        }
        _ordinal++;
        _previousLine = line;
        _written = state;
        Written++;
    }

    private async Task Loop()
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync(_stop.Token).ConfigureAwait(false);
                try { await FlushAsync().ConfigureAwait(false); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _warn($"could not write an audit checkpoint: {e.Message}");
                }
                if (_interval > TimeSpan.Zero) await Task.Delay(_interval, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        try { await FlushAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _warn($"could not write the last audit checkpoint: {e.Message}"); }
    }
}
