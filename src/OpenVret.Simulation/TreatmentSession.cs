using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Expectancy;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Safety;
using OpenVret.Exposure.Scheduling;
using OpenVret.Exposure.Session;

namespace OpenVret.Simulation;

/// <summary>Exposure received: stimulus-on minutes at each hierarchy step, their total, and the highest step reached (0-based).</summary>
public sealed record ExposureDose(IReadOnlyList<double> MinutesPerStep, double TotalMinutes, int HighestStep);

/// <summary>What one treatment session produced that the trial records (all of it observable, none of it latent).</summary>
public sealed record SessionResult(int Holds, int Alerts, double MinutesAboveCeiling, double[] MinutesPerStep, ExposureContext LastContext,
    string StartItemNext, string Highest, double? FirstSuds, double? PeakSuds, double? EndSuds);

/// <summary>The state carried from one session to the next of one patient under one policy.</summary>
public sealed class TreatmentCourse(Patient patient)
{
    public Patient Patient { get; } = patient;
    public ExpectancyModel Expectancy { get; } = new();
    public TherapistPreferences Preferences { get; } = new();
    public ExposureContext? LastContext { get; set; }
    public string? StartItem { get; set; }
    public string? Highest { get; set; }
}

/// <summary>
/// One treatment session: the exposure engine (supervised-auto, default rules and safety policy, a scripted
/// therapist that releases a hold after a quiet minute) drives an <see cref="IObservedPatient"/>. The engine and its
/// scheduler receive only what the patient shows (<see cref="ObservedState"/>, expectancy and outcome ratings);
/// this type never sees a latent fear model, which is what keeps the trial's outcomes out of the schedulers' reach.
/// </summary>
public static class TreatmentSession
{
    public static SessionResult Run(IObservedPatient vp, TreatmentCourse course, string policy, int session, double day, TrialOptions o, FearHierarchy hierarchy,
        RuleSet rules, int seed, SessionSummary.Builder? summary = null)
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day));
        var engine = new ExposureEngine(course.Patient, Schedulers.Create(policy), rules, new SafetyOptions(), EngineMode.SupervisedAuto, clock, seed + session,
            TimeSpan.FromSeconds(10), course.Expectancy, course.Preferences, session, course.LastContext, course.StartItem, course.Highest);
        double? expectancyRating = null, first = null, peak = null, end = null;
        double trialStart = 0, minutesAbove = 0;
        int holds = 0, alerts = 0;
        var perStep = new double[hierarchy.Items.Count];
        var therapist = new ScriptedTherapist(60);
        for (double t = 0; t <= o.SessionMinutes * 60 && !vp.DroppedOut; t += o.StepSeconds)
        {
            var item = hierarchy[engine.CurrentItemId];
            int stepIndex = hierarchy.IndexOf(engine.CurrentItemId);
            double intensity = item.Scenario.Intensity(engine.CurrentParameters);
            var ctx = engine.CurrentContext;
            bool on = !engine.Snapshot.Paused && !engine.Stopped;
            expectancyRating ??= vp.RateExpectancy(intensity, ctx, day);
            var obs = vp.Step(intensity, ctx, day, t / 60, o.StepSeconds, on);
            if (on)
            {
                perStep[stepIndex] += o.StepSeconds / 60;
                first ??= obs.Suds;
                peak = Math.Max(peak ?? 0, obs.Suds);
                end = obs.Suds;
            }
            if (obs.ArousalProbability >= 0.85) minutesAbove += o.StepSeconds / 60;
            bool trialEnd = t - trialStart >= o.TrialSeconds;
            double? outcomeRating = trialEnd ? vp.EndTrial(intensity, ctx, day, 0) : null;
            clock.SetUtcNow(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day).AddSeconds(t));
            var events = engine.OnUpdate(new StateUpdate
            {
                Elapsed = TimeSpan.FromSeconds(t),
                ArousalProbability = obs.ArousalProbability,
                HeartRateBpm = obs.HeartRate,
                Suds = obs.Suds,
                HeadAwaySeconds = obs.HeadAwaySeconds,
                TrialEnded = trialEnd,
                ExpectancyBefore = trialEnd ? expectancyRating : null,
                OutcomeAfter = outcomeRating,
            });
            foreach (var e in events)
            {
                if (e.Kind == "safety_hold") holds++;
                else if (e.Kind == "safety_alert") alerts++;
            }
            summary?.Add(t / 60, on, obs, trialEnd ? expectancyRating : null, outcomeRating, stepIndex);
            therapist.Observe(engine, events);
            if (trialEnd) { trialStart = t; expectancyRating = null; }
        }
        int reached = engine.Trials.Count == 0 ? 0 : engine.Trials.Max(tr => hierarchy.IndexOf(tr.ItemId));
        string highest = hierarchy.Items[Math.Max(reached, course.Highest is null ? 0 : hierarchy.IndexOf(course.Highest))].Id;
        string startNext = hierarchy.Items[Math.Max(0, hierarchy.IndexOf(engine.CurrentItemId) - 1)].Id; // next session starts a step below
        var res = new SessionResult(holds, alerts, minutesAbove, perStep, engine.CurrentContext, startNext, highest, first, peak, end);
        course.LastContext = res.LastContext; course.StartItem = startNext; course.Highest = highest;
        return res;
    }
}
