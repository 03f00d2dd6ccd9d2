using System.Globalization;
using System.Text.RegularExpressions;
using OpenVret.Exposure.Session;

namespace OpenVret.Exposure.Rules;

public enum ComparisonOp { Less, LessOrEqual, Greater, GreaterOrEqual, Equal, NotEqual }

/// <summary>field op value, over the snapshot's named values (<see cref="SessionSnapshot.Values"/>).</summary>
public sealed record Condition(string Field, ComparisonOp Op, double Value)
{
    public static readonly IReadOnlyDictionary<string, string> Fields = new Dictionary<string, string>
    {
        ["arousal_probability"] = "calibrated arousal probability 0-1",
        ["arousal_level"] = "graded arousal 0-3",
        ["heart_rate"] = "beats per minute",
        ["suds"] = "SUDS 0-100",
        ["expectancy"] = "the expectancy model's predicted expectancy for the current stimulus, 0-100",
        ["violation"] = "expectancy violation of the last trial (expected minus occurred), -100..100",
        ["time_in_step_s"] = "seconds in the current step",
        ["trial_count"] = "trials so far in this session",
        ["head_away_s"] = "seconds the head has been turned away",
        ["intensity"] = "current stimulus intensity 0-1",
        ["session_number"] = "1 for the first session",
        ["speech_s"] = "length of the patient's last spoken answer to a virtual human, seconds",
        ["response_latency_s"] = "seconds the patient took to start that answer",
    };

    /// <summary>False when the field has no value yet (a rule never fires on missing data).</summary>
    public bool Holds(IReadOnlyDictionary<string, double> values) =>
        values.TryGetValue(Field, out var v) && Op switch
        {
            ComparisonOp.Less => v < Value,
            ComparisonOp.LessOrEqual => v <= Value,
            ComparisonOp.Greater => v > Value,
            ComparisonOp.GreaterOrEqual => v >= Value,
            ComparisonOp.Equal => v == Value,
            _ => v != Value,
        };

    public static string Symbol(ComparisonOp op) => op switch
    {
        ComparisonOp.Less => "<", ComparisonOp.LessOrEqual => "<=", ComparisonOp.Greater => ">",
        ComparisonOp.GreaterOrEqual => ">=", ComparisonOp.Equal => "==", _ => "!=",
    };

    public override string ToString() => $"{Field} {Symbol(Op)} {Value.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>A therapist-readable rule: when all conditions hold, propose the action, explained by the template.</summary>
public sealed record Rule(string Id, int Priority, IReadOnlyList<Condition> When, ExposureAction Then, string Explain, int Line)
{
    public bool Fires(IReadOnlyDictionary<string, double> values) => When.All(c => c.Holds(values));

    /// <summary>The explanation with {field} placeholders filled from the snapshot.</summary>
    public string Explanation(IReadOnlyDictionary<string, double> values) =>
        Regex.Replace(Explain, @"\{([a-z_]+)\}", m => values.TryGetValue(m.Groups[1].Value, out var v) ? v.ToString("0.##", CultureInfo.InvariantCulture) : m.Value);
}

/// <summary>A validated rule file. Loading reports the exact line and field of any error and refuses conflicting rules.</summary>
public sealed class RuleSet
{
    public IReadOnlyList<Rule> Rules { get; }
    public string Source { get; }

    private RuleSet(IReadOnlyList<Rule> rules, string source) { Rules = rules; Source = source; }

    public static readonly IReadOnlyDictionary<string, ExposureAction> Actions = new Dictionary<string, ExposureAction>
    {
        ["continue"] = ExposureAction.Continue, ["step_up"] = ExposureAction.StepUp, ["step_down"] = ExposureAction.StepDown,
        ["vary"] = ExposureAction.Vary, ["shift_context"] = ExposureAction.ShiftContext, ["retrieval_cue"] = ExposureAction.RetrievalCue,
        ["combine"] = ExposureAction.Combine, ["end_trial"] = ExposureAction.EndTrial, ["hold"] = ExposureAction.Hold,
        ["pause_scene"] = ExposureAction.PauseScene,
    };

    private static readonly Dictionary<string, ComparisonOp> Ops = new()
    {
        ["<"] = ComparisonOp.Less, ["<="] = ComparisonOp.LessOrEqual, [">"] = ComparisonOp.Greater,
        [">="] = ComparisonOp.GreaterOrEqual, ["=="] = ComparisonOp.Equal, ["!="] = ComparisonOp.NotEqual,
    };

    public static RuleSet Load(string path)
    {
        if (!File.Exists(path)) throw new ExposureInputException("rules", path, "rule file not found");
        return Parse(File.ReadAllText(path), Path.GetFileName(path));
    }

    /// <summary>The shipped default rule set (see docs/exposure.md).</summary>
    public static RuleSet Default() => Parse(DefaultText(), "default-rules.json");

    /// <summary>The text of the shipped rule file (JSON with comments), e.g. as the starting point of an editor.</summary>
    public static string DefaultText()
    {
        using var s = typeof(RuleSet).Assembly.GetManifestResourceStream("OpenVret.Exposure.default-rules.json")!;
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    public static RuleSet Parse(string text, string source)
    {
        var root = LocatedJson.Parse(text, source) as LNode.Obj
            ?? throw new ExposureInputException(source, "not an object", "a rule file is an object with a \"rules\" array", 1);
        if (root["rules"] is not LNode.Arr arr)
            throw new ExposureInputException("rules", root["rules"]?.Describe() ?? "(missing)", "expected an array of rules", root["rules"]?.Line ?? root.Line);
        var rules = new List<Rule>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < arr.Items.Count; i++)
        {
            string at = $"rules[{i}]";
            if (arr.Items[i] is not LNode.Obj o) throw new ExposureInputException(at, arr.Items[i].Describe(), "expected a rule object", arr.Items[i].Line);
            foreach (var (key, keyLine, _) in o.Members)
                if (key is not ("id" or "priority" or "when" or "then" or "explain" or "comment"))
                    throw new ExposureInputException($"{at}.{key}", key, "unknown field; a rule has id, priority, when, then, explain (and comment)", keyLine);
            string id = Str(o, "id", at);
            if (!Regex.IsMatch(id, "^[a-z0-9][a-z0-9_-]*$"))
                throw new ExposureInputException($"{at}.id", id, "use lower-case letters, digits, '-' and '_'", o["id"]!.Line);
            if (ids.TryGetValue(id, out var first))
                throw new ExposureInputException($"{at}.id", id, $"duplicate rule id (first on line {first})", o["id"]!.Line);
            ids[id] = o["id"]!.Line;
            var pr = o["priority"] as LNode.Num ?? throw new ExposureInputException($"{at}.priority", o["priority"]?.Describe() ?? "(missing)", "expected a whole number 0-100", o["priority"]?.Line ?? o.Line);
            if (pr.Value != Math.Floor(pr.Value) || pr.Value is < 0 or > 100)
                throw new ExposureInputException($"{at}.priority", pr.Raw, "expected a whole number 0-100", pr.Line);
            string then = Str(o, "then", at);
            if (!Actions.TryGetValue(then, out var action))
                throw new ExposureInputException($"{at}.then", then, $"unknown action; one of {string.Join(", ", Actions.Keys)}", o["then"]!.Line);
            if (o["when"] is not LNode.Arr when || when.Items.Count == 0)
                throw new ExposureInputException($"{at}.when", o["when"]?.Describe() ?? "(missing)", "expected a non-empty array of conditions", o["when"]?.Line ?? o.Line);
            var conditions = new List<Condition>();
            for (int c = 0; c < when.Items.Count; c++)
            {
                string cat = $"{at}.when[{c}]";
                if (when.Items[c] is not LNode.Obj co) throw new ExposureInputException(cat, when.Items[c].Describe(), "expected {\"field\": ..., \"op\": ..., \"value\": ...}", when.Items[c].Line);
                string field = Str(co, "field", cat);
                if (!Condition.Fields.ContainsKey(field))
                    throw new ExposureInputException($"{cat}.field", field, $"unknown field; one of {string.Join(", ", Condition.Fields.Keys)}", co["field"]!.Line);
                string op = Str(co, "op", cat);
                if (!Ops.TryGetValue(op, out var cop))
                    throw new ExposureInputException($"{cat}.op", op, "expected one of < <= > >= == !=", co["op"]!.Line);
                var value = co["value"] as LNode.Num ?? throw new ExposureInputException($"{cat}.value", co["value"]?.Describe() ?? "(missing)", "expected a number", co["value"]?.Line ?? co.Line);
                conditions.Add(new Condition(field, cop, value.Value));
            }
            string explain = Str(o, "explain", at);
            foreach (Match m in Regex.Matches(explain, @"\{([a-z_]+)\}"))
                if (!Condition.Fields.ContainsKey(m.Groups[1].Value))
                    throw new ExposureInputException($"{at}.explain", m.Value, "placeholder names no known field", o["explain"]!.Line);
            rules.Add(new Rule(id, (int)pr.Value, conditions, action, explain, o.Line));
        }
        var set = new RuleSet(rules.OrderByDescending(r => r.Priority).ThenBy(r => r.Line).ToList(), source);
        var conflict = set.FindConflicts().FirstOrDefault();
        if (conflict is not null) throw conflict;
        return set;
    }

    private static string Str(LNode.Obj o, string key, string at) =>
        o[key] is LNode.Str s && s.Value.Length > 0 ? s.Value
        : throw new ExposureInputException($"{at}.{key}", o[key]?.Describe() ?? "(missing)", "expected a non-empty string", o[key]?.Line ?? o.Line);

    /// <summary>
    /// Pairs of rules with the same priority and different actions whose conditions can hold at the same time
    /// (the engine could not choose between them). Found by intersecting each field's allowed interval.
    /// </summary>
    public IEnumerable<ExposureInputException> FindConflicts()
    {
        for (int i = 0; i < Rules.Count; i++)
            for (int j = i + 1; j < Rules.Count; j++)
            {
                var a = Rules[i]; var b = Rules[j];
                if (a.Priority != b.Priority || a.Then == b.Then) continue;
                if (CanBothHold(a.When.Concat(b.When)))
                    yield return new ExposureInputException($"rules '{a.Id}' (line {a.Line}) and '{b.Id}' (line {b.Line})", $"priority {a.Priority}",
                        $"they can fire together with different actions ({a.Then} vs {b.Then}); give one a higher priority or make their conditions exclusive", b.Line);
            }
    }

    private static bool CanBothHold(IEnumerable<Condition> conditions)
    {
        foreach (var group in conditions.GroupBy(c => c.Field))
        {
            double lo = double.NegativeInfinity, hi = double.PositiveInfinity;
            bool loOpen = false, hiOpen = false;
            var excluded = new List<double>();
            foreach (var c in group)
            {
                switch (c.Op)
                {
                    case ComparisonOp.Greater: if (c.Value >= lo) { lo = c.Value; loOpen = true; } break;
                    case ComparisonOp.GreaterOrEqual: if (c.Value > lo) { lo = c.Value; loOpen = false; } break;
                    case ComparisonOp.Less: if (c.Value <= hi) { hi = c.Value; hiOpen = true; } break;
                    case ComparisonOp.LessOrEqual: if (c.Value < hi) { hi = c.Value; hiOpen = false; } break;
                    case ComparisonOp.Equal:
                        if (c.Value > lo || (c.Value == lo && !loOpen)) { lo = c.Value; loOpen = false; }
                        if (c.Value < hi || (c.Value == hi && !hiOpen)) { hi = c.Value; hiOpen = false; }
                        if (c.Value < lo || c.Value > hi) return false;
                        break;
                    default: excluded.Add(c.Value); break;
                }
            }
            if (lo > hi || (lo == hi && (loOpen || hiOpen || excluded.Contains(lo)))) return false;
        }
        return true;
    }

    /// <summary>The highest-priority rule that fires (first in file order among equals), or null.</summary>
    public Rule? FirstFiring(IReadOnlyDictionary<string, double> values) => Rules.FirstOrDefault(r => r.Fires(values));
}
