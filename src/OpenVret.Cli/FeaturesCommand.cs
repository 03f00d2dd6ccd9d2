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

    public static Recording Load(string path, double? rateHz, out List<string> notes)
    {
        notes = new List<string>();
        if (Directory.Exists(path))
        {
            var e4 = E4Reader.Read(path);
            notes.AddRange(e4.Flags.Select(f => f.Message));
            return e4.Recording;
        }
        if (!File.Exists(path)) throw new SignalInputException("input", path, "no such file or folder");
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            if (rateHz is not double hz) throw new SignalInputException("rate", "(not given)", "a CSV input needs --rate");
            var rate = new SampleRate(hz);
            var table = CsvSignalReader.ReadTable(path);
            var channels = new List<ChannelSignal>();
            for (int i = 0; i < table.Columns.Count; i++)
            {
                var m = CsvSignalReader.ColumnAliases.FirstOrDefault(kv => kv.Value.Contains(table.Columns[i])).Key;
                bool known = CsvSignalReader.ColumnAliases.Any(kv => kv.Value.Contains(table.Columns[i]));
                if (!known) { notes.Add($"column '{table.Columns[i]}' is not a known signal (ECG, PPG/BVP, EDA, RSP, TEMP); skipped"); continue; }
                channels.Add(new ChannelSignal(m, new Signal(table.Data[i], rate, 0, SignalUnit.Arbitrary, table.Columns[i])));
            }
            if (channels.Count == 0) throw new SignalInputException("input", path, "no column named ECG, PPG/BVP, EDA, RSP or TEMP");
            return new Recording(channels, null, path);
        }
        if (path.EndsWith(".edf", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".hea", StringComparison.OrdinalIgnoreCase))
        {
            var rec = path.EndsWith(".edf", StringComparison.OrdinalIgnoreCase) ? Edf.Read(path).Recording : WfdbReader.Read(path);
            var known = rec.Channels.Where(c => c.Modality != Modality.Other).ToList();
            foreach (var c in rec.Channels.Where(c => c.Modality == Modality.Other))
                notes.Add($"channel '{c.Signal.Name}' is not a signal we extract features from; skipped");
            if (known.Count == 0) throw new SignalInputException("input", path, "no ECG, PPG, EDA, respiration, temperature, accelerometer or EEG channel");
            return rec with { Channels = known };
        }
        throw new SignalInputException("input", path, "expected an E4 folder, a .csv, an .edf or a WFDB .hea file");
    }

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
