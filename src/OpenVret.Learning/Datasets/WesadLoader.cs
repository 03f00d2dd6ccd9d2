using System.Globalization;
using OpenVret.Signals;
using OpenVret.Signals.Readers;

namespace OpenVret.Learning.Datasets;

/// <summary>
/// WESAD (Schmidt et al. 2018, ICMI) Empatica E4 wrist exports with the protocol labels. Condition times in
/// SX_quest.csv are minutes.seconds with the trailing zero dropped (7.08 = 7:08, 50.3 = 50:30, 12 = 12:00),
/// counted from the chest device's start. They are moved onto the E4 timeline with
/// e4_alignment_offsets.csv (t_E4 = t_quest - chest_crop_s + e4_crop_s) and shrunk by 10 s at both ends.
/// Base = baseline, TSST = stress, Fun = amusement, Medi 1 / Medi 2 = meditation.
/// </summary>
public static class WesadLoader
{
    public static readonly IReadOnlyDictionary<string, string> Conditions = new Dictionary<string, string>
    {
        ["Base"] = "baseline", ["TSST"] = "stress", ["Fun"] = "amusement", ["Medi 1"] = "meditation", ["Medi 2"] = "meditation",
    };

    public static Dataset Load(string root)
    {
        if (!Directory.Exists(root)) throw new SignalInputException("data", root, "WESAD folder not found");
        string offsetsPath = Path.Combine(root, "e4_alignment_offsets.csv");
        if (!File.Exists(offsetsPath)) offsetsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, "e4_alignment_offsets.csv");
        if (!File.Exists(offsetsPath)) throw new SignalInputException("e4_alignment_offsets.csv", offsetsPath, "needed to place the labels on the E4 timeline");
        var offsets = ReadOffsets(offsetsPath);
        string dataDir = Directory.Exists(Path.Combine(root, "data")) ? Path.Combine(root, "data") : root;
        var subjects = new List<Subject>();
        var problems = new List<string>();
        foreach (var dir in Directory.GetDirectories(dataDir).OrderBy(d => int.TryParse(Path.GetFileName(d).TrimStart('S'), out var n) ? n : 999))
        {
            string id = Path.GetFileName(dir);
            try
            {
                if (!offsets.TryGetValue(id, out var off)) { problems.Add($"{id}: no row in e4_alignment_offsets.csv; skipped"); continue; }
                var e4 = E4Reader.Read(Path.Combine(dir, $"{id}_E4_Data"));
                var segments = ReadQuest(Path.Combine(dir, $"{id}_quest.csv"))
                    .Select(q => new LabelledSegment(q.Label, q.Start - off.Chest + off.E4 + 10, q.End - off.Chest + off.E4 - 10))
                    .Where(s => s.DurationSeconds > 0).ToList();
                subjects.Add(new Subject(id, e4.Recording, segments, ReadAttributes(Path.Combine(dir, $"{id}_readme.txt")), e4.MissingFiles));
                if (e4.MissingFiles.Count > 0) problems.Add($"{id}: missing {string.Join(", ", e4.MissingFiles)}");
            }
            catch (SignalInputException e) { problems.Add($"{id}: {e.Message}; skipped"); }
        }
        return new Dataset("WESAD (Schmidt et al. 2018), Empatica E4 wrist", root, subjects, problems);
    }

    /// <summary>minutes.seconds with the trailing zero dropped: "7.08" = 428 s, "50.3" = 3030 s, "12" = 720 s.</summary>
    public static double ParseMinutesSeconds(string text, string field)
    {
        var t = text.Trim();
        var parts = t.Split('.');
        if (parts.Length > 2 || !int.TryParse(parts[0], out var minutes))
            throw new SignalInputException(field, t, "expected minutes.seconds (e.g. 7.08, 50.3)");
        int seconds = 0;
        if (parts.Length == 2 && parts[1].Length > 0)
        {
            string s = parts[1].Length == 1 ? parts[1] + "0" : parts[1];
            if (s.Length != 2 || !int.TryParse(s, out seconds) || seconds >= 60)
                throw new SignalInputException(field, t, "seconds must be 00-59");
        }
        return minutes * 60 + seconds;
    }

    private static List<(string Label, double Start, double End)> ReadQuest(string path)
    {
        var lines = File.ReadAllLines(path);
        string[] Row(string key) => lines.First(l => l.StartsWith("# " + key, StringComparison.Ordinal)).Split(';');
        var order = Row("ORDER"); var start = Row("START"); var end = Row("END");
        var res = new List<(string, double, double)>();
        for (int i = 1; i < order.Length; i++)
        {
            var name = order[i].Trim();
            if (name.Length == 0 || !Conditions.TryGetValue(name, out var label)) continue;
            res.Add((label, ParseMinutesSeconds(start[i], $"{Path.GetFileName(path)}:START:{name}"), ParseMinutesSeconds(end[i], $"{Path.GetFileName(path)}:END:{name}")));
        }
        return res;
    }

    private static Dictionary<string, (double Chest, double E4)> ReadOffsets(string path)
    {
        var res = new Dictionary<string, (double, double)>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 3) continue;
            res[f[0]] = (double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture));
        }
        return res;
    }

    private static Dictionary<string, string> ReadAttributes(string path)
    {
        var res = new Dictionary<string, string>();
        if (!File.Exists(path)) return res;
        foreach (var line in File.ReadLines(path))
        {
            int c = line.IndexOf(':');
            if (c < 0) continue;
            string key = line[..c].Trim(), value = line[(c + 1)..].Trim();
            if (key == "Age" && int.TryParse(value, out var age)) res["age_group"] = age < 27 ? "under 27" : "27 and over";
            else if (key == "Gender") res["gender"] = value.ToLowerInvariant();
            else if (key == "Dominant hand") res["handedness"] = value.ToLowerInvariant();
        }
        return res;
    }
}
