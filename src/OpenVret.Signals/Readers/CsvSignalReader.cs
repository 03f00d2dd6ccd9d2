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
        // Lines are parsed from a reused character buffer: no string per line, so an hour of 500 Hz ECG
        // (1.8 M lines) reads without hundreds of MiB of garbage.
        var lines = new LineScanner(reader);
        ReadOnlySpan<char> line;
        int lineNo = 0;
        do
        {
            if (!lines.Next(out line)) throw new SignalInputException(source, "empty", "the CSV file has no rows");
            lineNo++;
        } while (line.Trim().Length == 0);
        char sep = line.Contains(';') && !line.Contains(',') ? ';' : line.Contains('\t') && !line.Contains(',') ? '\t' : ',';
        var first = line.ToString().Split(sep);
        bool header = !TryParse(first[0], out _) && first[0].Trim().Length > 0 && !IsNanText(first[0].Trim().Trim('"'));
        var columns = header ? first.Select(c => c.Trim().Trim('"')).ToList() : Enumerable.Range(0, first.Length).Select(i => $"col{i}").ToList();
        var data = columns.Select(_ => new Growable()).ToList();
        if (!header) AddRow(line, lineNo);
        while (lines.Next(out line))
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            AddRow(line, lineNo);
        }
        return new Table(columns, data.Select(d => d.ToArray()).ToList());

        void AddRow(ReadOnlySpan<char> row, int no)
        {
            int c = 0;
            while (true)
            {
                int cut = row.IndexOf(sep);
                var field = (cut < 0 ? row : row[..cut]).Trim().Trim('"');
                if (c >= columns.Count)
                    throw new SignalInputException($"{source}:line {no}", $"more than {columns.Count} fields", $"expected {columns.Count} fields like the first row");
                if (field.Length == 0 || IsNanText(field)) data[c].Add(double.NaN);
                else if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) data[c].Add(v);
                else throw new SignalInputException($"{source}:line {no}:{columns[c]}", field.ToString(), "not a number");
                c++;
                if (cut < 0) break;
                row = row[(cut + 1)..];
            }
            if (c != columns.Count)
                throw new SignalInputException($"{source}:line {no}", $"{c} fields", $"expected {columns.Count} fields like the first row");
        }
    }

    /// <summary>
    /// Values collected in 8k-sample chunks (below the large-object threshold) and joined once at the end:
    /// no chain of ever larger arrays waiting for a full collection.
    /// </summary>
    private sealed class Growable
    {
        private const int ChunkSize = 8192;
        private readonly List<double[]> _chunks = new();
        private int _inLast = ChunkSize;

        public void Add(double x)
        {
            if (_inLast == ChunkSize) { _chunks.Add(new double[ChunkSize]); _inLast = 0; }
            _chunks[^1][_inLast++] = x;
        }

        public double[] ToArray()
        {
            int n = _chunks.Count == 0 ? 0 : (_chunks.Count - 1) * ChunkSize + _inLast;
            var r = GC.AllocateUninitializedArray<double>(n);
            for (int c = 0; c < _chunks.Count; c++)
                _chunks[c].AsSpan(0, c == _chunks.Count - 1 ? _inLast : ChunkSize).CopyTo(r.AsSpan(c * ChunkSize));
            _chunks.Clear();
            return r;
        }
    }

    /// <summary>Yields lines as spans over an internal buffer (valid until the next call).</summary>
    private sealed class LineScanner(TextReader reader)
    {
        private char[] _buf = new char[1 << 16];
        private int _start, _end;
        private bool _eof;

        public bool Next(out ReadOnlySpan<char> line)
        {
            while (true)
            {
                int nl = Array.IndexOf(_buf, '\n', _start, _end - _start);
                if (nl >= 0)
                {
                    line = _buf.AsSpan(_start, nl - _start).TrimEnd('\r');
                    _start = nl + 1;
                    return true;
                }
                if (_eof)
                {
                    if (_start < _end) { line = _buf.AsSpan(_start, _end - _start).TrimEnd('\r'); _start = _end; return true; }
                    line = default;
                    return false;
                }
                // Move the partial line to the front, grow if one line fills the buffer, read more.
                int rest = _end - _start;
                if (rest == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
                Array.Copy(_buf, _start, _buf, 0, rest);
                _start = 0; _end = rest;
                int read = reader.Read(_buf, _end, _buf.Length - _end);
                if (read == 0) _eof = true; else _end += read;
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

    private static bool IsNanText(ReadOnlySpan<char> t) => t.Equals("nan", StringComparison.OrdinalIgnoreCase) || t.Equals("na", StringComparison.OrdinalIgnoreCase) || t.Equals("null", StringComparison.OrdinalIgnoreCase);

    private static bool TryParse(string s, out double v) =>
        double.TryParse(s.Trim().Trim('"'), NumberStyles.Float, CultureInfo.InvariantCulture, out v);

}
