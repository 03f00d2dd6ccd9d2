using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Session;
using Xunit;

namespace OpenVret.Exposure.Tests;

public sealed class SafetyTests
{
    // A reckless rule: always step up, at top priority.
    private static RuleSet Reckless() => RuleSet.Parse("""
        { "rules": [ { "id": "always-up", "priority": 100, "when": [ { "field": "trial_count", "op": ">=", "value": 0 } ], "then": "step_up", "explain": "always climb" } ] }
        """, "reckless.json");

    [Theory]
    [InlineData(EngineMode.Manual)]
    [InlineData(EngineMode.Suggest)]
    [InlineData(EngineMode.SupervisedAuto)]
    public void SafetyBeatsEveryRuleAndMode(EngineMode mode)
    {
        var x = Fixtures.Engine(mode, rules: Reckless());
        x.At(0, Fixtures.Calm);
        // Arousal above the ceiling for 20 s, SUDS high.
        var events = new List<Session.EngineEvent>();
        for (int t = 5; t <= 25; t += 5) events.AddRange(x.At(t, Fixtures.Calm with { ArousalProbability = 0.95, Suds = 90, HeartRateBpm = 130 }));
        var safetyApplied = events.Where(e => e.Kind == "applied" && e.Proposal!.Reasons.Any(r => r.Kind == ReasonKind.Safety)).ToList();
        Assert.NotEmpty(safetyApplied);
        Assert.Contains(safetyApplied, e => e.Proposal!.Action == ExposureAction.StepDown);
        Assert.Contains(events, e => e.Kind == "safety_alert" && e.Text.Contains("arousal probability"));
        Assert.Contains(events, e => e.Kind == "safety_alert" && e.Text.Contains("SUDS 90"));
        Assert.True(x.Engine.HoldActive);
        // The reckless rule keeps firing afterwards: every raise is blocked, none applied, in every mode.
        for (int t = 30; t <= 200; t += 5)
        {
            var ev = x.At(t, Fixtures.Calm);
            if (mode == EngineMode.Suggest)
                foreach (var p in ev.Where(e => e.Status == ProposalStatus.Pending)) x.Engine.Approve(p.Proposal!.Id);
        }
        Assert.DoesNotContain(x.Engine.Events.SkipWhile(e => e.Kind != "safety_hold"), e => e.Kind == "applied" && e.Proposal!.RaisesIntensity);
        Assert.Contains(x.Engine.Events, e => e.Kind == "blocked");
    }

    [Fact]
    public void OnlyTheTherapistCanRaisePastAHold()
    {
        var x = Fixtures.Engine(EngineMode.SupervisedAuto);
        x.At(0, Fixtures.Calm);
        x.At(5, Fixtures.Calm with { HeadAwaySeconds = 12 });
        Assert.True(x.Engine.HoldActive);
        var ev = x.Engine.Override("h3", why: "patient ready, therapist judgement");
        Assert.False(x.Engine.HoldActive);
        Assert.Equal("h3", x.Engine.CurrentItemId);
        Assert.Contains(ev, e => e.Kind == "hold_released");
    }

    [Fact]
    public void LostSensorsPoorSignalDissociationAndHeartRateEachAct()
    {
        var x = Fixtures.Engine(EngineMode.SupervisedAuto);
        x.At(0, Fixtures.Calm);
        Assert.Contains(x.At(5, Fixtures.Calm with { Sensors = new Dictionary<string, SensorStatus> { ["ecg"] = SensorStatus.Lost } }), e => e.Text.Contains("sensor 'ecg' is lost"));
        Assert.Contains(x.At(10, Fixtures.Calm with { Sensors = new Dictionary<string, SensorStatus> { ["eda"] = SensorStatus.Poor } }), e => e.Text.Contains("poor signal"));
        Assert.Contains(x.At(15, Fixtures.Calm with { HeartRateBpm = 170 }), e => e.Text.Contains("above this patient's limit of 150"));
        var diss = x.At(20, Fixtures.Calm with { DissociationSigns = new[] { "blank stare" } });
        Assert.Contains(diss, e => e.Kind == "applied" && e.Proposal!.Action == ExposureAction.PauseScene);
        Assert.True(x.Engine.Snapshot.Paused);
        // Physiology that stops arriving is a lost sensor too.
        var silent = x.At(40, new StateUpdate { Suds = 20 });
        Assert.Contains(silent, e => e.Text.Contains("no physiology for"));
    }

    [Theory]
    [InlineData(1.0, "safety.arousalCeiling")]
    [InlineData(0.2, "safety.arousalCeiling")]
    public void SafetyCannotBeConfiguredAway(double ceiling, string field)
    {
        var e = Assert.Throws<ExposureInputException>(() => new Safety.SafetyPolicy(new Safety.SafetyOptions { ArousalCeiling = ceiling }, 150));
        Assert.Contains(field, e.Message);
        Assert.Contains("never switched off", e.Message);
    }

    [Fact]
    public void EmergencyStopAlwaysWins()
    {
        var x = Fixtures.Engine(EngineMode.SupervisedAuto);
        x.At(0, Fixtures.Calm);
        x.At(150, Fixtures.Calm with { TrialEnded = true, ExpectancyBefore = 70, OutcomeAfter = 5 });
        var waiting = x.Engine.Events.Last(e => e.Kind == "proposed").Proposal!;
        var stop = x.Engine.EmergencyStop("patient asked to stop");
        Assert.Contains(stop, e => e.Kind == "cancelled" && e.Proposal!.Id == waiting.Id);
        Assert.Contains(stop, e => e.Kind == "emergency_stop");
        Assert.True(x.Engine.Snapshot.Paused);
        // Past the veto window nothing is applied, and new updates propose nothing.
        var after = x.At(400, Fixtures.Calm with { TrialEnded = true, ExpectancyBefore = 60, OutcomeAfter = 5 });
        Assert.DoesNotContain(after, e => e.Kind is "applied" or "proposed");
        Assert.Equal(ProposalStatus.Cancelled, x.Engine.StatusOf(waiting.Id));
    }
}
