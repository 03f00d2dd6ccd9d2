namespace OpenVret.Exposure.Session;

/// <summary>A clock that moves only when told to: replays and tests drive the engine's veto windows with it.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    public override DateTimeOffset GetUtcNow() => _now;
    public void SetUtcNow(DateTimeOffset now)
    {
        if (now < _now) throw new ExposureInputException("clock", now.ToString("O"), $"time cannot go back (now {_now:O})");
        _now = now;
    }
    public void Advance(TimeSpan by) => SetUtcNow(_now + by);
}
