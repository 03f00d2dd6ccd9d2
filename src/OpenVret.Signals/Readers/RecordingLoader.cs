namespace OpenVret.Signals.Readers;

/// <summary>
/// Opens a recording by what the path is: an Empatica E4 folder, a CSV with named columns (needs the rate),
/// an EDF/EDF+ file or a WFDB record (.hea). Channels that are not a signal we process are skipped with a note.
/// </summary>
public static class RecordingLoader
{
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

}
