using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Safety;
using OpenVret.Exposure.Scheduling;
using OpenVret.Exposure.Session;

namespace OpenVret.Exposure.Tests;

internal static class Fixtures
{
    public static Patient Heights() => new("P-test", new FearHierarchy(new[]
    {
        Item("h1", 6, 1, 0, 20), Item("h2", 15, 1, 0, 35), Item("h3", 15, 1, 1, 50), Item("h4", 36, 0, 0, 65), Item("h5", 90, 0, 1, 85),
    }), 150);

    private static HierarchyItem Item(string id, double floor, double railing, double look, int suds) =>
        new(id, id, "heights", new Dictionary<string, double> { ["floor_height_m"] = floor, ["railing"] = railing, ["look_down_prompt"] = look }, new ExposureContext(), suds);

    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static (ExposureEngine Engine, ManualTimeProvider Clock) Engine(EngineMode mode, string scheduler = "inhibitory", RuleSet? rules = null, int seed = 1,
        int session = 1, ExposureContext? previous = null)
    {
        var clock = new ManualTimeProvider(Start);
        var e = new ExposureEngine(Heights(), Schedulers.Create(scheduler), rules ?? RuleSet.Default(), new SafetyOptions(), mode, clock, seed,
            TimeSpan.FromSeconds(10), sessionNumber: session, previousSessionContext: previous);
        return (e, clock);
    }

    /// <summary>Feeds an update at time t (seconds), moving the clock with it.</summary>
    public static IReadOnlyList<EngineEvent> At(this (ExposureEngine Engine, ManualTimeProvider Clock) x, double t, StateUpdate u)
    {
        x.Clock.SetUtcNow(Start + TimeSpan.FromSeconds(t));
        return x.Engine.OnUpdate(u with { Elapsed = TimeSpan.FromSeconds(t) });
    }

    public static StateUpdate Calm => new() { ArousalProbability = 0.2, HeartRateBpm = 80, Suds = 20, Sensors = new Dictionary<string, SensorStatus> { ["ecg"] = SensorStatus.Good } };
}
