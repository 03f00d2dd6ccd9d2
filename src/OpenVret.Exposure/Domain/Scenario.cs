using System.Globalization;
using System.Text.Json.Nodes;

namespace OpenVret.Exposure.Domain;

/// <summary>
/// One stimulus parameter of a scenario: its unit, range, and whether a higher value is more feared
/// (<see cref="MoreFearedWhenHigher"/>) — which lets every engine part compute an intensity in [0, 1].
/// </summary>
public sealed record ParameterSpec(string Name, string Unit, double Min, double Max, bool MoreFearedWhenHigher, double Default, string Description, bool IsSwitch = false)
{
    /// <summary>0 = least feared end of the range, 1 = most feared.</summary>
    public double Intensity(double value)
    {
        double u = (Math.Clamp(value, Min, Max) - Min) / (Max - Min);
        return MoreFearedWhenHigher ? u : 1 - u;
    }

    /// <summary>The value at intensity <paramref name="u"/> (inverse of <see cref="Intensity"/>; switches snap to 0/1).</summary>
    public double ValueAt(double u)
    {
        u = Math.Clamp(u, 0, 1);
        double v = Min + (MoreFearedWhenHigher ? u : 1 - u) * (Max - Min);
        return IsSwitch ? Math.Round(v) : v;
    }
}

/// <summary>
/// A scenario the VR scene can render, defined only by named, ranged parameters with units. The JSON Schema
/// from <see cref="ToJsonSchema"/> is the contract scenes and editors validate against.
/// </summary>
public sealed record ScenarioDefinition(string Id, string Name, IReadOnlyList<ParameterSpec> Parameters, string Source)
{
    public ParameterSpec Parameter(string name) =>
        Parameters.FirstOrDefault(p => p.Name == name)
        ?? throw new ExposureInputException($"{Id}.parameter", name, $"unknown parameter; {Id} has {string.Join(", ", Parameters.Select(p => p.Name))}");

    /// <summary>Checks that every parameter exists and lies in its range; returns the values with defaults filled in.</summary>
    public IReadOnlyDictionary<string, double> Validate(IReadOnlyDictionary<string, double> values, string where)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (Parameters.All(p => p.Name != name))
                throw new ExposureInputException($"{where}.{name}", value.ToString(CultureInfo.InvariantCulture), $"not a parameter of scenario '{Id}' ({string.Join(", ", Parameters.Select(p => p.Name))})");
            var spec = Parameter(name);
            if (!double.IsFinite(value) || value < spec.Min || value > spec.Max)
                throw new ExposureInputException($"{where}.{name}", value.ToString(CultureInfo.InvariantCulture), $"outside {spec.Min}..{spec.Max} {spec.Unit}");
            result[name] = value;
        }
        foreach (var p in Parameters) result.TryAdd(p.Name, p.Default);
        return result;
    }

    /// <summary>Stimulus intensity in [0, 1]: the mean of the parameters' intensities.</summary>
    public double Intensity(IReadOnlyDictionary<string, double> values) =>
        Parameters.Average(p => p.Intensity(values.TryGetValue(p.Name, out var v) ? v : p.Default));

    public JsonObject ToJsonSchema()
    {
        var props = new JsonObject();
        foreach (var p in Parameters)
            props[p.Name] = new JsonObject
            {
                ["type"] = p.IsSwitch ? "integer" : "number",
                ["minimum"] = p.Min,
                ["maximum"] = p.Max,
                ["default"] = p.Default,
                ["description"] = p.Description,
                ["x-unit"] = p.Unit,
                ["x-more-feared-when-higher"] = p.MoreFearedWhenHigher,
            };
        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"openvret:scenario:{Id}",
            ["title"] = Name,
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = props,
        };
    }
}

/// <summary>The scenarios OpenVRET ships. Scenes render them; hierarchies refer to them by id.</summary>
public static class ScenarioCatalog
{
    public static readonly ScenarioDefinition Heights = new("heights", "Heights: building ledge / glass elevator", new[]
    {
        new ParameterSpec("floor_height_m", "m", 0, 120, true, 3, "height of the floor the patient stands on"),
        new ParameterSpec("railing", "switch", 0, 1, false, 1, "1 = railing present (less feared)", IsSwitch: true),
        new ParameterSpec("look_down_prompt", "switch", 0, 1, true, 0, "1 = the scene prompts the patient to look down", IsSwitch: true),
    }, "acrophobia VRET (Emmelkamp et al. 2002)");

    public static readonly ScenarioDefinition Spiders = new("spiders", "Spiders", new[]
    {
        new ParameterSpec("distance_m", "m", 0.1, 5, false, 3, "distance from the patient's hand"),
        new ParameterSpec("size_cm", "cm", 1, 15, true, 3, "leg span"),
        new ParameterSpec("movement_speed", "0-1", 0, 1, true, 0, "0 = still, 1 = fast and erratic"),
        new ParameterSpec("count", "spiders", 1, 10, true, 1, "number of spiders"),
        new ParameterSpec("approaching", "switch", 0, 1, true, 0, "1 = moves towards the patient", IsSwitch: true),
    }, "arachnophobia VRET (Garcia-Palacios et al. 2002)");

    public static readonly ScenarioDefinition PublicSpeaking = new("public_speaking", "Public speaking", new[]
    {
        new ParameterSpec("audience_size", "people", 1, 100, true, 5, "number of virtual listeners"),
        new ParameterSpec("attentiveness", "0-1", 0, 1, false, 0.8, "1 = attentive and nodding, 0 = bored, on phones"),
        new ParameterSpec("hostile_questions", "per 5 min", 0, 5, true, 0, "rate of sceptical or hostile questions"),
        new ParameterSpec("interruptions", "per 5 min", 0, 5, true, 0, "rate of interruptions"),
    }, "social anxiety VRET (Anderson et al. 2013)");

    public static readonly ScenarioDefinition Driving = new("driving", "Traffic / driving", new[]
    {
        new ParameterSpec("traffic_density", "vehicles/km", 0, 60, true, 5, "density of surrounding vehicles"),
        new ParameterSpec("vehicle_speed_kmh", "km/h", 0, 130, true, 50, "speed of surrounding traffic"),
        new ParameterSpec("road_type", "0-2", 0, 2, true, 0, "0 = quiet street, 1 = city, 2 = highway", IsSwitch: true),
    }, "driving phobia VR, traffic density and speed (Ménélas et al.)");

    public static IReadOnlyList<ScenarioDefinition> All { get; } = new[] { Heights, Spiders, PublicSpeaking, Driving };

    public static ScenarioDefinition Get(string id) =>
        All.FirstOrDefault(s => s.Id == id) ?? throw new ExposureInputException("scenario", id, $"unknown scenario; known: {string.Join(", ", All.Select(s => s.Id))}");
}
