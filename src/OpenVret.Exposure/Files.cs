using System.Globalization;
using System.Text.Json;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Safety;
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

    /// <summary>Most items a hierarchy may hold (a clinical hierarchy has 5-20), and the longest label and id.</summary>
    public const int MaxItems = 100, MaxLabelLength = 200, MaxItemIdLength = 40;
    /// <summary>The personal heart-rate limit's protective range (bpm) and its default.</summary>
    public const int MinHeartRateLimitBpm = 90, MaxHeartRateLimitBpm = 220, DefaultHeartRateLimitBpm = 150;

    private static readonly string[] TopLevelKeys = { "patient", "heartRateLimitBpm", "safety", "items" };

    /// <summary>
    /// The same format as <see cref="ReadPatient"/>, from text (e.g. a database or an upload); <paramref name="source"/> names it in errors.
    /// Every value is checked for its JSON kind and range; an error names the field path (e.g. <c>items[2].context.room</c>) and the value.
    /// Optional <c>"safety": {"arousalCeiling": 0.8, "arousalCeilingSeconds": 15, "sudsCeiling": 75, "avoidanceSeconds": 10,
    /// "sensorSilenceSeconds": 5}</c> sets the patient's own thresholds, each within its protective range (<see cref="SafetyOptions.Validate"/>).
    /// </summary>
    public static Patient ParsePatient(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, Options); }
        catch (JsonException e) { throw new ExposureInputException(source, "invalid JSON", e.Message.Split(" LineNumber:")[0], (int)(e.LineNumber ?? 0) + 1); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ExposureInputException(source, Shown(root), "expected a hierarchy object {\"patient\": ..., \"items\": [...]}");
            foreach (var p in root.EnumerateObject())
                if (!TopLevelKeys.Contains(p.Name))
                    throw new ExposureInputException(p.Name, Shown(p.Value), $"not a hierarchy field (expected {string.Join(", ", TopLevelKeys)}); a misspelt safety setting would silently not apply");
            string id = root.TryGetProperty("patient", out var pid) && pid.ValueKind == JsonValueKind.String ? pid.GetString()! : throw new ExposureInputException("patient", "(missing)", "a pseudonymous patient id is required");
            int hr = DefaultHeartRateLimitBpm;
            if (root.TryGetProperty("heartRateLimitBpm", out var h))
            {
                hr = WholeNumber(h, "heartRateLimitBpm", "a whole number of beats per minute");
                if (hr is < MinHeartRateLimitBpm or > MaxHeartRateLimitBpm)
                    throw new ExposureInputException("heartRateLimitBpm", Shown(h), $"a personal heart-rate limit lies between {MinHeartRateLimitBpm} and {MaxHeartRateLimitBpm} bpm " +
                        $"(default {DefaultHeartRateLimitBpm}): below {MinHeartRateLimitBpm} it would stop exposure at ordinary light-exertion rates, above {MaxHeartRateLimitBpm} it is past any adult's maximal heart rate and would never act");
            }
            var safety = root.TryGetProperty("safety", out var sf) ? ParseSafety(sf) : new SafetyOptions();
            if (!root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
                throw new ExposureInputException("items", root.TryGetProperty("items", out var iv) ? Shown(iv) : "(missing)", "expected an array of hierarchy items");
            if (items.GetArrayLength() > MaxItems)
                throw new ExposureInputException("items", $"{items.GetArrayLength()} items", $"at most {MaxItems} items in a hierarchy");
            var list = new List<HierarchyItem>();
            int i = 0;
            foreach (var it in items.EnumerateArray())
            {
                string at = $"items[{i++}]";
                if (it.ValueKind != JsonValueKind.Object) throw new ExposureInputException(at, Shown(it), "expected an item object");
                string Str(string key, int max, bool required = true, string? fallback = null)
                {
                    if (!it.TryGetProperty(key, out var v))
                        return required ? throw new ExposureInputException($"{at}.{key}", "(missing)", "expected a string") : fallback!;
                    if (v.ValueKind != JsonValueKind.String) throw new ExposureInputException($"{at}.{key}", Shown(v), "expected a string");
                    var s = v.GetString()!;
                    if (s.Length > max) throw new ExposureInputException($"{at}.{key}", s[..20] + "...", $"at most {max} characters (this one has {s.Length})");
                    return s;
                }
                var pars = new Dictionary<string, double>(StringComparer.Ordinal);
                if (it.TryGetProperty("parameters", out var pe))
                {
                    if (pe.ValueKind != JsonValueKind.Object) throw new ExposureInputException($"{at}.parameters", Shown(pe), "expected an object of parameter values");
                    foreach (var p in pe.EnumerateObject())
                        pars[p.Name] = p.Value.ValueKind switch
                        {
                            JsonValueKind.Number when p.Value.TryGetDouble(out var d) && double.IsFinite(d) => d,
                            JsonValueKind.True => 1,
                            JsonValueKind.False => 0,
                            _ => throw new ExposureInputException($"{at}.parameters.{p.Name}", Shown(p.Value), "expected a finite number (or true/false for a switch)"),
                        };
                }
                var ctx = new ExposureContext();
                if (it.TryGetProperty("context", out var ce))
                {
                    if (ce.ValueKind != JsonValueKind.Object) throw new ExposureInputException($"{at}.context", Shown(ce), "expected an object with room, lighting, timeOfDay, sound");
                    string C(string key, string def, string[] allowed)
                    {
                        if (!ce.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return def;
                        if (v.ValueKind != JsonValueKind.String) throw new ExposureInputException($"{at}.context.{key}", Shown(v), $"one of {string.Join(", ", allowed)}");
                        var s = v.GetString()!;
                        return allowed.Contains(s) ? s : throw new ExposureInputException($"{at}.context.{key}", Shown(v), $"one of {string.Join(", ", allowed)}");
                    }
                    ctx = new ExposureContext(C("room", ctx.Room, ExposureContext.Rooms), C("lighting", ctx.Lighting, ExposureContext.Lightings),
                        C("timeOfDay", ctx.TimeOfDay, ExposureContext.TimesOfDay), C("sound", ctx.Sound, ExposureContext.Sounds));
                }
                int suds = it.TryGetProperty("anticipatedSuds", out var se) ? WholeNumber(se, $"{at}.anticipatedSuds", "a whole number 0-100")
                    : throw new ExposureInputException($"{at}.anticipatedSuds", "(missing)", "expected a whole number 0-100");
                string itemId = Str("id", MaxItemIdLength);
                list.Add(new HierarchyItem(itemId, Str("label", MaxLabelLength, required: false, fallback: itemId), Str("scenario", 64), pars, ctx, suds));
            }
            return new Patient(id, new FearHierarchy(list), hr, safety);
        }
    }

    /// <summary>The patient's safety thresholds: only the known settings, each a finite number within its protective range.</summary>
    private static SafetyOptions ParseSafety(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new ExposureInputException("safety", Shown(e), "expected an object of safety settings (" + string.Join(", ", SafetyOptions.Settings) + ")");
        var o = new SafetyOptions();
        foreach (var p in e.EnumerateObject())
        {
            if (!SafetyOptions.Settings.Contains(p.Name))
                throw new ExposureInputException($"safety.{p.Name}", Shown(p.Value), $"not a safety setting (expected {string.Join(", ", SafetyOptions.Settings)})");
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetDouble(out var v) || !double.IsFinite(v))
                throw new ExposureInputException($"safety.{p.Name}", Shown(p.Value), "expected a finite number");
            o = p.Name switch
            {
                "arousalCeiling" => o with { ArousalCeiling = v },
                "arousalCeilingSeconds" => o with { ArousalCeilingSeconds = v },
                "sudsCeiling" => o with { SudsCeiling = v },
                "avoidanceSeconds" => o with { AvoidanceSeconds = v },
                _ => o with { SensorSilenceSeconds = v },
            };
            o.Validate(p.Name, Shown(p.Value));
        }
        return o;
    }

    private static int WholeNumber(JsonElement v, string field, string what) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : throw new ExposureInputException(field, Shown(v), $"expected {what}");

    /// <summary>A JSON value as the user wrote it, cut short if long (an error message repeats it).</summary>
    private static string Shown(JsonElement v)
    {
        var raw = v.GetRawText();
        return raw.Length > 60 ? raw[..60] + "..." : raw;
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
