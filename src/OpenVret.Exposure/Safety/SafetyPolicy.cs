using System.Globalization;
using OpenVret.Exposure.Session;

namespace OpenVret.Exposure.Safety;

/// <summary>
/// Thresholds of the safety policy. They can be tightened per patient, never switched off: each has a
/// bound past which it would stop protecting, and such a value is rejected.
/// </summary>
public sealed record SafetyOptions
{
    /// <summary>Calibrated arousal probability that counts as "too high" (0.5-0.99).</summary>
    public double ArousalCeiling { get; init; } = 0.85;
    /// <summary>How long (s) arousal must stay above the ceiling before the policy steps down (1-120).</summary>
    public double ArousalCeilingSeconds { get; init; } = 15;
    /// <summary>SUDS at or above which the policy steps down (50-100).</summary>
    public double SudsCeiling { get; init; } = 85;
    /// <summary>Head turned away for this long (s) counts as avoidance (2-120).</summary>
    public double AvoidanceSeconds { get; init; } = 10;
    /// <summary>No physiology for this long (s) means the sensors are lost (2-60).</summary>
    public double SensorSilenceSeconds { get; init; } = 5;

    /// <summary>The settings' names as a hierarchy's <c>"safety"</c> object spells them.</summary>
    public static readonly string[] Settings = { "arousalCeiling", "arousalCeilingSeconds", "sudsCeiling", "avoidanceSeconds", "sensorSilenceSeconds" };

    /// <summary>
    /// Each setting's protective range and why: a patient may set a value anywhere inside it (tighter or somewhat looser
    /// than the default), never outside, so no setting can switch its rule off.
    /// </summary>
    private (string Name, double Value, double Lo, double Hi, string Unit, string Why)[] Ranges() =>
    [
        ("arousalCeiling", ArousalCeiling, 0.5, 0.99, "(calibrated probability)", "below 0.5 ordinary arousal would stop every exposure; at 1 the ceiling could never be reached"),
        ("arousalCeilingSeconds", ArousalCeilingSeconds, 1, 120, "s", "how long arousal may stay above the ceiling: longer than 2 minutes would leave a patient over the ceiling unattended"),
        ("sudsCeiling", SudsCeiling, 50, 100, "(SUDS)", "below 50 exposure could not reach a useful level; above 100 no rating could trigger it"),
        ("avoidanceSeconds", AvoidanceSeconds, 2, 120, "s", "under 2 s a glance aside counts as avoidance; over 2 minutes avoidance goes unnoticed"),
        ("sensorSilenceSeconds", SensorSilenceSeconds, 2, 60, "s", "under 2 s ordinary network jitter holds the session; over a minute arousal would go unmonitored"),
    ];

    /// <summary>Every setting within its protective range (error: <c>safety.&lt;name&gt; = value: between lo and hi ...</c>).</summary>
    public void Validate()
    {
        foreach (var r in Ranges()) Check(r, r.Value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Checks one setting, reporting <paramref name="shown"/> (the value as the user wrote it).</summary>
    public void Validate(string name, string shown)
    {
        foreach (var r in Ranges()) if (r.Name == name) Check(r, shown);
    }

    private static void Check((string Name, double Value, double Lo, double Hi, string Unit, string Why) r, string shown)
    {
        if (!(r.Value >= r.Lo && r.Value <= r.Hi))
            throw new ExposureInputException($"safety.{r.Name}", shown,
                $"between {r.Lo.ToString(CultureInfo.InvariantCulture)} and {r.Hi.ToString(CultureInfo.InvariantCulture)} {r.Unit}: {r.Why}; safety limits can be adjusted within this range, never switched off");
    }
}

public enum SafetyResponse { None = 0, Hold = 1, StepDown = 2, PauseScene = 3 }

/// <summary>One triggered safety condition.</summary>
public sealed record SafetyEvent(string Id, SafetyResponse Response, string Text, IReadOnlyDictionary<string, double> Values, bool AlertTherapist = true);

/// <summary>The policy's verdict on a snapshot: the strongest response and every condition that fired.</summary>
public sealed record SafetyAssessment(SafetyResponse Response, IReadOnlyList<SafetyEvent> Events)
{
    public static readonly SafetyAssessment Clear = new(SafetyResponse.None, Array.Empty<SafetyEvent>());
}

/// <summary>
/// The safety policy: evaluated on every state update and before every proposal, in every mode, whatever the
/// rule file says. Arousal ceiling held for N seconds, heart rate above the patient's limit, SUDS ceiling,
/// lost or poor sensors, avoidance (head turned away) and therapist-defined dissociation signs. Stateful only
/// in how long arousal has been above the ceiling.
/// </summary>
public sealed class SafetyPolicy
{
    public SafetyOptions Options { get; }
    public int HeartRateLimitBpm { get; }
    private TimeSpan? _aboveSince;

    public SafetyPolicy(SafetyOptions options, int heartRateLimitBpm)
    {
        options.Validate();
        if (heartRateLimitBpm is < 90 or > 220)
            throw new ExposureInputException("patient.heartRateLimitBpm", heartRateLimitBpm.ToString(CultureInfo.InvariantCulture), "a personal heart-rate limit lies in 90..220 bpm");
        Options = options;
        HeartRateLimitBpm = heartRateLimitBpm;
    }

    public SafetyAssessment Evaluate(SessionSnapshot s)
    {
        var events = new List<SafetyEvent>();
        var o = Options;
        if (s.ArousalProbability is double p && p >= o.ArousalCeiling)
        {
            _aboveSince ??= s.Elapsed;
            double held = (s.Elapsed - _aboveSince.Value).TotalSeconds;
            if (held >= o.ArousalCeilingSeconds)
                events.Add(new("arousal_ceiling", SafetyResponse.StepDown,
                    $"arousal probability {p:0.00} has been at or above {o.ArousalCeiling:0.00} for {held:0} s (limit {o.ArousalCeilingSeconds:0} s)",
                    new Dictionary<string, double> { ["arousal_probability"] = p, ["seconds_above"] = held }));
        }
        else _aboveSince = null;
        if (s.HeartRateBpm is double hr && hr > HeartRateLimitBpm)
            events.Add(new("heart_rate_limit", SafetyResponse.StepDown, $"heart rate {hr:0} bpm is above this patient's limit of {HeartRateLimitBpm} bpm",
                new Dictionary<string, double> { ["heart_rate"] = hr }));
        if (s.Suds is double suds && suds >= o.SudsCeiling)
            events.Add(new("suds_ceiling", SafetyResponse.StepDown, $"SUDS {suds:0} is at or above the ceiling of {o.SudsCeiling:0}",
                new Dictionary<string, double> { ["suds"] = suds }));
        foreach (var (sensor, status) in s.Sensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (status == SensorStatus.Lost)
                events.Add(new("sensor_lost", SafetyResponse.Hold, $"sensor '{sensor}' is lost: arousal cannot be monitored, intensity is held", new Dictionary<string, double>()));
            else if (status == SensorStatus.Poor)
                events.Add(new("sensor_poor", SafetyResponse.Hold, $"sensor '{sensor}' has poor signal quality: intensity is held", new Dictionary<string, double>()));
        }
        if (s.LastPhysiologyAt is TimeSpan last && (s.Elapsed - last).TotalSeconds > o.SensorSilenceSeconds)
            events.Add(new("sensor_silent", SafetyResponse.Hold, $"no physiology for {(s.Elapsed - last).TotalSeconds:0} s: intensity is held",
                new Dictionary<string, double> { ["silent_s"] = (s.Elapsed - last).TotalSeconds }));
        if (s.HeadAwaySeconds >= o.AvoidanceSeconds)
            events.Add(new("avoidance", SafetyResponse.Hold, $"head turned away from the stimulus for {s.HeadAwaySeconds:0} s (avoidance)",
                new Dictionary<string, double> { ["head_away_s"] = s.HeadAwaySeconds }));
        foreach (var sign in s.DissociationSigns)
            events.Add(new("dissociation", SafetyResponse.PauseScene, $"dissociation sign reported: {sign}; the scene is paused", new Dictionary<string, double>()));
        if (events.Count == 0) return SafetyAssessment.Clear;
        return new SafetyAssessment(events.Max(e => e.Response), events);
    }
}
