using System.Globalization;
using OpenVret.Exposure.Safety;

namespace OpenVret.Exposure.Domain;

/// <summary>
/// Where an exposure happens. Changing any field across trials or sessions is a context shift (Bouton 2004:
/// extinction is context-bound, so varying contexts protects against renewal).
/// </summary>
public sealed record ExposureContext(string Room = "office", string Lighting = "day", string TimeOfDay = "afternoon", string Sound = "quiet")
{
    public static readonly string[] Rooms = { "office", "living_room", "street", "lecture_hall" };
    public static readonly string[] Lightings = { "day", "dim", "night" };
    public static readonly string[] TimesOfDay = { "morning", "afternoon", "evening" };
    public static readonly string[] Sounds = { "quiet", "ambient", "busy" };

    public int Differences(ExposureContext other) =>
        (Room != other.Room ? 1 : 0) + (Lighting != other.Lighting ? 1 : 0) + (TimeOfDay != other.TimeOfDay ? 1 : 0) + (Sound != other.Sound ? 1 : 0);

    public override string ToString() => $"{Room}/{Lighting}/{TimeOfDay}/{Sound}";
}

/// <summary>One step of a fear hierarchy: a scenario with parameter values, a context and the anticipated SUDS.</summary>
public sealed record HierarchyItem(string Id, string Label, string ScenarioId, IReadOnlyDictionary<string, double> Parameters, ExposureContext Context, int AnticipatedSuds)
{
    public ScenarioDefinition Scenario => ScenarioCatalog.Get(ScenarioId);
    public double Intensity => Scenario.Intensity(Parameters);
}

/// <summary>A patient's fear hierarchy: items ordered from least to most feared (anticipated SUDS).</summary>
public sealed class FearHierarchy
{
    public IReadOnlyList<HierarchyItem> Items { get; }

    public FearHierarchy(IEnumerable<HierarchyItem> items)
    {
        var list = new List<HierarchyItem>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        foreach (var item in items)
        {
            string where = $"hierarchy.items[{i}]";
            if (string.IsNullOrWhiteSpace(item.Id)) throw new ExposureInputException($"{where}.id", "(empty)", "every item needs an id");
            if (!ids.Add(item.Id)) throw new ExposureInputException($"{where}.id", item.Id, "duplicate id");
            if (item.AnticipatedSuds is < 0 or > 100)
                throw new ExposureInputException($"{where}.anticipatedSuds", item.AnticipatedSuds.ToString(CultureInfo.InvariantCulture), "SUDS is 0-100");
            var scenario = ScenarioCatalog.Get(item.ScenarioId);
            list.Add(item with { Parameters = scenario.Validate(item.Parameters, $"{where}.parameters") });
            i++;
        }
        if (list.Count == 0) throw new ExposureInputException("hierarchy.items", "[]", "a hierarchy needs at least one item");
        Items = list.OrderBy(x => x.AnticipatedSuds).ThenBy(x => x.Intensity).ToList();
    }

    public HierarchyItem this[string id] =>
        Items.FirstOrDefault(x => x.Id == id) ?? throw new ExposureInputException("itemId", id, "not in this hierarchy");

    public int IndexOf(string id)
    {
        for (int i = 0; i < Items.Count; i++) if (Items[i].Id == id) return i;
        throw new ExposureInputException("itemId", id, "not in this hierarchy");
    }
}

/// <summary>
/// A patient as the engine sees them: a pseudonymous id, never a name; the personal heart-rate limit and the patient's
/// own safety thresholds (the defaults when the hierarchy sets none), which a session applies.
/// </summary>
public sealed record Patient(string PseudonymousId, FearHierarchy Hierarchy, int PersonalHeartRateLimitBpm = 150, SafetyOptions? SafetyOverrides = null)
{
    public SafetyOptions Safety => SafetyOverrides ?? new SafetyOptions();
}
