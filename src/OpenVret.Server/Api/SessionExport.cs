using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;
using OpenVret.Signals;
using OpenVret.Signals.Readers;

namespace OpenVret.Server.Api;

/// <summary>
/// A session as one archive: <c>signals.edf</c> (EDF+C, every stored channel on session time, gaps as the EDF
/// missing value, scene commands and ratings as annotations), <c>features.csv</c> (one row per feature window),
/// <c>events.json</c> (every other record: proposals, decisions, overrides, safety events, alerts, ratings,
/// commands, faults) and <c>audit.json</c> (the session's audit entries with their hashes).
/// </summary>
public static class SessionExport
{
    public static async Task<byte[]> ArchiveAsync(SessionDb db, string sessionId)
    {
        var session = await db.Sessions.AsNoTracking().FirstAsync(s => s.Id == sessionId);
        var devices = await db.Devices.AsNoTracking().Where(d => d.SessionId == sessionId).ToListAsync();
        var chunks = await StoredChunksAsync(db, sessionId);
        var entries = await db.Entries.AsNoTracking().Where(e => e.SessionId == sessionId).OrderBy(e => e.Id).ToListAsync();
        var audit = await db.Audit.AsNoTracking().Where(a => a.SessionId == sessionId).OrderBy(a => a.Sequence).ToListAsync();

        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            // Data can begin slightly before the session's start (a device's first batch was recorded before it
            // arrived): the file starts at the earliest sample, and its start time says so.
            double origin = chunks.Count == 0 ? 0 : Math.Min(0, chunks.Min(c => c.SessionTime));
            var recording = ToRecording(chunks, devices, origin);
            if (recording is not null)
            {
                var tmp = Path.Combine(Path.GetTempPath(), $"openvret-export-{Guid.NewGuid():N}.edf");
                try
                {
                    var annotations = entries.Where(e => e.Kind is EntryKind.Command or EntryKind.Rating)
                        .Select(e => new EdfAnnotation(e.SessionTime - origin, null, $"{e.Kind}:{e.Name}")).ToList();
                    Edf.Write(tmp, recording, annotations, patientCode: session.PatientId, start: session.StartedAt?.UtcDateTime.AddSeconds(origin), recordingId: session.Id);
                    zip.CreateEntryFromFile(tmp, "signals.edf");
                }
                finally { File.Delete(tmp); }
            }
            await Write(zip, "features.csv", FeaturesCsv(entries.Where(e => e.Kind == EntryKind.Feature)));
            await Write(zip, "events.json", JsonSerializer.Serialize(new
            {
                session = new { session.Id, session.PatientId, session.SessionNumber, session.Scheduler, session.Mode, session.BaselineSeconds, session.StartedAt, session.EndedAt },
                devices = devices.Select(d => new { d.Id, d.Name, d.Role, channels = d.ChannelsJson is null ? (JsonElement?)null : JsonDocument.Parse(d.ChannelsJson).RootElement }),
                entries = entries.Where(e => e.Kind != EntryKind.Feature).Select(e => new { e.SessionTime, kind = e.Kind.ToString(), e.Name, payload = JsonDocument.Parse(e.Json).RootElement }),
            }, new JsonSerializerOptions { WriteIndented = true }));
            await Write(zip, "audit.json", JsonSerializer.Serialize(audit, new JsonSerializerOptions { WriteIndented = true }));
        }
        return ms.ToArray();
    }

    /// <summary>
    /// Every stored batch of a session in the order it was accepted, each (device, channel, sequence) once (the first
    /// copy wins; a second could only come from two nodes writing one session during a failover).
    /// </summary>
    public static async Task<List<SampleChunk>> StoredChunksAsync(SessionDb db, string sessionId)
    {
        var blocks = await db.SampleBlocks.AsNoTracking().Where(b => b.SessionId == sessionId).OrderBy(b => b.Id).ToListAsync();
        var seen = new HashSet<(string, string, long)>();
        var chunks = new List<SampleChunk>(blocks.Count * 4);
        foreach (var block in blocks)
            foreach (var c in SampleBlockCodec.Decode(block))
                if (seen.Add((c.DeviceId, c.Channel, c.Sequence))) chunks.Add(c);
        return chunks;
    }

    private static async Task Write(ZipArchive zip, string name, string text)
    {
        await using var s = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        await s.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Places every chunk at its session time minus <paramref name="origin"/> (late chunks included), NaN where nothing arrived.</summary>
    public static Recording? ToRecording(IReadOnlyList<SampleChunk> chunks, IReadOnlyList<DeviceRecord> devices, double origin = 0)
    {
        var channels = new List<ChannelSignal>();
        foreach (var g in chunks.GroupBy(c => (c.DeviceId, c.Channel)).OrderBy(g => g.Key.DeviceId).ThenBy(g => g.Key.Channel))
        {
            double rate = g.First().RateHz;
            double end = g.Max(c => c.SessionTime - origin + c.Count / rate);
            var x = new double[(int)Math.Ceiling(Math.Max(0, end) * rate)];
            Array.Fill(x, double.NaN);
            var floats = new float[g.Max(c => c.Count)];
            foreach (var c in g)
            {
                Buffer.BlockCopy(c.Data, 0, floats, 0, c.Count * 4);
                int at = (int)Math.Round((c.SessionTime - origin) * rate);
                for (int i = 0; i < c.Count; i++)
                    if (at + i >= 0 && at + i < x.Length) x[at + i] = floats[i];
            }
            var kind = devices.FirstOrDefault(d => d.Id == g.Key.DeviceId)?.ChannelsJson is { } json
                ? JsonSerializer.Deserialize<List<Protocol.ChannelDeclaration>>(json, Sessions.SessionActor.Json)?.FirstOrDefault(c => c.Name == g.Key.Channel)
                : null;
            var modality = kind is null ? Modality.Other : Enum.TryParse<Modality>(kind.Kind.ToString(), out var m) ? m : Modality.Other;
            channels.Add(new ChannelSignal(modality, new Signal(x, new SampleRate(rate), origin, SignalUnit.Arbitrary, $"{g.Key.DeviceId}:{g.Key.Channel}")));
        }
        return channels.Count == 0 ? null : new Recording(channels);
    }

    private static string FeaturesCsv(IEnumerable<SessionEntry> windows)
    {
        var rows = windows.Select(w =>
        {
            using var doc = JsonDocument.Parse(w.Json);
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            if (doc.RootElement.TryGetProperty("values", out var v))
                foreach (var p in v.EnumerateObject()) if (p.Value.ValueKind == JsonValueKind.Number) values[p.Name] = p.Value.GetDouble();
            return (w.SessionTime, values);
        }).ToList();
        var columns = rows.SelectMany(r => r.values.Keys).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder("session_time_s");
        foreach (var c in columns) sb.Append(',').Append(c);
        sb.Append('\n');
        foreach (var (t, values) in rows)
        {
            sb.Append(t.ToString("0.###", CultureInfo.InvariantCulture));
            foreach (var c in columns) sb.Append(',').Append(values.TryGetValue(c, out var x) ? x.ToString("R", CultureInfo.InvariantCulture) : "");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
