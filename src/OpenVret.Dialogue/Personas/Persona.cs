using System.Text.Json;
using System.Text.Json.Serialization;
using OpenVret.Dialogue.Scripted;

namespace OpenVret.Dialogue.Personas;

/// <summary>What a persona may not do: words per line and topics it never raises.</summary>
public sealed record PersonaLimits(int MaxWords, IReadOnlyList<string> ForbiddenTopics);

/// <summary>
/// The intensity dial (0 = friendliest, 1 = hardest) the exposure engine sets: lines are chosen by tone band, and
/// interruptions happen at up to <see cref="MaxInterruptionsPerMinute"/> scaled by the dial.
/// </summary>
public sealed record IntensityProfile(double ScepticalFrom, double NeutralFrom, double MaxInterruptionsPerMinute, IReadOnlyList<string> Interruptions)
{
    /// <summary>The tone band for a dial value: "friendly", "neutral" or "sceptical".</summary>
    public string Tone(double intensity) => intensity >= ScepticalFrom ? "sceptical" : intensity >= NeutralFrom ? "neutral" : "friendly";
}

/// <summary>
/// A virtual human defined in a file: who it is (role, tone), what it says first (the AI disclosure, always), its
/// limits, its intensity dial, the prompt an LLM gets, and the scripted dialogue graph used offline and as fallback.
/// </summary>
public sealed record Persona(
    string Id,
    string Name,
    string Role,
    string Tone,
    string Disclosure,
    PersonaLimits Limits,
    IntensityProfile Intensity,
    string Prompt,
    DialogueGraph Script,
    string SafetyScript,
    string SupportLine,
    string ReferLine,
    string FallbackLine)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The ids of the personas shipped with OpenVRET.</summary>
    public static IReadOnlyList<string> BuiltInIds { get; } = ["audience", "interviewer", "examiner", "coach"];

    public static Persona BuiltIn(string id)
    {
        using var stream = typeof(Persona).Assembly.GetManifestResourceStream($"OpenVret.Dialogue.Personas.{id}.json")
            ?? throw new DialogueInputException("persona", id, $"no built-in persona '{id}' (built in: {string.Join(", ", BuiltInIds)})");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"built-in persona '{id}'");
    }

    public static Persona Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses and validates a persona file: every error names the field and the value.</summary>
    public static Persona Parse(string json, string source)
    {
        Persona? p;
        try
        {
            p = JsonSerializer.Deserialize<Persona>(json, Json);
        }
        catch (JsonException e)
        {
            throw new DialogueInputException(e.Path ?? "(file)", source, $"{source}: {e.Message}");
        }
        if (p == null) throw new DialogueInputException("(file)", source, $"{source}: empty persona file");
        Require(p.Id, "id", source);
        Require(p.Name, "name", source);
        Require(p.Role, "role", source);
        Require(p.Disclosure, "disclosure", source);
        Require(p.SafetyScript, "safetyScript", source);
        Require(p.SupportLine, "supportLine", source);
        Require(p.ReferLine, "referLine", source);
        Require(p.FallbackLine, "fallbackLine", source);
        if (!p.Disclosure.Contains("AI", StringComparison.Ordinal) && !p.Disclosure.Contains("artificial", StringComparison.OrdinalIgnoreCase))
            throw new DialogueInputException("disclosure", p.Disclosure, $"{source}: the disclosure must say the character is an AI (got \"{p.Disclosure}\")");
        if (p.Limits is null || p.Limits.MaxWords is < 5 or > 300)
            throw new DialogueInputException("limits.maxWords", p.Limits?.MaxWords.ToString() ?? "null", $"{source}: limits.maxWords must be 5-300");
        if (p.Intensity is null || p.Intensity.NeutralFrom is < 0 or > 1 || p.Intensity.ScepticalFrom < p.Intensity.NeutralFrom || p.Intensity.ScepticalFrom > 1)
            throw new DialogueInputException("intensity", source, $"{source}: intensity needs 0 <= neutralFrom <= scepticalFrom <= 1");
        if (p.Script is null) throw new DialogueInputException("script", "null", $"{source}: a persona needs a scripted dialogue graph (the offline default and the LLM fallback)");
        p.Script.Validate(source);
        return p with { Limits = p.Limits with { ForbiddenTopics = p.Limits.ForbiddenTopics ?? [] }, Intensity = p.Intensity with { Interruptions = p.Intensity.Interruptions ?? [] } };
    }

    private static void Require(string? value, string field, string source)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new DialogueInputException(field, value ?? "null", $"{source}: '{field}' is required");
    }
}

/// <summary>Bad persona, script or dialogue input: names the field and the value.</summary>
public sealed class DialogueInputException(string field, string value, string message) : Exception(message)
{
    public string Field { get; } = field;
    public string Value { get; } = value;
}
