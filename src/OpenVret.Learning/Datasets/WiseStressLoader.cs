using System.Globalization;
using OpenVret.Signals;
using OpenVret.Signals.Readers;

namespace OpenVret.Learning.Datasets;

/// <summary>
/// The stress protocol of the PhysioNet "Wearable Device Dataset from Induced Stress and Structured Exercise
/// Sessions" (Hongn et al., Scientific Data 2025): Empatica E4 exports whose first row is a UTC date-time, and
/// stages that exist only as button presses (tags.csv). The stages are placed from the tags by the protocol
/// version's tag pattern (see <see cref="Layout"/> and docs/arousal.md, "The second lab"):
/// <list type="bullet">
/// <item>V1 (Sxx, 13 tags, 12 intervals): baseline | Stroop (two intervals) | first rest | TMCT | second rest |
/// real opinion, opposite opinion, subtraction (six short intervals: preparation and task, about 30-60 s each).</item>
/// <item>V2 (fxx, 9 tags, 8 intervals): baseline | TMCT | first rest | real and opposite opinion (three short
/// intervals) | second rest | subtraction.</item>
/// </list>
/// Stress = Stroop, TMCT, opinions, subtraction; non-stress = baseline ("baseline") and rests ("rest").
/// Before the first tag and after the last one nothing is labelled. A subject whose tags do not match its
/// protocol's pattern, or whose intervals fall outside the plausible durations, is reported and left out
/// rather than guessed. Documented faults are handled: duplicated signal rows (S02) are cut where the
/// repetition starts, a protection dock over the optical sensors (f07) drops BVP and TEMP, and a recording
/// split in two folders (f14_a, f14_b) is joined on its timestamps with the gap left missing.
/// </summary>
public static class WiseStressLoader
{
    /// <summary>One stage interval of a protocol: its label (null = unlabelled), its name, and plausible duration bounds (s).</summary>
    public sealed record Stage(string? Label, string Name, double MinSeconds, double MaxSeconds);

    /// <summary>The interval pattern between consecutive tags, per protocol version.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<Stage>> Layout = new Dictionary<string, IReadOnlyList<Stage>>
    {
        ["V1"] = new Stage[]
        {
            new("baseline", "Baseline", 120, 400), new("stress", "Stroop (part 1)", 60, 400), new("stress", "Stroop (part 2)", 40, 300),
            new("rest", "First rest", 150, 600), new("stress", "TMCT", 60, 400), new("rest", "Second rest", 150, 600),
            new("stress", "Real opinion (preparation)", 10, 120), new("stress", "Real opinion", 10, 120),
            new("stress", "Opposite opinion (preparation)", 10, 120), new("stress", "Opposite opinion", 10, 120),
            new("stress", "Subtraction (preparation)", 10, 120), new("stress", "Subtraction", 5, 120),
        },
        ["V2"] = new Stage[]
        {
            new("baseline", "Baseline", 60, 400), new("stress", "TMCT", 120, 600), new("rest", "First rest", 300, 1500),
            new("stress", "Real opinion", 10, 120), new("stress", "Opinion (change)", 10, 120), new("stress", "Opposite opinion", 10, 120),
            new("rest", "Second rest", 300, 1500), new("stress", "Subtraction", 10, 120),
        },
    };

    /// <summary>Faults documented in the dataset's data_constraints.txt that cannot be seen in the files themselves.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> InvalidFiles = new Dictionary<string, string[]>
    {
        // "The protection dock was never removed from the wristband, covering the PPG and TEMPERATURE sensors."
        ["f07"] = ["BVP.csv", "TEMP.csv"],
    };

    public static Dataset Load(string root)
    {
        if (!Directory.Exists(root)) throw new SignalInputException("data", root, "wise-stress folder not found");
        string stressDir = Directory.Exists(Path.Combine(root, "STRESS")) ? Path.Combine(root, "STRESS") : root;
        string infoRoot = File.Exists(Path.Combine(root, "subject-info.csv")) ? root : Path.GetDirectoryName(Path.GetFullPath(stressDir))!;
        var info = ReadSubjectInfo(Path.Combine(infoRoot, "subject-info.csv"));
        var problems = new List<string>();
        var subjects = new List<Subject>();
        // Split recordings (f14_a, f14_b) are one subject.
        var folders = Directory.GetDirectories(stressDir)
            .GroupBy(d => SubjectIdOf(Path.GetFileName(d)), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var g in folders)
        {
            string id = g.Key;
            try
            {
                var parts = g.OrderBy(d => d, StringComparer.Ordinal).ToList();
                var (joined, tags, notes) = ReadJoined(parts, InvalidFiles.TryGetValue(id, out var invalid) ? invalid : []);
                foreach (var n in notes) problems.Add($"{id}: {n}");
                info.TryGetValue(id, out var attributes);
                attributes ??= new Dictionary<string, string>();
                string protocol = attributes.TryGetValue("protocol", out var p) ? p : tags.Count == 13 ? "V1" : tags.Count == 9 ? "V2" : "unknown";
                var segments = Place(protocol, tags, out var why);
                if (segments is null) { problems.Add($"{id}: {why}; left unlabelled and skipped"); continue; }
                subjects.Add(new Subject(id, joined.Recording, segments, attributes, joined.Missing));
            }
            catch (SignalInputException e) { problems.Add($"{id}: {e.Message}; skipped"); }
        }
        return new Dataset("WISE-stress (Hongn et al. 2025), Empatica E4 wrist", root, subjects, problems);
    }

    /// <summary>"f14_a" and "f14_b" belong to "f14".</summary>
    public static string SubjectIdOf(string folder)
    {
        int u = folder.LastIndexOf('_');
        return u > 0 && folder.Length - u == 2 && char.IsLetter(folder[^1]) ? folder[..u] : folder;
    }

    /// <summary>
    /// Labelled segments from the tag times (seconds from the recording's start), or null with the reason when the
    /// tags do not fit the protocol. Consecutive intervals with the same label become one segment.
    /// </summary>
    public static List<LabelledSegment>? Place(string protocol, IReadOnlyList<double> tags, out string why)
    {
        why = "";
        if (!Layout.TryGetValue(protocol, out var stages)) { why = $"protocol '{protocol}' is not V1 or V2"; return null; }
        if (tags.Count != stages.Count + 1) { why = $"{tags.Count} tags where protocol {protocol} has {stages.Count + 1}"; return null; }
        for (int i = 0; i < stages.Count; i++)
        {
            double d = tags[i + 1] - tags[i];
            if (d < stages[i].MinSeconds || d > stages[i].MaxSeconds)
            {
                why = $"interval {i + 1} ({stages[i].Name}) lasts {d:0} s, outside {stages[i].MinSeconds:0}-{stages[i].MaxSeconds:0} s";
                return null;
            }
        }
        var res = new List<LabelledSegment>();
        for (int i = 0; i < stages.Count; i++)
        {
            if (stages[i].Label is null) continue;
            if (res.Count > 0 && res[^1].Label == stages[i].Label && Math.Abs(res[^1].EndSeconds - tags[i]) < 1e-9)
                res[^1] = res[^1] with { EndSeconds = tags[i + 1] };
            else res.Add(new LabelledSegment(stages[i].Label!, tags[i], tags[i + 1]));
        }
        return res;
    }

    private static (JoinedRecording Recording, List<double> Tags, List<string> Notes) ReadJoined(IReadOnlyList<string> parts, string[] invalid)
    {
        var notes = new List<string>();
        var reads = new List<(E4Reader.Result E4, List<double> TagsUnix)>();
        foreach (var dir in parts)
        {
            var e4 = E4Reader.Read(dir);
            var tagsPath = Path.Combine(dir, "tags.csv");
            var tags = File.Exists(tagsPath)
                ? File.ReadLines(tagsPath).Where(l => l.Trim().Length > 0).Select((l, i) => E4Reader.ParseStart(l, $"tags.csv:line {i + 1}")).ToList()
                : new List<double>();
            reads.Add((e4, tags));
        }
        double t0 = reads.Min(r => r.E4.StartUnixSeconds);
        var channels = new List<ChannelSignal>();
        var missing = new HashSet<string>(reads.SelectMany(r => r.E4.MissingFiles), StringComparer.Ordinal);
        foreach (var modality in reads.SelectMany(r => r.E4.Recording.Channels.Select(c => c.Modality)).Distinct())
        {
            var pieces = reads.SelectMany(r => r.E4.Recording.Channels.Where(c => c.Modality == modality)
                .Select(c => (Start: r.E4.StartUnixSeconds + c.Signal.StartSeconds - t0, c.Signal))).OrderBy(x => x.Start).ToList();
            var first = pieces[0].Signal;
            string file = first.Name + ".csv";
            if (invalid.Contains(file)) { missing.Add(file); notes.Add($"{file} invalid (documented fault), not used"); continue; }
            double rate = first.Rate.Hertz;
            var samples = new List<double>();
            foreach (var (start, sig) in pieces)
            {
                var s = CutRepetition(sig.Samples, out int cut);
                if (cut >= 0) notes.Add($"{file}: rows repeat from sample {cut} on (documented duplicate export); cut there");
                int at = (int)Math.Round((start - pieces[0].Start) * rate);
                if (at < samples.Count) { notes.Add($"{file}: parts overlap by {samples.Count - at} samples; the later part wins"); samples.RemoveRange(Math.Max(0, at), samples.Count - Math.Max(0, at)); }
                else if (at > samples.Count) { notes.Add($"{file}: {(at - samples.Count) / rate:0} s gap between parts left missing"); samples.AddRange(Enumerable.Repeat(double.NaN, at - samples.Count)); }
                samples.AddRange(s);
            }
            channels.Add(new ChannelSignal(modality, first with { Samples = samples.ToArray(), StartSeconds = pieces[0].Start }));
        }
        if (channels.Count == 0) throw new SignalInputException("data", parts[0], "no valid signal file");
        var tagsRel = reads.SelectMany(r => r.TagsUnix).Select(t => t - t0).OrderBy(t => t).ToList();
        return (new JoinedRecording(new Recording(channels, DateTimeOffset.FromUnixTimeMilliseconds((long)(t0 * 1000)), parts[0]), missing.Order(StringComparer.Ordinal).ToList()), tagsRel, notes);
    }

    private sealed record JoinedRecording(Recording Recording, IReadOnlyList<string> Missing);

    /// <summary>
    /// A duplicated export repeats the file's rows from some point on (the dataset documents this for S02). Returns
    /// the samples up to where a repetition of the start begins (at least 64 samples long, running to the end, not flat),
    /// with its index, or the samples unchanged and -1.
    /// </summary>
    public static double[] CutRepetition(double[] x, out int cut)
    {
        cut = -1;
        const int probe = 64;
        if (x.Length < 4 * probe) return x;
        for (int k = probe; k <= x.Length - probe; k++)
        {
            bool match = true;
            for (int i = 0; i < probe && match; i++) match = x[k + i].Equals(x[i]);
            if (!match) continue;
            for (int i = probe; k + i < x.Length && match; i++) match = x[k + i].Equals(x[i]);
            // A flat start repeated by a flat end (sensor off) is not a duplicated export: the repeated part must vary.
            if (match && x.AsSpan(0, x.Length - k).ContainsAnyExcept(x[0])) { cut = k; return x[..k]; }
        }
        return x;
    }

    private static Dictionary<string, Dictionary<string, string>> ReadSubjectInfo(string path)
    {
        var res = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (!File.Exists(path)) return res;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 7 || f[0].Trim().Length == 0 || !char.IsLetter(f[0].Trim()[0]) || f[0].Contains(':')) continue;
            var a = new Dictionary<string, string>();
            if (f[1].Trim() is "m" or "f") a["gender"] = f[1].Trim() == "m" ? "male" : "female";
            if (int.TryParse(f[2].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var age)) a["age_group"] = age < 27 ? "under 27" : "27 and over";
            if (f[6].Trim() is "V1" or "V2") a["protocol"] = f[6].Trim();
            res[f[0].Trim()] = a;
        }
        return res;
    }
}
