using OpenVret.Dialogue.Personas;
using System.Text.Json.Serialization;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>
/// How much risk an utterance (or the last turns together) carries. Ordered: a higher value is never routed to a less
/// safe action than a lower one.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<RiskLevel>))]
public enum RiskLevel
{
    /// <summary>Nothing found: the conversation goes on.</summary>
    None = 0,
    /// <summary>A passive wish, a risk the screen cannot read (another language), risk building over turns: the therapist is notified, the agent checks in.</summary>
    Concern = 1,
    /// <summary>Suicidal ideation, self-harm, harm to others: the exposure stops, the crisis script, the therapist is alerted with the transcript.</summary>
    High = 2,
    /// <summary>A plan with a time, preparatory behaviour, means at hand: as High, flagged as imminent to the therapist.</summary>
    Imminent = 3,
}

/// <summary>
/// What the session does at each risk level. The defaults are the safe floor; a configuration may only move a level
/// to a safer action (more intervention), never to a less safe one: safety is not configurable away.
/// </summary>
public sealed class RiskRouting
{
    /// <summary>Safety order of the actions a level can be routed to (higher is safer: more intervention).</summary>
    public static int Rank(GuardAction a) => a switch
    {
        GuardAction.Continue => 0,
        GuardAction.ReferToTherapist => 0,
        GuardAction.CheckIn => 1,
        GuardAction.PauseAndSupport => 2,
        GuardAction.SafetyScript => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, null),
    };

    private static readonly IReadOnlyDictionary<RiskLevel, GuardAction> Floor = new Dictionary<RiskLevel, GuardAction>
    {
        [RiskLevel.None] = GuardAction.Continue,
        [RiskLevel.Concern] = GuardAction.CheckIn,
        [RiskLevel.High] = GuardAction.SafetyScript,
        [RiskLevel.Imminent] = GuardAction.SafetyScript,
    };

    private readonly Dictionary<RiskLevel, GuardAction> _map;

    private RiskRouting(Dictionary<RiskLevel, GuardAction> map) => _map = map;

    public static RiskRouting Default { get; } = new(new Dictionary<RiskLevel, GuardAction>(Floor));

    public GuardAction For(RiskLevel level) => _map[level];

    public static GuardAction DefaultFor(RiskLevel level) => Floor[level];

    /// <summary>
    /// Routing from "level=action" settings (e.g. <c>concern=safety_script</c>). Levels: none, concern, high, imminent;
    /// actions: continue, check_in, pause_and_support, safety_script. A setting less safe than the default for its level
    /// is refused with a <see cref="DialogueInputException"/> naming the field (<c>routing.LEVEL</c>) and the value.
    /// </summary>
    public static RiskRouting Parse(IEnumerable<string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var map = new Dictionary<RiskLevel, GuardAction>(Floor);
        foreach (var setting in settings)
        {
            var eq = setting.IndexOf('=');
            if (eq <= 0) throw new DialogueInputException("routing", setting, $"routing '{setting}': use LEVEL=ACTION, e.g. concern=safety_script");
            var levelText = setting[..eq].Trim().ToLowerInvariant();
            var actionText = setting[(eq + 1)..].Trim().ToLowerInvariant();
            var level = levelText switch
            {
                "none" => RiskLevel.None,
                "concern" => RiskLevel.Concern,
                "high" => RiskLevel.High,
                "imminent" => RiskLevel.Imminent,
                _ => throw new DialogueInputException("routing", levelText, $"routing level '{levelText}': use none, concern, high or imminent"),
            };
            var field = "routing." + levelText;
            var action = actionText switch
            {
                "continue" => GuardAction.Continue,
                "check_in" => GuardAction.CheckIn,
                "pause_and_support" => GuardAction.PauseAndSupport,
                "safety_script" => GuardAction.SafetyScript,
                _ => throw new DialogueInputException(field, actionText, $"{field} = '{actionText}': use continue, check_in, pause_and_support or safety_script"),
            };
            if (Rank(action) < Rank(Floor[level]))
                throw new DialogueInputException(field, actionText,
                    $"{field} = '{actionText}' is less safe than the default '{Names.Of(Floor[level])}': the action for a risk level can only be made safer");
            map[level] = action;
        }
        // A lower level routed to a safer action than a higher one would invert the order: the higher level follows.
        for (var l = RiskLevel.Concern; l <= RiskLevel.Imminent; l++)
            if (Rank(map[l]) < Rank(map[l - 1])) map[l] = map[l - 1];
        return new RiskRouting(map);
    }

    /// <summary>The action for a result: the safer of its category's own action (distress, medical) and its level's route.</summary>
    public GuardAction Route(ScreenResult r)
    {
        var byLevel = For(r.Level);
        if (r.Action == GuardAction.ReferToTherapist && Rank(byLevel) == 0) return GuardAction.ReferToTherapist;
        return Rank(r.Action) >= Rank(byLevel) ? r.Action : byLevel;
    }

    public override string ToString() => string.Join(", ", _map.Select(kv => $"{Names.Of(kv.Key)}={Names.Of(kv.Value)}"));
}
