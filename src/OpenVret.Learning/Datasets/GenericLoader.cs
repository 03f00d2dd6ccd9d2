using System.Globalization;
using OpenVret.Signals;
using OpenVret.Signals.Readers;

namespace OpenVret.Learning.Datasets;

/// <summary>
/// The generic labelled-recording layout external validation data arrives in: ROOT/labels.csv
/// (subject,label,start_unix,end_unix) and ROOT/&lt;subject&gt;/ E4 exports (any subset of ACC, BVP, EDA, TEMP).
/// A subject with missing files is loaded with what it has and reported; one with none is reported and skipped.
/// </summary>
public static class GenericLoader
{
    public static Dataset Load(string root)
    {
        string labelsPath = Path.Combine(root, "labels.csv");
        if (!File.Exists(labelsPath)) throw new SignalInputException("labels.csv", labelsPath, "the generic layout needs ROOT/labels.csv");
        var rows = new List<(string Subject, string Label, double Start, double End)>();
        int no = 0;
        foreach (var line in File.ReadLines(labelsPath))
        {
            no++;
            if (no == 1 && line.StartsWith("subject", StringComparison.OrdinalIgnoreCase)) continue;
            if (line.Trim().Length == 0) continue;
            var f = line.Split(',');
            if (f.Length < 4) throw new SignalInputException($"labels.csv:line {no}", line, "expected subject,label,start_unix,end_unix");
            double Num(string s, string name) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new SignalInputException($"labels.csv:line {no}:{name}", s, "not a number");
            double start = Num(f[2], "start_unix"), end = Num(f[3], "end_unix");
            if (end <= start) throw new SignalInputException($"labels.csv:line {no}:end_unix", f[3], "must be after start_unix");
            rows.Add((f[0].Trim(), f[1].Trim().ToLowerInvariant(), start, end));
        }
        var subjects = new List<Subject>();
        var problems = new List<string>();
        foreach (var group in rows.GroupBy(r => r.Subject).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            string dir = Path.Combine(root, group.Key);
            try
            {
                var e4 = E4Reader.Read(dir);
                var segments = group.Select(r => new LabelledSegment(r.Label, r.Start - e4.StartUnixSeconds, r.End - e4.StartUnixSeconds)).ToList();
                subjects.Add(new Subject(group.Key, e4.Recording, segments, new Dictionary<string, string>(), e4.MissingFiles));
                if (e4.MissingFiles.Count > 0) problems.Add($"{group.Key}: missing {string.Join(", ", e4.MissingFiles)}");
            }
            catch (SignalInputException e) { problems.Add($"{group.Key}: {e.Message}; not evaluable"); }
        }
        return new Dataset("generic labelled recordings", root, subjects, problems);
    }
}
