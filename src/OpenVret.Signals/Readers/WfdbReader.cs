using System.Globalization;

namespace OpenVret.Signals.Readers;

/// <summary>
/// Reads PhysioNet WFDB records (header .hea + signal files) in formats 16 (16-bit little-endian), 212
/// (two 12-bit samples in three bytes) and 80 (8-bit offset binary), including several samples per frame
/// ("16x32") and several signals interleaved in one file. Physical value = (ADC - baseline) / gain.
/// Reference: WFDB header(5) and signal(5) manual pages, Moody, PhysioNet.
/// </summary>
public static class WfdbReader
{
    public sealed record SignalSpec(string File, int Format, int SamplesPerFrame, double Gain, int Baseline, string Units, string Description, int ByteOffset);
    public sealed record Header(string Record, double FrameRate, long Frames, IReadOnlyList<SignalSpec> Signals);

    /// <summary>Reads <paramref name="path"/> (the .hea file, or the record path without extension).</summary>
    public static Recording Read(string path)
    {
        string hea = path.EndsWith(".hea", StringComparison.OrdinalIgnoreCase) ? path : path + ".hea";
        var header = ReadHeader(hea);
        string dir = Path.GetDirectoryName(Path.GetFullPath(hea))!;
        var data = new double[header.Signals.Count][];
        foreach (var group in header.Signals.Select((s, i) => (s, i)).GroupBy(t => t.s.File))
        {
            var members = group.ToList();
            var formats = members.Select(m => m.s.Format).Distinct().ToList();
            if (formats.Count != 1)
                throw new SignalInputException($"{Path.GetFileName(hea)}:{group.Key}", string.Join("/", formats), "signals sharing a file must share a format");
            string file = Path.Combine(dir, group.Key);
            if (!File.Exists(file)) throw new SignalInputException("signal file", file, "not found (named in the header)");
            var bytes = File.ReadAllBytes(file);
            int offset = members[0].s.ByteOffset;
            int perFrame = members.Sum(m => m.s.SamplesPerFrame);
            var stream = Decode(bytes.AsSpan(offset), formats[0], file);
            long frames = Math.Min(header.Frames > 0 ? header.Frames : long.MaxValue, stream.Length / perFrame);
            if (header.Frames > 0 && frames < header.Frames)
                throw new SignalInputException(Path.GetFileName(file), $"{stream.Length / perFrame} frames", $"the header promises {header.Frames} frames: the file is truncated");
            foreach (var (s, i) in members) data[i] = new double[frames * s.SamplesPerFrame];
            long pos = 0;
            for (long f = 0; f < frames; f++)
                foreach (var (s, i) in members)
                    for (int k = 0; k < s.SamplesPerFrame; k++)
                    {
                        int adu = stream[pos++];
                        data[i][f * s.SamplesPerFrame + k] = adu == InvalidSample(s.Format) ? double.NaN : (adu - s.Baseline) / s.Gain;
                    }
        }
        var channels = header.Signals.Select((s, i) => new ChannelSignal(ModalityOf(s.Description),
            new Signal(data[i], new SampleRate(header.FrameRate * s.SamplesPerFrame), 0, UnitText.Parse(s.Units), s.Description))).ToList();
        return new Recording(channels, null, hea);
    }

    /// <summary>The "invalid sample" code of each format (stored as NaN).</summary>
    private static int InvalidSample(int format) => format switch { 16 => -32768, 212 => -2048, 80 => -128, _ => int.MinValue };

    public static Modality ModalityOf(string description)
    {
        var d = description.ToUpperInvariant();
        if (d.Contains("ECG") || d.StartsWith("MLII") || d.StartsWith("V5") || d.StartsWith("II")) return Modality.Ecg;
        if (d.Contains("GSR") || d.Contains("EDA") || d.Contains("SKIN COND")) return Modality.Eda;
        if (d.Contains("RESP")) return Modality.Respiration;
        if (d.Contains("PPG") || d.Contains("PLETH") || d.Contains("BVP")) return Modality.Ppg;
        if (d.Contains("TEMP")) return Modality.SkinTemperature;
        return Modality.Other;
    }

    public static Header ReadHeader(string hea)
    {
        if (!File.Exists(hea)) throw new SignalInputException("input", hea, "WFDB header not found");
        var lines = File.ReadAllLines(hea).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        string name = Path.GetFileName(hea);
        if (lines.Count == 0) throw new SignalInputException(name, "empty", "no record line");
        var rec = lines[0].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (rec.Length < 2) throw new SignalInputException($"{name}:line 1", lines[0], "expected 'record nsig [fs [nsamples]]'");
        if (rec[0].Contains('/')) throw new SignalInputException($"{name}:line 1", rec[0], "multi-segment records are not supported");
        int nsig = ParseInt(rec[1], $"{name}:line 1:nsig");
        double fs = rec.Length > 2 ? ParseDouble(rec[2].Split('/')[0], $"{name}:line 1:frequency") : 250;
        if (!(fs > 0)) throw new SignalInputException($"{name}:line 1:frequency", rec[2], "must be > 0");
        long frames = rec.Length > 3 ? (long)ParseDouble(rec[3], $"{name}:line 1:nsamples") : 0;
        if (lines.Count < 1 + nsig) throw new SignalInputException(name, $"{lines.Count - 1} signal lines", $"the record line announces {nsig}");
        var specs = new List<SignalSpec>();
        for (int i = 0; i < nsig; i++)
        {
            string where = $"{name}:signal {i + 1}";
            var f = lines[1 + i].Split((char[]?)null, 9, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2) throw new SignalInputException(where, lines[1 + i], "expected 'file format ...'");
            // format[xspf][:skew][+offset]
            string fmt = f[1];
            int byteOffset = 0, spf = 1;
            int plus = fmt.IndexOf('+');
            if (plus >= 0) { byteOffset = ParseInt(fmt[(plus + 1)..], where + ":byte offset"); fmt = fmt[..plus]; }
            int colon = fmt.IndexOf(':'); if (colon >= 0) fmt = fmt[..colon];
            int x = fmt.IndexOf('x');
            if (x >= 0) { spf = ParseInt(fmt[(x + 1)..], where + ":samples per frame"); fmt = fmt[..x]; }
            int format = ParseInt(fmt, where + ":format");
            if (format is not (16 or 212 or 80))
                throw new SignalInputException(where + ":format", format.ToString(), "supported WFDB formats: 16, 212, 80");
            // gain[(baseline)][/units]
            double gain = 200; string units = "mV"; int? baseline = null;
            if (f.Length > 2)
            {
                string g = f[2];
                int slash = g.IndexOf('/');
                if (slash >= 0) { units = g[(slash + 1)..]; g = g[..slash]; }
                int paren = g.IndexOf('(');
                if (paren >= 0) { baseline = ParseInt(g[(paren + 1)..g.IndexOf(')')], where + ":baseline"); g = g[..paren]; }
                gain = ParseDouble(g, where + ":gain");
                if (gain == 0) gain = 200;
            }
            int adcZero = f.Length > 4 ? ParseInt(f[4], where + ":adc zero") : 0;
            string desc = f.Length > 8 ? f[8] : $"signal {i}";
            specs.Add(new SignalSpec(f[0], format, spf, gain, baseline ?? adcZero, units, desc, byteOffset));
        }
        return new Header(rec[0], fs, frames, specs);
    }

    /// <summary>Decodes a byte stream into ADC units, in file order.</summary>
    internal static int[] Decode(ReadOnlySpan<byte> b, int format, string file)
    {
        switch (format)
        {
            case 16:
                {
                    var r = new int[b.Length / 2];
                    for (int i = 0; i < r.Length; i++) r[i] = (short)(b[2 * i] | (b[2 * i + 1] << 8));
                    return r;
                }
            case 80:
                {
                    var r = new int[b.Length];
                    for (int i = 0; i < r.Length; i++) r[i] = b[i] - 128;
                    return r;
                }
            case 212:
                {
                    int pairs = b.Length / 3;
                    var r = new int[pairs * 2];
                    for (int p = 0; p < pairs; p++)
                    {
                        int b0 = b[3 * p], b1 = b[3 * p + 1], b2 = b[3 * p + 2];
                        int s0 = b0 | ((b1 & 0x0F) << 8);
                        int s1 = b2 | ((b1 & 0xF0) << 4);
                        r[2 * p] = s0 >= 2048 ? s0 - 4096 : s0;
                        r[2 * p + 1] = s1 >= 2048 ? s1 - 4096 : s1;
                    }
                    return r;
                }
            default: throw new SignalInputException("format", format.ToString(), $"{file}: unsupported");
        }
    }

    private static int ParseInt(string s, string field) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new SignalInputException(field, s, "not an integer");

    private static double ParseDouble(string s, string field) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new SignalInputException(field, s, "not a number");
}
