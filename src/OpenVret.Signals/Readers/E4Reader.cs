using System.Globalization;

namespace OpenVret.Signals.Readers;

/// <summary>
/// Reads an Empatica E4 export folder (ACC.csv, BVP.csv, EDA.csv, TEMP.csv; line 1 = start time, either unix
/// seconds as E4 Connect exports it or a UTC date-time such as <c>2013-02-24 12:23:49</c> as some published
/// datasets convert it; line 2 = sample rate, then samples). Channel times are seconds since the earliest file's start, so the
/// channels stay aligned. Known device start-up values are dropped and reported: TEMP readings outside
/// 15-45 °C (the first samples read 382 °C) and a leading EDA zero.
/// </summary>
public static class E4Reader
{
    public sealed record Result(Recording Recording, IReadOnlyList<string> MissingFiles, IReadOnlyList<QualityFlag> Flags, double StartUnixSeconds);

    public static Result Read(string folder)
    {
        if (!Directory.Exists(folder)) throw new SignalInputException("input", folder, "E4 folder not found");
        var flags = new List<QualityFlag>();
        var missing = new List<string>();
        var raw = new List<(Modality M, string File, double Start, double Rate, List<double[]> Rows)>();
        foreach (var (file, modality) in new[] { ("BVP.csv", Modality.Ppg), ("EDA.csv", Modality.Eda), ("TEMP.csv", Modality.SkinTemperature), ("ACC.csv", Modality.Accelerometer) })
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path)) { missing.Add(file); continue; }
            raw.Add(Parse(path, modality, file));
        }
        if (raw.Count == 0) throw new SignalInputException("input", folder, "no E4 signal file (BVP.csv, EDA.csv, TEMP.csv, ACC.csv) in the folder");
        double t0 = raw.Min(r => r.Start);
        var channels = new List<ChannelSignal>();
        foreach (var r in raw)
        {
            var rate = new SampleRate(r.Rate);
            double[] samples;
            SignalUnit unit;
            switch (r.M)
            {
                case Modality.Accelerometer:
                    samples = r.Rows.Select(v => v.Length >= 3 ? Math.Sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) / 64.0 : double.NaN).ToArray();
                    unit = SignalUnit.StandardGravity;
                    break;
                case Modality.SkinTemperature:
                    samples = r.Rows.Select(v => v[0]).ToArray();
                    int bad = 0;
                    for (int i = 0; i < samples.Length; i++)
                        if (samples[i] < Other.SkinTemperature.MinPlausible || samples[i] > Other.SkinTemperature.MaxPlausible) { samples[i] = double.NaN; bad++; }
                    if (bad > 0) flags.Add(new QualityFlag("e4_startup_values", $"TEMP: {bad} implausible samples (device start-up) set to missing"));
                    unit = SignalUnit.DegreesCelsius;
                    break;
                case Modality.Eda:
                    samples = r.Rows.Select(v => v[0]).ToArray();
                    if (samples.Length > 0 && samples[0] == 0) { samples[0] = double.NaN; flags.Add(new QualityFlag("e4_startup_values", "EDA: leading zero sample (device start-up) set to missing")); }
                    unit = SignalUnit.Microsiemens;
                    break;
                default:
                    samples = r.Rows.Select(v => v[0]).ToArray();
                    unit = SignalUnit.Arbitrary;
                    break;
            }
            channels.Add(new ChannelSignal(r.M, new Signal(samples, rate, r.Start - t0, unit, r.File[..^4])));
        }
        if (missing.Count > 0) flags.Add(new QualityFlag("missing_files", $"{folder}: missing {string.Join(", ", missing)}"));
        return new Result(new Recording(channels, DateTimeOffset.FromUnixTimeMilliseconds((long)(t0 * 1000)), folder), missing, flags, t0);
    }

    private static (Modality M, string File, double Start, double Rate, List<double[]> Rows) Parse(string path, Modality m, string file)
    {
        using var reader = new StreamReader(path);
        string? l1 = reader.ReadLine(), l2 = reader.ReadLine();
        if (l1 is null || l2 is null) throw new SignalInputException(file, "fewer than 2 lines", "an E4 file starts with the start time and the sample rate");
        double start = ParseStart(l1, file);
        double rate = ParseFirst(l2, file, 2);
        if (!(rate > 0)) throw new SignalInputException($"{file}:line 2", l2, "sample rate must be > 0");
        var rows = new List<double[]>();
        string? line; int no = 2;
        while ((line = reader.ReadLine()) is not null)
        {
            no++;
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            var v = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                v[i] = double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
            rows.Add(v);
        }
        return (m, file, start, rate, rows);
    }

    private static readonly string[] DateTimeFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFF", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.FFFFFFZ"];

    /// <summary>The start time in unix seconds: a number, or a UTC date-time (no time-zone designator means UTC).</summary>
    public static double ParseStart(string line, string file)
    {
        var f = line.Split(',')[0].Trim();
        if (double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        if (DateTime.TryParseExact(f, DateTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
            return (t - DateTime.UnixEpoch).TotalSeconds;
        throw new SignalInputException($"{file}:line 1", f, "the start time must be unix seconds or a UTC date-time (yyyy-MM-dd HH:mm:ss)");
    }

    private static double ParseFirst(string line, string file, int no)
    {
        var f = line.Split(',')[0].Trim();
        if (!double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            throw new SignalInputException($"{file}:line {no}", f, "not a number");
        return v;
    }
}
