using System.Globalization;
using System.Text;

namespace OpenVret.Signals.Readers;

/// <summary>An EDF+ annotation: onset and duration in seconds from the start of the recording.</summary>
public sealed record EdfAnnotation(double OnsetSeconds, double? DurationSeconds, string Text);

/// <summary>What an EDF/EDF+ file holds besides the samples.</summary>
public sealed record EdfContent(Recording Recording, IReadOnlyList<EdfAnnotation> Annotations, string PatientId, string RecordingId,
    DateTime Start, bool IsEdfPlus, bool Discontinuous, double RecordDurationSeconds);

/// <summary>
/// European Data Format: EDF (Kemp et al. 1992, Electroencephalogr Clin Neurophysiol 82:391) and EDF+
/// (Kemp &amp; Olivan 2003, Clin Neurophysiol 114:1755), reading continuous (EDF+C) and discontinuous
/// (EDF+D: records placed at their time-keeping annotation, gaps filled with NaN) files, and writing EDF+C
/// with annotations. EDF has no missing-value code: we write NaN as -32768 and declare a digital minimum of
/// -32767, so our reader (and any tool that honours the declared range) sees it as out of range.
/// </summary>
public static class Edf
{
    private const string AnnotationLabel = "EDF Annotations";

    public static EdfContent Read(string path)
    {
        if (!File.Exists(path)) throw new SignalInputException("input", path, "EDF file not found");
        var bytes = File.ReadAllBytes(path);
        string name = Path.GetFileName(path);
        if (bytes.Length < 256) throw new SignalInputException($"{name}:header", $"{bytes.Length} bytes", "an EDF header is at least 256 bytes");
        string Ascii(int offset, int len) => Encoding.ASCII.GetString(bytes, offset, len).Trim();
        if (Ascii(0, 8) != "0") throw new SignalInputException($"{name}:header.version", Ascii(0, 8), "EDF version must be '0'");
        string patient = Ascii(8, 80), recording = Ascii(88, 80);
        var start = ParseStart(Ascii(168, 8), Ascii(176, 8), name);
        int headerBytes = Int(Ascii(184, 8), $"{name}:header.bytes");
        string reserved = Ascii(192, 44);
        bool plus = reserved.StartsWith("EDF+", StringComparison.Ordinal);
        bool discontinuous = reserved.StartsWith("EDF+D", StringComparison.Ordinal);
        int records = Int(Ascii(236, 8), $"{name}:header.numberOfDataRecords");
        double duration = Dbl(Ascii(244, 8), $"{name}:header.dataRecordDuration");
        int ns = Int(Ascii(252, 4), $"{name}:header.numberOfSignals");
        if (ns < 1 || headerBytes != 256 * (ns + 1))
            throw new SignalInputException($"{name}:header.numberOfSignals", ns.ToString(), $"header size {headerBytes} does not equal 256 x (signals + 1)");
        if (bytes.Length < headerBytes) throw new SignalInputException($"{name}:header", $"{bytes.Length} bytes", $"file shorter than its {headerBytes}-byte header");
        int pos = 256;
        string[] Field(int width) { var r = new string[ns]; for (int i = 0; i < ns; i++) r[i] = Ascii(pos + i * width, width); pos += ns * width; return r; }
        var labels = Field(16); var transducer = Field(80); var dims = Field(8);
        var pmin = Field(8).Select((s, i) => Dbl(s, $"{name}:signal {i + 1} ({labels[i]}).physicalMinimum")).ToArray();
        var pmax = Field(8).Select((s, i) => Dbl(s, $"{name}:signal {i + 1} ({labels[i]}).physicalMaximum")).ToArray();
        var dmin = Field(8).Select((s, i) => Int(s, $"{name}:signal {i + 1} ({labels[i]}).digitalMinimum")).ToArray();
        var dmax = Field(8).Select((s, i) => Int(s, $"{name}:signal {i + 1} ({labels[i]}).digitalMaximum")).ToArray();
        Field(80);
        var spr = Field(8).Select((s, i) => Int(s, $"{name}:signal {i + 1} ({labels[i]}).samplesPerRecord")).ToArray();
        for (int i = 0; i < ns; i++)
        {
            if (dmax[i] <= dmin[i]) throw new SignalInputException($"{name}:signal {i + 1} ({labels[i]}).digitalMaximum", dmax[i].ToString(), $"must exceed the digital minimum {dmin[i]}");
            if (spr[i] < 1) throw new SignalInputException($"{name}:signal {i + 1} ({labels[i]}).samplesPerRecord", spr[i].ToString(), "must be >= 1");
        }
        int recordBytes = 2 * spr.Sum();
        int available = (bytes.Length - headerBytes) / recordBytes;
        if (records < 0) records = available;
        if (available < records)
            throw new SignalInputException($"{name}:data", $"{available} complete records", $"the header announces {records}: the file is truncated");
        bool annotationOnly = Enumerable.Range(0, ns).All(i => plus && labels[i] == AnnotationLabel);
        if (!(duration > 0) && !annotationOnly)
            throw new SignalInputException($"{name}:header.dataRecordDuration", duration.ToString(CultureInfo.InvariantCulture), "must be > 0 for a file with signals");

        var annIdx = plus ? Array.IndexOf(labels, AnnotationLabel) : -1;
        var recordStart = new double[records];
        var annotations = new List<EdfAnnotation>();
        // Record onsets (EDF+: the first TAL of each record), then annotations.
        for (int r = 0; r < records; r++)
        {
            recordStart[r] = r * duration;
            if (annIdx < 0) continue;
            int off = headerBytes + r * recordBytes + 2 * spr.Take(annIdx).Sum();
            var tals = ParseTals(bytes.AsSpan(off, 2 * spr[annIdx]), $"{name}:record {r + 1}");
            if (tals.Count > 0 && tals[0].Text.Length == 0) { recordStart[r] = tals[0].OnsetSeconds; tals.RemoveAt(0); }
            annotations.AddRange(tals);
        }
        double total = records == 0 ? 0 : recordStart.Max() + duration;
        var channels = new List<ChannelSignal>();
        for (int i = 0; i < ns; i++)
        {
            if (i == annIdx) continue;
            var rate = new SampleRate(spr[i] / duration);
            int length = discontinuous ? (int)Math.Round(total * rate.Hertz) : records * spr[i];
            var x = new double[length];
            if (discontinuous) Array.Fill(x, double.NaN);
            double scale = (pmax[i] - pmin[i]) / (dmax[i] - dmin[i]);
            int sigOff = 2 * spr.Take(i).Sum();
            for (int r = 0; r < records; r++)
            {
                int baseIdx = discontinuous ? (int)Math.Round(recordStart[r] * rate.Hertz) : r * spr[i];
                int off = headerBytes + r * recordBytes + sigOff;
                for (int k = 0; k < spr[i] && baseIdx + k < x.Length; k++)
                {
                    int d = (short)(bytes[off + 2 * k] | (bytes[off + 2 * k + 1] << 8));
                    x[baseIdx + k] = d < dmin[i] || d > dmax[i] ? double.NaN : pmin[i] + (d - dmin[i]) * scale;
                }
            }
            channels.Add(new ChannelSignal(ModalityOf(labels[i], transducer[i]), new Signal(x, rate, 0, UnitText.Parse(dims[i]), labels[i])));
        }
        var rec = new Recording(channels, new DateTimeOffset(start, TimeSpan.Zero), path);
        return new EdfContent(rec, annotations, patient, recording, start, plus, discontinuous, duration);
    }

    public static Modality ModalityOf(string label, string transducer)
    {
        var m = WfdbReader.ModalityOf(label);
        if (m != Modality.Other) return m;
        var l = (label + " " + transducer).ToUpperInvariant();
        if (l.Contains("EEG")) return Modality.Eeg;
        if (l.Contains("ACC")) return Modality.Accelerometer;
        return Modality.Other;
    }

    /// <summary>
    /// Writes an EDF+C file. Every channel's rate times the record duration must be a whole number of samples
    /// (the shortest such duration of at most 10 s is chosen). The patient field is written as given: pass a
    /// pseudonymous code, never a name.
    /// </summary>
    public static void Write(string path, Recording recording, IEnumerable<EdfAnnotation>? annotations = null,
        string patientCode = "X", DateTime? start = null, string recordingId = "")
    {
        var chans = recording.Channels;
        if (chans.Count == 0) throw new SignalInputException("recording.channels", "0", "nothing to write");
        double duration = ChooseRecordDuration(chans.Select(c => c.Signal.Rate.Hertz).ToList());
        var spr = chans.Select(c => (int)Math.Round(c.Signal.Rate.Hertz * duration)).ToList();
        int records = chans.Select((c, i) => (int)Math.Ceiling((double)c.Signal.Length / spr[i])).Max();
        var anns = (annotations ?? Array.Empty<EdfAnnotation>()).OrderBy(a => a.OnsetSeconds).ToList();
        // Annotation bytes per record: time-keeping TAL plus the annotations whose onset falls in the record.
        var perRecord = new List<byte[]>();
        for (int r = 0; r < records; r++)
        {
            var sb = new StringBuilder();
            sb.Append('+').Append(Num(r * duration)).Append("\x14\x14\0");
            foreach (var a in anns.Where(a => (int)Math.Floor(a.OnsetSeconds / duration) == r || (r == records - 1 && a.OnsetSeconds >= records * duration) || (r == 0 && a.OnsetSeconds < 0)))
            {
                sb.Append(a.OnsetSeconds >= 0 ? "+" : "").Append(Num(a.OnsetSeconds));
                if (a.DurationSeconds is double d) sb.Append('\x15').Append(Num(d));
                sb.Append('\x14').Append(a.Text.Replace('\x14', ' ').Replace('\0', ' ')).Append("\x14\0");
            }
            perRecord.Add(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        int annSamples = Math.Max(30, (perRecord.Max(b => b.Length) + 1) / 2);

        int ns = chans.Count + 1;
        var pmin = new double[chans.Count]; var pmax = new double[chans.Count];
        for (int i = 0; i < chans.Count; i++)
        {
            var finite = chans[i].Signal.Samples.Where(double.IsFinite).ToList();
            double lo = finite.Count > 0 ? finite.Min() : -1, hi = finite.Count > 0 ? finite.Max() : 1;
            if (hi - lo < 1e-12) { lo -= 1; hi += 1; }
            pmin[i] = ParseBack(Num8(lo, down: true)); pmax[i] = ParseBack(Num8(hi, down: false));
        }
        var t0 = start ?? recording.StartWallClock?.UtcDateTime ?? new DateTime(1985, 1, 1);
        using var fsOut = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var w = new BinaryWriter(fsOut);
        void A(string s, int width) => w.Write(Encoding.ASCII.GetBytes(s.Length > width ? s[..width] : s.PadRight(width)));
        A("0", 8);
        A($"{Sanitize(patientCode)} X X X", 80);
        A($"Startdate {t0.ToString("dd-MMM-yyyy", CultureInfo.InvariantCulture).ToUpperInvariant()} {Sanitize(recordingId.Length > 0 ? recordingId : "X")} X OpenVRET", 80);
        A(t0.ToString("dd.MM.yy", CultureInfo.InvariantCulture), 8);
        A(t0.ToString("HH.mm.ss", CultureInfo.InvariantCulture), 8);
        A((256 * (ns + 1)).ToString(CultureInfo.InvariantCulture), 8);
        A("EDF+C", 44);
        A(records.ToString(CultureInfo.InvariantCulture), 8);
        A(Num(duration), 8);
        A(ns.ToString(CultureInfo.InvariantCulture), 4);
        foreach (var c in chans) A(c.Signal.Name.Length > 0 ? c.Signal.Name : c.Modality.ToString(), 16); A(AnnotationLabel, 16);
        foreach (var c in chans) A(c.Modality.ToString(), 80); A("", 80);
        foreach (var c in chans) A(c.Signal.Unit.Symbol(), 8); A("", 8);
        for (int i = 0; i < chans.Count; i++) A(Num8(pmin[i], true), 8); A("-1", 8);
        for (int i = 0; i < chans.Count; i++) A(Num8(pmax[i], false), 8); A("1", 8);
        foreach (var _ in chans) A("-32767", 8); A("-32768", 8);
        foreach (var _ in chans) A("32767", 8); A("32767", 8);
        foreach (var _ in chans) A("", 80); A("", 80);
        foreach (var s in spr) A(s.ToString(CultureInfo.InvariantCulture), 8); A(annSamples.ToString(CultureInfo.InvariantCulture), 8);
        for (int i = 0; i < ns; i++) A("", 32);
        for (int r = 0; r < records; r++)
        {
            for (int i = 0; i < chans.Count; i++)
            {
                var x = chans[i].Signal.Samples;
                double scale = (32767.0 - -32767.0) / (pmax[i] - pmin[i]);
                for (int k = 0; k < spr[i]; k++)
                {
                    int idx = r * spr[i] + k;
                    short d = idx >= x.Length || !double.IsFinite(x[idx]) ? (short)-32768
                        : (short)Math.Clamp(Math.Round(-32767 + (x[idx] - pmin[i]) * scale), -32767, 32767);
                    w.Write(d);
                }
            }
            var ann = new byte[2 * annSamples];
            perRecord[r].CopyTo(ann, 0);
            w.Write(ann);
        }
    }

    private static double ChooseRecordDuration(List<double> rates)
    {
        foreach (var d in new[] { 1.0, 2, 4, 5, 10, 0.5, 0.25, 0.2, 0.1 })
            if (rates.All(r => Math.Abs(r * d - Math.Round(r * d)) < 1e-9 && Math.Round(r * d) >= 1)) return d;
        throw new SignalInputException("sampleRate", string.Join("/", rates.Select(r => r.ToString(CultureInfo.InvariantCulture))),
            "EDF needs a record duration (<= 10 s) holding a whole number of samples of every channel; resample first");
    }

    private static List<EdfAnnotation> ParseTals(ReadOnlySpan<byte> raw, string where)
    {
        var res = new List<EdfAnnotation>();
        string text = Encoding.UTF8.GetString(raw);
        foreach (var tal in text.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = tal.Split('\x14');
            if (parts.Length < 2) continue;
            var head = parts[0].Split('\x15');
            if (!double.TryParse(head[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var onset))
                throw new SignalInputException($"{where}:annotation onset", head[0], "not a signed number of seconds");
            double? dur = head.Length > 1 && double.TryParse(head[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var dd) ? dd : null;
            var texts = parts.Skip(1).Take(parts.Length - 2).ToList();
            if (texts.Count == 0 || texts.All(t => t.Length == 0)) res.Add(new EdfAnnotation(onset, dur, ""));
            else foreach (var t in texts.Where(t => t.Length > 0)) res.Add(new EdfAnnotation(onset, dur, t));
        }
        return res;
    }

    private static DateTime ParseStart(string date, string time, string name)
    {
        var dp = date.Split('.'); var tp = time.Split('.');
        if (dp.Length != 3 || tp.Length != 3 || !int.TryParse(dp[0], out var dd) || !int.TryParse(dp[1], out var mm) || !int.TryParse(dp[2], out var yy)
            || !int.TryParse(tp[0], out var h) || !int.TryParse(tp[1], out var mi) || !int.TryParse(tp[2], out var s))
            throw new SignalInputException($"{name}:header.startDate/startTime", $"{date} {time}", "expected dd.mm.yy and hh.mm.ss");
        try { return new DateTime(yy >= 85 ? 1900 + yy : 2000 + yy, mm, dd, h, mi, s, DateTimeKind.Utc); }
        catch (ArgumentOutOfRangeException) { throw new SignalInputException($"{name}:header.startDate/startTime", $"{date} {time}", "not a valid date and time"); }
    }

    private static string Sanitize(string s) => new string(s.Select(c => c is ' ' or < ' ' or > '~' ? '_' : c).ToArray());

    private static string Num(double v) => v.ToString("0.#########", CultureInfo.InvariantCulture);

    /// <summary>At most 8 characters, rounded outward so the declared range still holds the data.</summary>
    private static string Num8(double v, bool down)
    {
        for (int decimals = 6; decimals >= 0; decimals--)
        {
            double f = Math.Pow(10, decimals);
            double r = down ? Math.Floor(v * f) / f : Math.Ceiling(v * f) / f;
            string s = r.ToString("0." + new string('#', Math.Max(decimals, 1)), CultureInfo.InvariantCulture);
            if (s.Length <= 8) return s;
        }
        throw new SignalInputException("physical range", v.ToString(CultureInfo.InvariantCulture), "does not fit EDF's 8-character field; rescale the signal's unit");
    }

    private static double ParseBack(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static int Int(string s, string field) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new SignalInputException(field, s, "not an integer");

    private static double Dbl(string s, string field) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new SignalInputException(field, s, "not a number");
}
