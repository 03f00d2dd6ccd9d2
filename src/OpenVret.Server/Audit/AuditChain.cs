using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;

namespace OpenVret.Server.Audit;

/// <summary>
/// The hash chain of the audit trail: how a link is hashed, and the check that finds tampering (docs/protocol.md,
/// "Audit trail"). A link's hash is HMAC-SHA256 under a key kept outside the database, written "h1:" + hex; a store
/// from before keyed links keeps its plain SHA-256 links (64 hex digits) as a prefix that the first checkpoint seals.
/// </summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";
    /// <summary>Scheme tag of keyed links.</summary>
    public const string KeyedPrefix = "h1:";
    /// <summary>
    /// Entries may stay uncovered by any checkpoint only while the newest entry is less than this much later than the
    /// first uncovered one: the server checkpoints within seconds of a commit, at start-up and at shutdown, so a longer
    /// uncovered stretch means checkpoints were removed (or could not be written, which the server logs).
    /// </summary>
    public static readonly TimeSpan UncoveredLimit = TimeSpan.FromSeconds(60);

    private static byte[] Message(long sequence, DateTimeOffset at, string actor, string action, string? sessionId, string detail, string previousHash, bool keyed = false)
    {
        // Length-prefixed fields: no two different entries share a byte string.
        var sb = new StringBuilder();
        void Field(string s) => sb.Append(s.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(s).Append('|');
        Field(previousHash);
        Field(sequence.ToString(CultureInfo.InvariantCulture));
        Field(at.UtcTicks.ToString(CultureInfo.InvariantCulture));
        Field(actor);
        Field(action);
        // Keyed links tell "no session" from an empty one (a NULL edited to '' is a change); legacy links cannot.
        if (sessionId is null && keyed) sb.Append("-|"); else Field(sessionId ?? "");
        Field(detail);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The plain SHA-256 link of stores written before keyed links (anyone can compute it: tamper-evident only against accidents).</summary>
    public static string LegacyHashOf(long sequence, DateTimeOffset at, string actor, string action, string? sessionId, string detail, string previousHash) =>
        Convert.ToHexStringLower(SHA256.HashData(Message(sequence, at, actor, action, sessionId, detail, previousHash)));

    public static string LegacyHashOf(AuditEntry e) => LegacyHashOf(e.Sequence, e.At, e.Actor, e.Action, e.SessionId, e.Detail, e.PreviousHash);

    /// <summary>The keyed link: "h1:" + HMAC-SHA256(key, "h1" + fields).</summary>
    public static string KeyedHashOf(byte[] key, long sequence, DateTimeOffset at, string actor, string action, string? sessionId, string detail, string previousHash)
    {
        var m = Message(sequence, at, actor, action, sessionId, detail, previousHash, keyed: true);
        var tagged = new byte[m.Length + 3];
        Encoding.ASCII.GetBytes("h1|", tagged);
        m.CopyTo(tagged, 3);
        return KeyedPrefix + Convert.ToHexStringLower(HMACSHA256.HashData(key, tagged));
    }

    public static string KeyedHashOf(byte[] key, AuditEntry e) => KeyedHashOf(key, e.Sequence, e.At, e.Actor, e.Action, e.SessionId, e.Detail, e.PreviousHash);

    /// <summary>
    /// Result of a check. Intact: nothing wrong was found. Checked: false when the check could not be made (a key
    /// missing); FirstBadSequence names the first bad entry, BadCheckpoint the first checkpoint the chain does not extend.
    /// </summary>
    public sealed record Verification(bool Intact, long Entries, long? FirstBadSequence, string Message, bool Checked = true, long Checkpoints = 0, string? BadCheckpoint = null);

    /// <summary>What a check needs: the link key, the public key of the checkpoints, and the checkpoint file or folder.</summary>
    public sealed record Verifier(byte[]? LinkKey, System.Security.Cryptography.ECDsa? PublicKey, string? Checkpoints);

    /// <summary>
    /// Walks the whole chain in order and checks every checkpoint: reports the first entry whose link or hash does
    /// not hold, or the first checkpoint that the chain does not extend (truncation, re-chaining) or that is not
    /// genuine (edited, re-signed, removed from the middle of its file, cut).
    /// </summary>
    public static async Task<Verification> VerifyAsync(SessionDb db, Verifier v, CancellationToken ct = default)
    {
        // 1. The checkpoints, file by file.
        var checkpoints = new List<(string Name, AuditCheckpoint C)>();
        var files = v.Checkpoints is null ? [] : AuditCheckpointFiles.FilesAt(v.Checkpoints);
        string? keyId = v.PublicKey is null ? null : AuditKeys.KeyIdOf(v.PublicKey);
        long? legacy = null;
        (string Name, long Count)? earliest = null;
        foreach (var file in files)
        {
            string previousLine = "";
            long previousCount = 0;
            foreach (var line in AuditCheckpointFiles.Read(file))
            {
                string name = $"checkpoint {Path.GetFileName(file)}:{line.Number}";
                if (line.Checkpoint is null) return BadCheckpoint(0, checkpoints.Count, name, $"{name}: {line.Error}");
                var c = line.Checkpoint;
                if (v.PublicKey is null)
                    return new(false, 0, null, $"cannot check: {checkpoints.Count + 1} checkpoints but no public key to verify them (--public-key)", Checked: false);
                if (c.Key != keyId || !c.SignatureHolds(v.PublicKey))
                    return BadCheckpoint(0, checkpoints.Count, name, $"{name} (#{c.Ordinal}, count {c.Count}): its signature does not verify with the public key {keyId} (edited, or signed with another key)");
                if (c.Ordinal != line.Number)
                    return BadCheckpoint(0, checkpoints.Count, name, $"{name}: ordinal {c.Ordinal} instead of {line.Number} (checkpoints were removed or reordered)");
                if (c.Previous != (previousLine.Length == 0 ? "" : AuditCheckpoint.LineHash(previousLine)))
                    return BadCheckpoint(0, checkpoints.Count, name, $"{name}: does not follow the line before it (checkpoints were removed or reordered)");
                if (c.Count < previousCount)
                    return BadCheckpoint(0, checkpoints.Count, name, $"{name}: count {c.Count} is below the {previousCount} of the checkpoint before it");
                if (legacy is not null && c.Legacy != legacy)
                    return BadCheckpoint(0, checkpoints.Count, name, $"{name}: seals {c.Legacy} legacy entries, other checkpoints {legacy}");
                legacy = c.Legacy;
                if (line.Number == 1 && (earliest is null || c.Count < earliest.Value.Count)) earliest = (name, c.Count);
                previousLine = line.Text;
                previousCount = c.Count;
                checkpoints.Add((name, c));
            }
        }

        // Some checkpoint file must begin where keying began (the first server's start-up checkpoint): a trail whose earliest
        // checkpoint seals more than the legacy prefix lost the checkpoints that covered its start, and a server restarted
        // on it sealed the truncated table anew (an outside probe: truncate, delete the checkpoint file, restart).
        if (earliest is { } start && legacy is long sealedPrefix && start.Count > sealedPrefix)
            return BadCheckpoint(0, checkpoints.Count, start.Name, $"{start.Name}: the earliest checkpoint seals {start.Count} entries, but keyed links began after entry {sealedPrefix}: the checkpoints that covered the start of the trail were removed");

        // 2. The chain.
        var needed = checkpoints.Select(c => c.C.Count).ToHashSet();
        var heads = new Dictionary<long, string>();
        string previous = Genesis;
        long expected = 1, count = 0;
        long covered = checkpoints.Count == 0 ? 0 : checkpoints.Max(c => c.C.Count);
        DateTimeOffset? firstUncovered = null, newest = null;
        long sealedLegacy = legacy ?? long.MaxValue;   // without checkpoints legacy links are accepted only when no link is keyed (see below)
        bool anyKeyed = false, anyLegacy = false;
        await foreach (var e in db.Audit.AsNoTracking().OrderBy(a => a.Sequence).AsAsyncEnumerable().WithCancellation(ct))
        {
            count++;
            if (e.Sequence != expected)
                return new(false, count, expected, $"entry {expected}: found sequence {e.Sequence} instead (an entry was removed or inserted)", Checkpoints: checkpoints.Count);
            if (e.PreviousHash != previous)
                return new(false, count, e.Sequence, $"entry {e.Sequence}: its previous-hash does not match entry {e.Sequence - 1} (the chain was cut or reordered)", Checkpoints: checkpoints.Count);
            if (e.Hash.StartsWith(KeyedPrefix, StringComparison.Ordinal))
            {
                anyKeyed = true;
                if (e.Sequence <= sealedLegacy && legacy is not null)
                    return new(false, count, e.Sequence, $"entry {e.Sequence}: keyed, inside the legacy prefix of {legacy} entries the checkpoints seal", Checkpoints: checkpoints.Count);
                if (v.LinkKey is null)
                    return new(false, count, null, "cannot check: the chain has keyed links but no link key was given (--key-file or OPENVRET__AUDITKEY)", Checked: false, Checkpoints: checkpoints.Count);
                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(KeyedHashOf(v.LinkKey, e)), Encoding.ASCII.GetBytes(e.Hash)))
                    return new(false, count, e.Sequence, $"entry {e.Sequence} ({e.Action} by {e.Actor}): content does not match its keyed hash (modified, or written without the key)", Checkpoints: checkpoints.Count);
            }
            else
            {
                anyLegacy = true;
                if (e.Sequence > sealedLegacy || anyKeyed)
                    return new(false, count, e.Sequence, $"entry {e.Sequence} ({e.Action} by {e.Actor}): a plain SHA-256 link after the {legacy ?? 0} legacy entries the checkpoints seal (written without the key)", Checkpoints: checkpoints.Count);
                if (LegacyHashOf(e) != e.Hash)
                    return new(false, count, e.Sequence, $"entry {e.Sequence} ({e.Action} by {e.Actor}): content does not match its hash (it was modified)", Checkpoints: checkpoints.Count);
            }
            if (needed.Contains(e.Sequence)) heads[e.Sequence] = e.Hash;
            if (e.Sequence > covered) firstUncovered ??= e.At;
            newest = e.At;
            previous = e.Hash;
            expected++;
        }
        heads[0] = Genesis;

        // 3. The chain must extend every checkpoint.
        foreach (var (name, c) in checkpoints)
        {
            if (!heads.TryGetValue(c.Count, out var head))
                return BadCheckpoint(count, checkpoints.Count, name, $"{name}: the chain had {c.Count} entries at {c.At:O}, it now has {count} (entries were removed)", count + 1);
            if (head != c.Head)
                return BadCheckpoint(count, checkpoints.Count, name, $"{name}: entry {c.Count} is not the one the checkpoint signed (the chain was rewritten)", c.Count);
        }
        // A server with keys writes a checkpoint at its first start: with keyed links, or a public key to check
        // against, no checkpoint at all means they were removed (or the wrong place was named).
        if (checkpoints.Count == 0 && (anyKeyed || v.PublicKey is not null))
            return new(false, count, null, $"{count} audit entries{(anyKeyed ? " with keyed links" : "")} but no checkpoint{(v.Checkpoints is null ? "" : $" in {v.Checkpoints}")}, though the server signs checkpoints (key {keyId ?? "unknown"}): they were removed, or the wrong place was named");
        if (checkpoints.Count > 0 && firstUncovered is { } first && newest is { } last && last - first > UncoveredLimit)
            return BadCheckpoint(count, checkpoints.Count, checkpoints[^1].Name,
                $"entries {covered + 1} to {count} span {(last - first).TotalSeconds:F0} s after the last checkpoint that covers the chain (count {covered}): newer checkpoints were removed", covered + 1);

        string note = checkpoints.Count == 0
            ? anyLegacy ? "; legacy SHA-256 links without key or checkpoints: only accidental damage is detectable" : ""
            : count > covered ? $"; {count - covered} newest entries not yet covered by a checkpoint" : "";
        return new(true, count, null, $"{count} audit entries, chain intact, {checkpoints.Count} checkpoints hold{note}", Checkpoints: checkpoints.Count);
    }

    private static Verification BadCheckpoint(long entries, int checkpoints, string name, string message, long? firstBad = null) =>
        new(false, entries, firstBad, message, Checkpoints: checkpoints, BadCheckpoint: name);
}
