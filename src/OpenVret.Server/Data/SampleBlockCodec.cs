using System.Buffers.Binary;
using System.Text;

namespace OpenVret.Server.Data;

/// <summary>
/// The binary layout of a <see cref="SampleBlock"/>'s data, little-endian:
/// <code>
/// u8 version (1) | u16 batches | per batch:
///   u8 channel name length | channel name (UTF-8) | i64 sequence | f64 device time | f64 session time |
///   f64 rate (Hz) | u8 flags (1 = late) | i32 sample count | count x f32 samples
/// </code>
/// Decoding checks every length against the blob and names what is wrong, so a damaged row is reported, never
/// misread.
/// </summary>
public static class SampleBlockCodec
{
    public const byte Version = 1;
    private const int FixedPerBatch = 1 + 8 + 8 + 8 + 8 + 1 + 4;

    /// <summary>Encodes the batches of one device message (all of the same session and device).</summary>
    public static SampleBlock Encode(IReadOnlyList<SampleChunk> chunks)
    {
        if (chunks.Count == 0) throw new ArgumentException("a block needs at least one batch", nameof(chunks));
        if (chunks.Count > ushort.MaxValue) throw new ArgumentException($"chunks.Count = {chunks.Count}: at most {ushort.MaxValue} batches per block", nameof(chunks));
        var first = chunks[0];
        int length = 3, samples = 0;
        double earliest = double.PositiveInfinity;
        foreach (var c in chunks)
        {
            if (c.SessionId != first.SessionId || c.DeviceId != first.DeviceId)
                throw new ArgumentException($"chunk {c.DeviceId}:{c.Channel}:{c.Sequence}: a block holds one session's and one device's batches", nameof(chunks));
            int name = Encoding.UTF8.GetByteCount(c.Channel);
            if (name is 0 or > 255) throw new ArgumentException($"channel = '{c.Channel}': the name must be 1-255 UTF-8 bytes", nameof(chunks));
            if (c.Data.Length != c.Count * 4) throw new ArgumentException($"chunk {c.Channel}:{c.Sequence}: data has {c.Data.Length} bytes for {c.Count} samples", nameof(chunks));
            length += FixedPerBatch + name + c.Data.Length;
            samples += c.Count;
            earliest = Math.Min(earliest, c.SessionTime);
        }
        var data = new byte[length];
        var span = data.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(span[1..], (ushort)chunks.Count);
        int at = 3;
        foreach (var c in chunks)
        {
            int name = Encoding.UTF8.GetBytes(c.Channel, span[(at + 1)..]);
            span[at] = (byte)name;
            at += 1 + name;
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], c.Sequence); at += 8;
            BinaryPrimitives.WriteDoubleLittleEndian(span[at..], c.DeviceTime); at += 8;
            BinaryPrimitives.WriteDoubleLittleEndian(span[at..], c.SessionTime); at += 8;
            BinaryPrimitives.WriteDoubleLittleEndian(span[at..], c.RateHz); at += 8;
            span[at++] = c.Late ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], c.Count); at += 4;
            c.Data.CopyTo(span[at..]); at += c.Data.Length;
        }
        return new SampleBlock { SessionId = first.SessionId, DeviceId = first.DeviceId, SessionTime = earliest, Count = samples, Data = data };
    }

    /// <summary>Every batch in a stored block.</summary>
    public static List<SampleChunk> Decode(SampleBlock block)
    {
        var list = new List<SampleChunk>(4);
        Walk(block, withData: true, (channel, sequence, deviceTime, sessionTime, rate, late, count, samples) =>
            list.Add(new SampleChunk
            {
                SessionId = block.SessionId, DeviceId = block.DeviceId, Channel = channel, Sequence = sequence, DeviceTime = deviceTime,
                SessionTime = sessionTime, RateHz = rate, Count = count, Data = samples.ToArray(), Late = late,
            }));
        return list;
    }

    /// <summary>The (channel, sequence, late) of each batch in a block, without copying samples.</summary>
    public static List<(string Channel, long Sequence, bool Late)> Heads(SampleBlock block)
    {
        var list = new List<(string, long, bool)>(4);
        Walk(block, withData: false, (channel, sequence, _, _, _, late, _, _) => list.Add((channel, sequence, late)));
        return list;
    }

    private delegate void Visit(string channel, long sequence, double deviceTime, double sessionTime, double rate, bool late, int count, ReadOnlySpan<byte> samples);

    private static void Walk(SampleBlock block, bool withData, Visit visit)
    {
        var span = block.Data.AsSpan();
        string where = $"sample block {block.Id} (session {block.SessionId}, device {block.DeviceId})";
        if (span.Length < 3) throw new InvalidDataException($"{where}: {span.Length} bytes is shorter than the 3-byte header");
        if (span[0] != Version) throw new InvalidDataException($"{where}: version = {span[0]}; this server reads version {Version}");
        int batches = BinaryPrimitives.ReadUInt16LittleEndian(span[1..]);
        int at = 3;
        for (int i = 0; i < batches; i++)
        {
            if (at >= span.Length) throw new InvalidDataException($"{where}: batch {i} of {batches} starts at byte {at}, past the end ({span.Length} bytes)");
            int name = span[at];
            if (name == 0 || at + 1 + name + FixedPerBatch - 1 > span.Length)
                throw new InvalidDataException($"{where}: batch {i} header at byte {at} (channel name of {name} bytes) runs past the end ({span.Length} bytes)");
            string channel = Encoding.UTF8.GetString(span.Slice(at + 1, name));
            at += 1 + name;
            long sequence = BinaryPrimitives.ReadInt64LittleEndian(span[at..]); at += 8;
            double deviceTime = BinaryPrimitives.ReadDoubleLittleEndian(span[at..]); at += 8;
            double sessionTime = BinaryPrimitives.ReadDoubleLittleEndian(span[at..]); at += 8;
            double rate = BinaryPrimitives.ReadDoubleLittleEndian(span[at..]); at += 8;
            bool late = span[at++] != 0;
            int count = BinaryPrimitives.ReadInt32LittleEndian(span[at..]); at += 4;
            if (count < 0 || (long)at + 4L * count > span.Length)
                throw new InvalidDataException($"{where}: batch {i} ({channel}:{sequence}) count = {count} samples runs past the end ({span.Length} bytes)");
            visit(channel, sequence, deviceTime, sessionTime, rate, late, count, withData ? span.Slice(at, 4 * count) : default);
            at += 4 * count;
        }
        if (at != span.Length) throw new InvalidDataException($"{where}: {span.Length - at} bytes left over after {batches} batches");
    }
}
