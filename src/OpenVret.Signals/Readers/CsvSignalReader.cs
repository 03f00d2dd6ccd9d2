using System.Globalization;

namespace OpenVret.Signals.Readers;

/// <summary>
/// Reads a numeric column from a CSV file: one column without header, or a header naming the columns
/// (select with <c>column</c>; by default the only column, or the first whose name matches the modality).
/// Empty cells and "nan" become NaN (bridged or flagged later); any other non-number is an error naming
/// the line, column and text.
/// </summary>
public static class CsvSignalReader
{
    public static readonly IReadOnlyDictionary<Modality, string[]> ColumnAliases = new Dictionary<Modality, string[]>
    {
        [Modality.Ecg] = new[] { "ECG", "ecg" },
        [Modality.Ppg] = new[] { "PPG", "ppg", "BVP", "bvp" },
        [Modality.Eda] = new[] { "EDA", "eda", "GSR", "gsr" },
        [Modality.Respiration] = new[] { "RSP", "rsp", "RESP", "Resp", "resp" },
        [Modality.SkinTemperature] = new[] { "TEMP", "temp", "Temp" },
    };

    public sealed record Table(IReadOnlyList<string> Columns, IReadOnlyList<double[]> Data);

    /// <summary>Reads every column. Header detection: first line is a header if its first field is not a number.</summary>
    public static Table ReadTable(string path)
    {
        if (!File.Exists(path)) throw new SignalInputException("input", path, "file not found");
        using var reader = new StreamReader(path);
        return ReadTable(reader, path);
    }

    public static Table ReadTable(TextReader reader, string source = "csv")
    {
        string? line = reader.ReadLine();
        while (line is not null && line.Trim().Length == 0) line = reader.ReadLine();
        if (line is null) throw new SignalInputException(source, "empty", "the CSV file has no rows");
        char sep = line.Contains(';') && !line.Contains(',') ? ';' : line.Contains('\t') && !line.Contains(',') ? '\t' : ',';
        var first = Split(line, sep);
        bool header = !TryParse(first[0], out _) && first[0].Trim().Length > 0 && !IsNanText(first[0]);
        var columns = header ? first.Select(c => c.Trim().Trim('"')).ToList() : Enumerable.Range(0, first.Length).Select(i => $"col{i}").ToList();
        var data = columns.Select(_ => new List<double>()).ToList();
        int lineNo = 1;
        if (!header) AddRow(first, lineNo);
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            AddRow(Split(line, sep), lineNo);
        }
        return new Table(columns, data.Select(d => d.ToArray()).ToList());

        void AddRow(string[] fields, int no)
        {
            if (fields.Length != columns.Count)
                throw new SignalInputException($"{source}:line {no}", $"{fields.Length} fields", $"expected {columns.Count} fields like the first row");
            for (int c = 0; c < fields.Length; c++)
            {
                var t = fields[c].Trim().Trim('"');
                if (t.Length == 0 || IsNanText(t)) { data[c].Add(double.NaN); continue; }
                if (!TryParse(t, out var v))
                    throw new SignalInputException($"{source}:line {no}:{columns[c]}", t, "not a number");
                data[c].Add(v);
            }
        }
    }

    /// <summary>Reads one column as a signal.</summary>
    public static Signal Read(string path, SampleRate rate, string? column = null, Modality? modality = null)
    {
        var table = ReadTable(path);
        int idx = SelectColumn(table.Columns, column, modality, path);
        return new Signal(table.Data[idx], rate, 0, SignalUnit.Arbitrary, table.Columns[idx]);
    }

    public static int SelectColumn(IReadOnlyList<string> columns, string? column, Modality? modality, string source)
    {
        if (column is not null)
        {
            for (int i = 0; i < columns.Count; i++) if (string.Equals(columns[i], column, StringComparison.OrdinalIgnoreCase)) return i;
            if (int.TryParse(column, out var n) && n >= 0 && n < columns.Count) return n;
            throw new SignalInputException("column", column, $"{source} has columns [{string.Join(", ", columns)}]");
        }
        if (columns.Count == 1) return 0;
        if (modality is Modality m && ColumnAliases.TryGetValue(m, out var aliases))
            for (int i = 0; i < columns.Count; i++) if (aliases.Contains(columns[i])) return i;
        throw new SignalInputException("column", "(not given)", $"{source} has several columns [{string.Join(", ", columns)}]; choose one with --column");
    }

    private static bool IsNanText(string t) => t.Equals("nan", StringComparison.OrdinalIgnoreCase) || t.Equals("na", StringComparison.OrdinalIgnoreCase) || t.Equals("null", StringComparison.OrdinalIgnoreCase);

    private static bool TryParse(string s, out double v) =>
        double.TryParse(s.Trim().Trim('"'), NumberStyles.Float, CultureInfo.InvariantCulture, out v);

    private static string[] Split(string line, char sep) => line.Split(sep);
}
