namespace OpenVret.Exposure.Session;

/// <summary>
/// A stand-in therapist for replays and simulations: once no safety condition has fired (no alert, all sensors
/// good, no avoidance) for <see cref="ReleaseAfterSeconds"/>, it releases a safety hold and resumes a paused
/// scene. Real sessions have a real therapist at the console; this exists so that offline runs do not stay
/// held forever. Every release is recorded by the engine like a therapist's.
/// </summary>
public sealed class ScriptedTherapist(double releaseAfterSeconds = 60)
{
    private TimeSpan? _clearSince;

    public double ReleaseAfterSeconds { get; } = releaseAfterSeconds;

    /// <summary>Looks at the events of one update; returns the events its own actions caused.</summary>
    public IReadOnlyList<EngineEvent> Observe(ExposureEngine engine, IReadOnlyList<EngineEvent> events)
    {
        var s = engine.Snapshot;
        bool alarm = events.Any(e => e.Kind == "safety_alert") || s.Sensors.Values.Any(v => v != SensorStatus.Good) || s.HeadAwaySeconds > 0;
        _clearSince = alarm ? null : _clearSince ?? s.Elapsed;
        if (ReleaseAfterSeconds <= 0 || _clearSince is not TimeSpan since || (s.Elapsed - since).TotalSeconds < ReleaseAfterSeconds) return Array.Empty<EngineEvent>();
        int before = engine.Events.Count;
        string why = $"scripted therapist: no safety condition for {ReleaseAfterSeconds:0} s";
        if (engine.HoldActive) engine.ReleaseHold(why);
        if (s.Paused && !engine.Stopped) engine.Resume(why);
        return engine.Events.Skip(before).ToList();
    }
}
