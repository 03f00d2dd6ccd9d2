using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OpenVret.Signals;
using OpenVret.Signals.Ecg;
using OpenVret.Signals.Eda;
using OpenVret.Signals.Ppg;
using OpenVret.Signals.Readers;
using OpenVret.Signals.Rsp;

namespace OpenVret.Cli;

/// <summary><c>openvret signals ecg|ppg|eda|rsp --input F.csv --rate HZ [--column NAME] [--method NAME]</c>: one JSON object.</summary>
public static class SignalsCommand
{
    public static Command Create()
    {
        var cmd = new Command("signals", "Process one physiological signal from a CSV file and print peaks and features as JSON");
        foreach (var modality in new[] { "ecg", "ppg", "eda", "rsp" })
        {
            var input = new Option<FileInfo>("--input") { Description = "CSV file: one numeric column, or a header naming columns", Required = true };
            var rate = new Option<double>("--rate") { Description = "sampling rate in Hz", Required = true };
            var column = new Option<string?>("--column") { Description = "column name (or 0-based index) when the file has several" };
            var method = new Option<string?>("--method") { Description = modality == "ecg" ? "R-peak method: neurokit (default) or pantompkins1985" : "method (only the default exists for this signal)" };
            var sub = new Command(modality, $"Process a {modality.ToUpperInvariant()} signal");
            sub.Options.Add(input); sub.Options.Add(rate); sub.Options.Add(column); sub.Options.Add(method);
            sub.SetAction(parse => CliErrors.Run(() =>
            {
                var result = Run(modality, parse.GetValue(input)!.FullName, parse.GetValue(rate), parse.GetValue(column), parse.GetValue(method));
                Console.Out.WriteLine(result);
            }));
            cmd.Subcommands.Add(sub);
        }
        return cmd;
    }

    public static string Run(string modality, string path, double rateHz, string? column, string? method)
    {
        var rate = new SampleRate(rateHz);
        var m = modality switch { "ecg" => Modality.Ecg, "ppg" => Modality.Ppg, "eda" => Modality.Eda, "rsp" => Modality.Respiration, _ => throw new SignalInputException("modality", modality, "use ecg, ppg, eda or rsp") };
        var signal = CsvSignalReader.Read(path, rate, column, m);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("modality", modality);
            w.WriteString("column", signal.Name);
            w.WriteNumber("sampling_rate", rateHz);
            w.WriteNumber("n_samples", signal.Length);
            FeatureSet features;
            switch (m)
            {
                case Modality.Ecg:
                    {
                        var rp = ParseEcgMethod(method);
                        w.WriteString("method", rp == RPeakMethod.PanTompkins1985 ? "pantompkins1985" : "neurokit");
                        var a = EcgPipeline.Process(signal.Samples, rate, new EcgOptions { Method = rp });
                        WriteBeats(w, a, rate);
                        features = a.Features;
                        break;
                    }
                case Modality.Ppg:
                    {
                        RequireDefault(method, "elgendi2013");
                        w.WriteString("method", "elgendi2013");
                        var a = PpgPipeline.Process(signal.Samples, rate);
                        WriteBeats(w, a, rate);
                        features = a.Features;
                        break;
                    }
                case Modality.Eda:
                    {
                        RequireDefault(method, "neurokit");
                        w.WriteString("method", "neurokit");
                        var a = EdaPipeline.Process(signal.Samples, rate);
                        w.WriteStartArray("scr_onsets"); // null: a response already rising when the record starts
                        foreach (var s in a.Scrs) { if (s.Onset is int o) w.WriteNumberValue(o); else w.WriteNullValue(); }
                        w.WriteEndArray();
                        WriteInts(w, "scr_peaks", a.Scrs.Select(s => s.Peak));
                        w.WriteStartArray("scr_amplitudes");
                        foreach (var s in a.Scrs) WriteNumber(w, s.AmplitudeMicrosiemens);
                        w.WriteEndArray();
                        features = a.Features;
                        break;
                    }
                default:
                    {
                        RequireDefault(method, "khodadad2018");
                        w.WriteString("method", "khodadad2018");
                        var a = RespirationPipeline.Process(signal.Samples, rate);
                        WriteInts(w, "peaks", a.Breaths.Peaks);
                        WriteInts(w, "troughs", a.Breaths.Troughs);
                        w.WriteNumber("rate", a.Features["RSP_Rate_Mean"] is var r && double.IsFinite(r) ? r : 0);
                        features = a.Features;
                        break;
                    }
            }
            w.WriteStartObject("features");
            foreach (var kv in features.Values) { w.WritePropertyName(kv.Key); WriteNumber(w, kv.Value); }
            w.WriteEndObject();
            w.WriteStartArray("quality");
            foreach (var f in features.Flags)
            {
                w.WriteStartObject();
                w.WriteString("code", f.Code);
                w.WriteString("severity", f.Severity.ToString().ToLowerInvariant());
                if (f.Feature is not null) w.WriteString("feature", f.Feature);
                w.WriteString("message", f.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteBeats(Utf8JsonWriter w, BeatAnalysis a, SampleRate rate)
    {
        WriteInts(w, "peaks", a.Peaks);
        WriteInts(w, "peaks_uncorrected", a.PeaksUncorrected);
        w.WriteNumber("rate", a.Peaks.Length >= 2 ? 60.0 * rate.Hertz * (a.Peaks.Length - 1) / (a.Peaks[^1] - a.Peaks[0]) : 0);
        w.WriteStartObject("artifact_correction");
        w.WriteNumber("ectopic", a.Correction.Ectopic); w.WriteNumber("missed", a.Correction.Missed);
        w.WriteNumber("extra", a.Correction.Extra); w.WriteNumber("long_short", a.Correction.LongShort);
        w.WriteEndObject();
    }

    private static void WriteInts(Utf8JsonWriter w, string name, IEnumerable<int> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    private static void WriteNumber(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
    }

    private static RPeakMethod ParseEcgMethod(string? method) => (method ?? "neurokit").ToLowerInvariant() switch
    {
        "neurokit" or "nk" => RPeakMethod.NeuroKit,
        "pantompkins1985" or "pantompkins" or "pan-tompkins" => RPeakMethod.PanTompkins1985,
        _ => throw new SignalInputException("method", method!, "ECG methods: neurokit, pantompkins1985"),
    };

    private static void RequireDefault(string? method, string name)
    {
        if (method is not null && !string.Equals(method, name, StringComparison.OrdinalIgnoreCase))
            throw new SignalInputException("method", method, $"only '{name}' is available for this signal");
    }
}

/// <summary>Turns bad input into one clear line on stderr and exit code 2, never a stack trace.</summary>
public static class CliErrors
{
    public static int Run(Action action)
    {
        try { action(); return 0; }
        catch (SignalInputException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        catch (OpenVret.Exposure.ExposureInputException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        catch (OpenVret.Dialogue.Personas.DialogueInputException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        catch (OpenVret.Learning.Outcome.OutcomeDataException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        catch (IOException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        catch (UnauthorizedAccessException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
    }
}
