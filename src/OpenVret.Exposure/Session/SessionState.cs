namespace OpenVret.Exposure.Session;

public enum SensorStatus { Good, Poor, Lost }

/// <summary>
/// One incoming observation, stamped with monotonic session time. Any field may be absent; the engine keeps
/// the latest value of each (<see cref="SessionSnapshot"/>).
/// </summary>
public sealed record StateUpdate
{
    public TimeSpan Elapsed { get; init; }
    /// <summary>Calibrated arousal probability (0-1) from the live estimator.</summary>
    public double? ArousalProbability { get; init; }
    /// <summary>Graded arousal level (0-3).</summary>
    public int? ArousalLevel { get; init; }
    public double? HeartRateBpm { get; init; }
    public double? Suds { get; init; }
    /// <summary>Seconds the head has been continuously turned away from the stimulus (0 when looking at it).</summary>
    public double? HeadAwaySeconds { get; init; }
    public IReadOnlyDictionary<string, SensorStatus>? Sensors { get; init; }
    /// <summary>Dissociation signs the therapist defined and observed (e.g. "blank stare", "not responding").</summary>
    public IReadOnlyList<string>? DissociationSigns { get; init; }
    /// <summary>Set when a trial ends: the patient's expectancy (before) and outcome (after) ratings, 0-100.</summary>
    public double? ExpectancyBefore { get; init; }
    public double? OutcomeAfter { get; init; }
    public bool TrialEnded { get; init; }
    /// <summary>A spoken answer ended (dialogue with a virtual human): how long the patient spoke, and how long they took to start.</summary>
    public double? SpeechSeconds { get; init; }
    public double? ResponseLatencySeconds { get; init; }
}

/// <summary>The engine's view of the session at one moment: latest values plus where the exposure stands.</summary>
public sealed record SessionSnapshot
{
    public TimeSpan Elapsed { get; init; }
    public double? ArousalProbability { get; init; }
    public int? ArousalLevel { get; init; }
    public double? HeartRateBpm { get; init; }
    public double? Suds { get; init; }
    public double? PeakSudsInStep { get; init; }
    public double HeadAwaySeconds { get; init; }
    public IReadOnlyDictionary<string, SensorStatus> Sensors { get; init; } = new Dictionary<string, SensorStatus>();
    public IReadOnlyList<string> DissociationSigns { get; init; } = Array.Empty<string>();
    public TimeSpan? LastPhysiologyAt { get; init; }
    public string? CurrentItemId { get; init; }
    public double CurrentIntensity { get; init; }
    public TimeSpan StepStartedAt { get; init; }
    public int TrialCount { get; init; }
    public int SessionNumber { get; init; } = 1;
    public double? PredictedExpectancy { get; init; }
    public double? LastViolation { get; init; }
    public bool Paused { get; init; }
    public double? LastSpeechSeconds { get; init; }
    public double? LastResponseLatencySeconds { get; init; }

    public double TimeInStepSeconds => (Elapsed - StepStartedAt).TotalSeconds;

    /// <summary>The values rules and reasons may refer to, by their rule-file names.</summary>
    public IReadOnlyDictionary<string, double> Values()
    {
        var v = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["time_in_step_s"] = TimeInStepSeconds,
            ["trial_count"] = TrialCount,
            ["head_away_s"] = HeadAwaySeconds,
            ["intensity"] = CurrentIntensity,
            ["session_number"] = SessionNumber,
        };
        if (ArousalProbability is double p) v["arousal_probability"] = p;
        if (ArousalLevel is int l) v["arousal_level"] = l;
        if (HeartRateBpm is double hr) v["heart_rate"] = hr;
        if (Suds is double s) v["suds"] = s;
        if (PredictedExpectancy is double e) v["expectancy"] = e;
        if (LastViolation is double x) v["violation"] = x;
        if (LastSpeechSeconds is double sp) v["speech_s"] = sp;
        if (LastResponseLatencySeconds is double rl) v["response_latency_s"] = rl;
        return v;
    }
}
