using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;

namespace OpenVret.Server.Audit;

/// <summary>The hash chain of the audit trail: how a link is hashed, and the check that finds tampering.</summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public static string HashOf(long sequence, DateTimeOffset at, string actor, string action, string? sessionId, string detail, string previousHash)
    {
        // Length-prefixed fields: no two different entries share a byte string.
        var sb = new StringBuilder();
        void Field(string s) => sb.Append(s.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(s).Append('|');
        Field(previousHash);
        Field(sequence.ToString(CultureInfo.InvariantCulture));
        Field(at.UtcTicks.ToString(CultureInfo.InvariantCulture));
        Field(actor);
        Field(action);
        Field(sessionId ?? "");
        Field(detail);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public static string HashOf(AuditEntry e) => HashOf(e.Sequence, e.At, e.Actor, e.Action, e.SessionId, e.Detail, e.PreviousHash);

    public sealed record Verification(bool Intact, long Entries, long? FirstBadSequence, string Message);

    /// <summary>Walks the whole chain in order; reports the first entry whose link or hash does not hold.</summary>
    public static async Task<Verification> VerifyAsync(SessionDb db, CancellationToken ct = default)
    {
        string previous = Genesis;
        long expected = 1, count = 0;
        await foreach (var e in db.Audit.AsNoTracking().OrderBy(a => a.Sequence).AsAsyncEnumerable().WithCancellation(ct))
        {
            count++;
            if (e.Sequence != expected)
                return new(false, count, expected, $"entry {expected}: found sequence {e.Sequence} instead (an entry was removed or inserted)");
            if (e.PreviousHash != previous)
                return new(false, count, e.Sequence, $"entry {e.Sequence}: its previous-hash does not match entry {e.Sequence - 1} (the chain was cut or reordered)");
            var hash = HashOf(e);
            if (hash != e.Hash)
                return new(false, count, e.Sequence, $"entry {e.Sequence} ({e.Action} by {e.Actor}): content does not match its hash (it was modified)");
            previous = e.Hash;
            expected++;
        }
        return new(true, count, null, $"{count} audit entries, chain intact");
    }
}
