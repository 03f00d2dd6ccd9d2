using System.Globalization;
using System.Text.Json;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Session;

namespace OpenVret.Exposure;

/// <summary>
/// The exposure engine's files: a patient's hierarchy (JSON) and a recorded or simulated state stream
/// (JSON lines, one <see cref="StateUpdate"/> per line). Errors name the line and the field.
/// </summary>
public static class ExposureFiles
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>
    /// {"patient": "P-7f3a", "heartRateLimitBpm": 150, "items": [{"id": "h1", "label": "...", "scenario": "heights",
    /// "parameters": {"floor_height_m": 3}, "context": {"room": "office"}, "anticipatedSuds": 20}, ...]}
    /// </summary>
    public static Patient ReadPatient(string path)
    {
        if (!File.Exists(path)) throw new ExposureInputException("hierarchy", path, "file not found");
        return ParsePatient(File.ReadAllText(path), Path.GetFileName(path));
    }

    /// <summary>The same format as <see cref="ReadPatient"/>, from text (e.g. a database or an upload); <paramref name="source"/> names it in errors.</summary>
    public static Patient ParsePatient(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, Options); }
        catch (JsonException e) { throw new ExposureInputException(source, "invalid JSON", e.Message.Split(" LineNumber:")[0], (int)(e.LineNumber ?? 0) + 1); }
        using (doc)
        {
            var root = doc.RootElement;
            string id = root.TryGetProperty("patient", out var pid) && pid.ValueKind == JsonValueKind.String ? pid.GetString()! : throw new ExposureInputException("patient", "(missing)", "a pseudonymous patient id is required");
            int hr = root.TryGetProperty("heartRateLimitBpm", out var h) ? h.GetInt32() : 150;
            if (!root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
                throw new ExposureInputException("items", "(missing)", "expected an array of hierarchy items");
            var list = new List<HierarchyItem>();
            int i = 0;
            foreach (var it in items.EnumerateArray())
            {
                string at = $"items[{i++}]";
                string Str(string key) => it.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new ExposureInputException($"{at}.{key}", "(missing)", "expected a string");
                var pars = new Dictionary<string, double>(StringComparer.Ordinal);
                if (it.TryGetProperty("parameters", out var pe))
                    foreach (var p in pe.EnumerateObject())
                        pars[p.Name] = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble()
                            : p.Value.ValueKind == JsonValueKind.True ? 1 : p.Value.ValueKind == JsonValueKind.False ? 0
                            : throw new ExposureInputException($"{at}.parameters.{p.Name}", p.Value.ToString(), "expected a number");
                var ctx = new ExposureContext();
                if (it.TryGetProperty("context", out var ce))
                {
                    string C(string key, string def, string[] allowed)
                    {
                        if (!ce.TryGetProperty(key, out var v)) return def;
                        var s = v.GetString() ?? def;
                        return allowed.Contains(s) ? s : throw new ExposureInputException($"{at}.context.{key}", s, $"one of {string.Join(", ", allowed)}");
                    }
                    ctx = new ExposureContext(C("room", ctx.Room, ExposureContext.Rooms), C("lighting", ctx.Lighting, ExposureContext.Lightings),
                        C("timeOfDay", ctx.TimeOfDay, ExposureContext.TimesOfDay), C("sound", ctx.Sound, ExposureContext.Sounds));
                }
                int suds = it.TryGetProperty("anticipatedSuds", out var se) && se.ValueKind == JsonValueKind.Number ? se.GetInt32() : throw new ExposureInputException($"{at}.anticipatedSuds", "(missing)", "expected a whole number 0-100");
                list.Add(new HierarchyItem(Str("id"), it.TryGetProperty("label", out var l) ? l.GetString() ?? Str("id") : Str("id"), Str("scenario"), pars, ctx, suds));
            }
            return new Patient(id, new FearHierarchy(list), hr);
        }
    }

    /// <summary>
    /// One object per line: {"t": 12.5, "arousal": 0.4, "level": 1, "hr": 92, "suds": 40, "head_away_s": 0,
    /// "sensors": {"ecg": "good"}, "dissociation": ["..."], "trial_end": true, "expectancy": 70, "outcome": 10}.
    /// </summary>
    public static IEnumerable<(int Line, StateUpdate Update)> ReadStates(TextReader reader, string source)
    {
        string? line; int no = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            no++;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith("//")) continue;
            StateUpdate u;
            try { u = ParseState(line); }
            catch (JsonException e) { throw new ExposureInputException($"{source}", "invalid JSON", e.Message.Split(" LineNumber:")[0], no); }
            catch (ExposureInputException e) { throw new ExposureInputException($"{source}:{e.Field}", e.Value, e.Message.Split(": ").Last(), no); }
            catch (InvalidOperationException e) { throw new ExposureInputException(source, "wrong type", e.Message, no); }
            yield return (no, u);
        }
    }

    private static StateUpdate ParseState(string line)
    {
        using var doc = JsonDocument.Parse(line, Options);
        var r = doc.RootElement;
        double? D(string key) => r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        if (D("t") is not double t || !double.IsFinite(t) || t < 0) throw new ExposureInputException("t", r.TryGetProperty("t", out var tv) ? tv.ToString() : "(missing)", "session time in seconds (>= 0) is required");
        IReadOnlyDictionary<string, SensorStatus>? sensors = null;
        if (r.TryGetProperty("sensors", out var se))
            sensors = se.EnumerateObject().ToDictionary(p => p.Name, p => Enum.TryParse<SensorStatus>(p.Value.GetString(), true, out var st) ? st
                : throw new ExposureInputException($"sensors.{p.Name}", p.Value.ToString(), "one of good, poor, lost"));
        return new StateUpdate
        {
            Elapsed = TimeSpan.FromSeconds(t),
            ArousalProbability = D("arousal"),
            ArousalLevel = D("level") is double lv ? (int)lv : null,
            HeartRateBpm = D("hr"),
            Suds = D("suds"),
            HeadAwaySeconds = D("head_away_s"),
            Sensors = sensors,
            DissociationSigns = r.TryGetProperty("dissociation", out var ds) ? ds.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : null,
            TrialEnded = r.TryGetProperty("trial_end", out var te) && te.ValueKind == JsonValueKind.True,
            ExpectancyBefore = D("expectancy"),
            OutcomeAfter = D("outcome"),
        };
    }
}
