using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenVret.Learning.Outcome;

/// <summary>Bad outcome data: names the column, the row (1 = header) and the value.</summary>
public sealed class OutcomeDataException(string column, int row, string value, string problem)
    : Exception($"{column} (row {row}) = '{value}': {problem}")
{
    public string Column { get; } = column;
    public int Row { get; } = row;
}

/// <summary>One patient of a session-level dataset (see docs/outcome.md for every column).</summary>
public sealed record OutcomeRecord(
    string Patient,
    string Site,
    IReadOnlyDictionary<string, double> Numeric,
    IReadOnlyDictionary<string, string> Categorical,
    IReadOnlyDictionary<string, double> Outcomes);

/// <summary>
/// The session-level schema for outcome prediction, as CSV (comma-separated, '.' decimals, a header row, empty =
/// missing). Identity: <c>patient</c> (pseudonym), the site column (default <c>site</c>). Demographics:
/// <c>age</c> (years), <c>sex</c>, any <c>demo_*</c>. Baseline: <c>baseline_severity</c> and any
/// <c>baseline_*</c>. Per session k = 1, 2, ...: <c>s{k}_{name}</c> (physiology: hr_baseline_bpm,
/// hr_reactivity_bpm, hr_slope_bpm_per_min, scl_reactivity_us, scl_slope_us_per_min; self-report and exposure:
/// suds_peak, suds_end, suds_slope_per_min, expectancy_first, violation_mean, trials, highest_step,
/// minutes_above_ceiling, safety_holds, exposure_minutes; other names are accepted). Outcomes:
/// <c>post_severity</c>, <c>followup_severity</c>, <c>responder</c> and <c>remitter</c> (0/1; when the responder column is
/// absent it is derived as sustained response: follow-up (else post) severity at most half the baseline). Exported by the server and by the simulator.
/// </summary>
public static class OutcomeSchema
{
    public static readonly string[] OutcomeColumns = ["post_severity", "followup_severity", "responder", "remitter"];

    /// <summary>The per-session variables (columns s{k}_{name}) that the simulator and the server export.</summary>
    public static readonly string[] SessionVariables =
    [
        "hr_baseline_bpm", "hr_reactivity_bpm", "hr_slope_bpm_per_min", "scl_reactivity_us", "scl_slope_us_per_min", "suds_peak", "suds_end",
        "suds_slope_per_min", "expectancy_first", "violation_mean", "trials", "highest_step", "minutes_above_ceiling", "safety_holds", "exposure_minutes",
    ];

    /// <summary>The physiological ones among them.</summary>
    public static readonly string[] PhysiologyVariables = ["hr_baseline_bpm", "hr_reactivity_bpm", "hr_slope_bpm_per_min", "scl_reactivity_us", "scl_slope_us_per_min"];

    /// <summary>Sustained response when no responder column is given: follow-up (else post) severity at most half the baseline.</summary>
    public static void DeriveResponder(IReadOnlyDictionary<string, double> numeric, Dictionary<string, double> outcomes)
    {
        double? after = outcomes.TryGetValue("followup_severity", out var fu) ? fu : outcomes.TryGetValue("post_severity", out var post) ? post : null;
        if (!outcomes.ContainsKey("responder") && after is double a && numeric.TryGetValue("baseline_severity", out var pre) && pre > 0)
            outcomes["responder"] = a <= 0.5 * pre ? 1 : 0;
    }
    public static readonly string[] CategoricalColumns = ["sex"];
    public static readonly Regex SessionColumn = new(@"^s(\d+)_([a-z0-9_]+)$", RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>Reads a dataset; every problem names the column, row and value. Unknown columns that fit no family are refused.</summary>
    public static List<OutcomeRecord> Read(string path, string siteColumn = "site")
    {
        using var reader = new StreamReader(path);
        return Read(reader, siteColumn, path);
    }

    public static List<OutcomeRecord> Read(TextReader reader, string siteColumn, string source)
    {
        var header = reader.ReadLine() ?? throw new OutcomeDataException("(header)", 1, "", $"{source} is empty");
        var columns = Split(header).Select(c => c.Trim()).ToArray();
        int Index(string name) => Array.IndexOf(columns, name);
        if (Index("patient") < 0) throw new OutcomeDataException("patient", 1, header, "the dataset needs a 'patient' column (pseudonymous id)");
        if (Index(siteColumn) < 0) throw new OutcomeDataException(siteColumn, 1, header, $"no site column '{siteColumn}' (use --site-column to name it)");
        foreach (var c in columns)
        {
            if (c == "patient" || c == siteColumn || OutcomeColumns.Contains(c) || CategoricalColumns.Contains(c) || c == "age" || c.StartsWith("demo_", StringComparison.Ordinal)
                || c.StartsWith("baseline_", StringComparison.Ordinal) || SessionColumn.IsMatch(c) || c is "dropped_out" or "sessions_attended") continue;
            throw new OutcomeDataException(c, 1, c, "not a column of the outcome schema (see docs/outcome.md): patient, site, age, sex, demo_*, baseline_*, s{k}_*, post_severity, followup_severity, responder, remitter");
        }
        var list = new List<OutcomeRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int row = 1;
        while (reader.ReadLine() is { } line)
        {
            row++;
            if (line.Trim().Length == 0) continue;
            var cells = Split(line);
            if (cells.Count != columns.Length) throw new OutcomeDataException("(row)", row, line.Length > 60 ? line[..60] + "..." : line, $"{cells.Count} cells, the header has {columns.Length}");
            string patient = cells[Index("patient")].Trim(), site = cells[Index(siteColumn)].Trim();
            if (patient.Length == 0) throw new OutcomeDataException("patient", row, "", "empty patient id");
            if (site.Length == 0) throw new OutcomeDataException(siteColumn, row, "", "empty site");
            if (!seen.Add(patient)) throw new OutcomeDataException("patient", row, patient, "appears twice (one row per patient)");
            var numeric = new Dictionary<string, double>(StringComparer.Ordinal);
            var categorical = new Dictionary<string, string>(StringComparer.Ordinal);
            var outcomes = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int i = 0; i < columns.Length; i++)
            {
                var c = columns[i];
                var v = cells[i].Trim();
                if (c == "patient" || c == siteColumn || v.Length == 0) continue;
                bool isCategorical = CategoricalColumns.Contains(c) || (c.StartsWith("demo_", StringComparison.Ordinal) && !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (isCategorical) { categorical[c] = v.ToLowerInvariant(); continue; }
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
                    throw new OutcomeDataException(c, row, v, "not a number (use '.' for decimals; leave the cell empty when missing)");
                if (c is "responder" or "remitter" && x is not (0 or 1)) throw new OutcomeDataException(c, row, v, "must be 0 or 1");
                if (OutcomeColumns.Contains(c)) outcomes[c] = x; else numeric[c] = x;
            }
            DeriveResponder(numeric, outcomes);
            list.Add(new OutcomeRecord(patient, site, numeric, categorical, outcomes));
        }
        if (list.Count == 0) throw new OutcomeDataException("(rows)", 2, "", $"{source} has a header but no patients");
        return list;
    }

    /// <summary>Writes records with the columns in schema order (identity, demographics, baseline, sessions, outcomes).</summary>
    public static void Write(TextWriter w, IReadOnlyList<OutcomeRecord> records, string siteColumn = "site")
    {
        var numericCols = records.SelectMany(r => r.Numeric.Keys).Distinct().OrderBy(Order).ThenBy(c => c, StringComparer.Ordinal).ToList();
        var catCols = records.SelectMany(r => r.Categorical.Keys).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
        var outCols = OutcomeColumns.Where(c => records.Any(r => r.Outcomes.ContainsKey(c))).ToList();
        w.WriteLine(string.Join(',', new[] { "patient", siteColumn }.Concat(catCols).Concat(numericCols).Concat(outCols)));
        var c = CultureInfo.InvariantCulture;
        foreach (var r in records)
        {
            var cells = new List<string> { Escape(r.Patient), Escape(r.Site) };
            cells.AddRange(catCols.Select(k => r.Categorical.TryGetValue(k, out var v) ? Escape(v) : ""));
            cells.AddRange(numericCols.Select(k => r.Numeric.TryGetValue(k, out var v) ? v.ToString("R", c) : ""));
            cells.AddRange(outCols.Select(k => r.Outcomes.TryGetValue(k, out var v) ? v.ToString("R", c) : ""));
            w.WriteLine(string.Join(',', cells));
        }
    }

    private static (int, int) Order(string column)
    {
        if (column == "age") return (0, 0);
        if (column.StartsWith("demo_", StringComparison.Ordinal)) return (1, 0);
        if (column.StartsWith("baseline_", StringComparison.Ordinal)) return (2, 0);
        var m = SessionColumn.Match(column);
        if (m.Success) return (3, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        return (4, 0);
    }

    /// <summary>
    /// A text cell. One that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return:
    /// OWASP's CSV-injection list) gets a leading single quote and is quoted, so it shows as text; a cell with a comma,
    /// quote or line break is quoted. Numbers never pass through here (a negative number stays a number).
    /// </summary>
    public static string Escape(string v)
    {
        bool formula = v.Length > 0 && v[0] is '=' or '+' or '-' or '@' or '\t' or '\r';
        if (formula) v = "'" + v;
        return formula || v.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
    }

    private static List<string> Split(string line)
    {
        var cells = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        cells.Add(sb.ToString());
        return cells;
    }
}
