using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>What the store holds of a session's samples, read back through the block codec.</summary>
internal static class Stored
{
    /// <summary>Every stored channel batch of the session; asserts that none is stored twice.</summary>
    public static async Task<List<SampleChunk>> ChunksAsync(SessionDb db, string sessionId)
    {
        var blocks = await db.SampleBlocks.AsNoTracking().Where(b => b.SessionId == sessionId).OrderBy(b => b.Id).ToListAsync();
        var chunks = blocks.SelectMany(SampleBlockCodec.Decode).ToList();
        var twice = chunks.GroupBy(c => (c.DeviceId, c.Channel, c.Sequence)).Where(g => g.Count() > 1).Select(g => g.Key).FirstOrDefault();
        Assert.True(twice == default, $"batch {twice} is stored more than once");
        return chunks;
    }

    public static async Task<int> ChunkCountAsync(SessionDb db, string sessionId) => (await ChunksAsync(db, sessionId)).Count;

    public static async Task<long> SampleCountAsync(SessionDb db, string sessionId) => (await ChunksAsync(db, sessionId)).Sum(c => (long)c.Count);
}
