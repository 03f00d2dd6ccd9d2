using System.CommandLine;
using System.Globalization;
using OpenVret.Signals;
using OpenVret.Signals.Readers;
using OpenVret.Signals.Streaming;

namespace OpenVret.Cli;

/// <summary><c>openvret features --input (E4 folder | CSV) --window 60 --hop 1 --out F.csv</c>: the windowed feature table.</summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "an Empatica E4 export folder, an EDF/EDF+ file, a WFDB header (.hea), or a CSV (with --rate, columns named ECG/PPG/BVP/EDA/RSP/TEMP)", Required = true };
        var window = new Option<double>("--window") { Description = "window length in seconds", DefaultValueFactory = _ => 60 };
        var hop = new Option<double>("--hop") { Description = "hop between windows in seconds", DefaultValueFactory = _ => 1 };
        var rate = new Option<double?>("--rate") { Description = "sampling rate in Hz (CSV input)" };
        var output = new Option<FileInfo>("--out") { Description = "output CSV", Required = true };
        var cmd = new Command("features", "Write the windowed feature table of a recording");
        cmd.Options.Add(input); cmd.Options.Add(window); cmd.Options.Add(hop); cmd.Options.Add(rate); cmd.Options.Add(output);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var rec = Load(parse.GetValue(input)!, parse.GetValue(rate), out var notes);
            foreach (var n in notes) Console.Error.WriteLine($"note: {n}");
            var rows = StreamingFeatureExtractor.ExtractBatch(rec, parse.GetValue(window), parse.GetValue(hop));
            Write(parse.GetValue(output)!.FullName, rows);
            Console.Out.WriteLine($"{rows.Count} windows x {rec.Channels.Count} channel(s) -> {parse.GetValue(output)!.FullName}");
        }));
        return cmd;
    }

    public static Recording Load(string path, double? rateHz, out List<string> notes) => RecordingLoader.Load(path, rateHz, out notes);

    public static void Write(string path, IReadOnlyList<FeatureVector> rows)
    {
        var names = new List<string>();
        var seen = new HashSet<string>();
        foreach (var r in rows) foreach (var n in r.Features.Names) if (seen.Add(n)) names.Add(n);
        using var w = new StreamWriter(path);
        w.WriteLine(string.Join(",", names.Append("quality_flags")));
        foreach (var r in rows)
        {
            var cells = names.Select(n => r.Features[n] is var v && double.IsFinite(v) ? v.ToString("G9", CultureInfo.InvariantCulture) : "");
            var flags = string.Join(" | ", r.Features.Flags.Select(f => f.Code).Distinct());
            w.WriteLine(string.Join(",", cells.Append(flags.Length > 0 ? $"\"{flags}\"" : "")));
        }
    }
}
