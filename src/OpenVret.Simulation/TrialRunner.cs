using System.Globalization;
using OpenVret.Exposure;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Expectancy;
using OpenVret.Exposure.Rules;
using OpenVret.Exposure.Safety;
using OpenVret.Exposure.Scheduling;
using OpenVret.Exposure.Session;

namespace OpenVret.Simulation;

public sealed record TrialOptions
{
    public IReadOnlyList<string> Policies { get; init; } = new[] { "fixed", "habituation", "inhibitory" };
    public int Patients { get; init; } = 100;
    public int Sessions { get; init; } = 8;
    public int Seed { get; init; } = 1;
    public double SessionMinutes { get; init; } = 30;
    public double StepSeconds { get; init; } = 10;
    public double TrialSeconds { get; init; } = 120;
    public double DaysBetweenSessions { get; init; } = 7;
    public double FollowUpDays { get; init; } = 30;
    /// <summary>Post-treatment fear to the top step below this counts as "at criterion".</summary>
    public double Criterion { get; init; } = 0.3;
    public int BootstrapResamples { get; init; } = 2000;

    public void Validate()
    {
        if (Policies.Count == 0) throw new ExposureInputException("policies", "(none)", "name at least one policy");
        foreach (var p in Policies) Schedulers.Create(p);
        if (Patients is < 1 or > 100_000) throw new ExposureInputException("patients", Patients.ToString(CultureInfo.InvariantCulture), "1..100000");
        if (Sessions is < 1 or > 50) throw new ExposureInputException("sessions", Sessions.ToString(CultureInfo.InvariantCulture), "1..50");
    }
}

/// <summary>One patient under one policy.</summary>
public sealed record PatientOutcome(string Patient, string Site, string Subgroup, string Policy, double PostFear, double FollowUpFear,
    double ReturnOfFear, int SessionsToCriterion, double MinutesAboveCeiling, int SafetyHolds, int Alerts, bool DroppedOut, int HighestStep);

/// <summary>The mean of one outcome under one policy, and its paired difference from the reference policy.</summary>
public sealed record OutcomeSummary(string Outcome, string Policy, double Mean, double Sd, double? DifferenceFromReference, double? CiLow, double? CiHigh, double? EffectSizeDz);

public sealed record TrialReport(TrialOptions Options, string ReferencePolicy, IReadOnlyList<OutcomeSummary> Summaries, IReadOnlyList<PatientOutcome> Patients);

/// <summary>
/// In-silico trial: every virtual patient goes through every policy with the same random draws (a paired
/// design), for N weekly sessions, then a post-treatment test and a follow-up in a novel context after a
/// delay (return of fear). The exposure engine runs in supervised-auto mode with the default rules and
/// safety policy; the replayed therapist releases a safety hold once nothing has fired for a minute.
/// In-silico results are hypotheses about the model, not clinical evidence.
/// </summary>
public static class TrialRunner
{
    public static readonly string[] Outcomes = { "post_fear", "followup_fear", "return_of_fear", "sessions_to_criterion", "minutes_above_ceiling", "safety_holds", "alerts", "dropout" };

    public static FearHierarchy DefaultHierarchy() => new(new[]
    {
        Item("h1", "2nd floor, railing", 6, 1, 0, 20), Item("h2", "5th floor, railing", 15, 1, 0, 35),
        Item("h3", "5th floor, look down", 15, 1, 1, 50), Item("h4", "12th floor, no railing", 36, 0, 0, 65),
        Item("h5", "glass elevator, 30th floor", 90, 0, 1, 85),
    });

    private static HierarchyItem Item(string id, string label, double floor, double railing, double look, int suds) =>
        new(id, label, "heights", new Dictionary<string, double> { ["floor_height_m"] = floor, ["railing"] = railing, ["look_down_prompt"] = look }, new ExposureContext(), suds);

    public static TrialReport Run(TrialOptions options, FearHierarchy? hierarchy = null)
    {
        options.Validate();
        hierarchy ??= DefaultHierarchy();
        var profiles = Cohort.Draw(options.Patients, options.Seed);
        var rules = RuleSet.Default();
        var results = new PatientOutcome[profiles.Count * options.Policies.Count];
        Parallel.For(0, profiles.Count, i =>
        {
            for (int k = 0; k < options.Policies.Count; k++)
                results[i * options.Policies.Count + k] = RunOne(profiles[i], options.Policies[k], options, hierarchy, rules, options.Seed * 100_003 + i);
        });
        var list = results.ToList();
        return new TrialReport(options, options.Policies[0], Summarise(list, options), list);
    }

    /// <summary>One patient through all sessions of one policy.</summary>
    public static PatientOutcome RunOne(PatientProfile profile, string policy, TrialOptions o, FearHierarchy hierarchy, RuleSet rules, int seed,
        List<SessionSummary>? sessions = null, Action<VirtualPatient>? beforeTreatment = null)
    {
        var vp = new VirtualPatient(profile, seed);
        beforeTreatment?.Invoke(vp);
        var patient = new Patient(profile.Id, hierarchy, (int)Math.Clamp(profile.RestingHeartRate + 70, 120, 200));
        var expectancy = new ExpectancyModel();
        var preferences = new TherapistPreferences();
        var top = hierarchy.Items[^1];
        ExposureContext? lastContext = null;
        string? startItem = null, highest = null;
        double minutesAbove = 0; int holds = 0, alerts = 0, toCriterion = o.Sessions + 1;
        double day = 0;
        for (int s = 1; s <= o.Sessions && !vp.DroppedOut; s++)
        {
            day = (s - 1) * o.DaysBetweenSessions;
            var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day));
            var engine = new ExposureEngine(patient, Schedulers.Create(policy), rules, new SafetyOptions(), EngineMode.SupervisedAuto, clock, seed + s,
                TimeSpan.FromSeconds(10), expectancy, preferences, s, lastContext, startItem, highest);
            double? expectancyRating = null;
            double trialStart = 0;
            var therapist = new ScriptedTherapist(60);
            var summary = sessions is null ? null : new SessionSummary.Builder(s, vp.MeasuredRestingHeartRate(), vp.MeasuredRestingScl());
            int holdsBefore = holds;
            double aboveBefore = minutesAbove;
            for (double t = 0; t <= o.SessionMinutes * 60 && !vp.DroppedOut; t += o.StepSeconds)
            {
                var item = hierarchy[engine.CurrentItemId];
                double intensity = item.Scenario.Intensity(engine.CurrentParameters);
                var ctx = engine.CurrentContext;
                bool on = !engine.Snapshot.Paused && !engine.Stopped;
                expectancyRating ??= vp.RateExpectancy(intensity, ctx, day);
                var obs = vp.Step(intensity, ctx, day, t / 60, o.StepSeconds, on);
                if (obs.ArousalProbability >= 0.85) minutesAbove += o.StepSeconds / 60;
                bool trialEnd = t - trialStart >= o.TrialSeconds;
                double outcome = 0;
                if (trialEnd) vp.Memory.Learn(intensity, ctx, day, outcome);
                double? outcomeRating = trialEnd ? vp.RateOutcome(outcome) : null;
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
                summary?.Add(t / 60, on, obs, trialEnd ? expectancyRating : null, outcomeRating, hierarchy.IndexOf(engine.CurrentItemId));
                therapist.Observe(engine, events);
                if (trialEnd) { trialStart = t; expectancyRating = null; }
            }
            if (summary is not null) sessions!.Add(summary.Build(holds - holdsBefore, minutesAbove - aboveBefore));
            lastContext = engine.CurrentContext;
            int reached = engine.Trials.Count == 0 ? 0 : engine.Trials.Max(tr => hierarchy.IndexOf(tr.ItemId));
            highest = hierarchy.Items[Math.Max(reached, highest is null ? 0 : hierarchy.IndexOf(highest))].Id;
            startItem = hierarchy.Items[Math.Max(0, hierarchy.IndexOf(engine.CurrentItemId) - 1)].Id; // next session starts a step below
            if (toCriterion > o.Sessions && vp.Memory.Expectancy(top.Intensity, lastContext, day + 1) < o.Criterion) toCriterion = s;
        }
        var final = lastContext ?? top.Context;
        double post = vp.Memory.Expectancy(top.Intensity, final, day + 1);
        var novel = new ExposureContext(ExposureContext.Rooms.First(r => r != final.Room), ExposureContext.Lightings.First(l => l != final.Lighting),
            ExposureContext.TimesOfDay.First(x => x != final.TimeOfDay), final.Sound);
        double follow = vp.Memory.Expectancy(top.Intensity, novel, day + 1 + o.FollowUpDays);
        return new PatientOutcome(profile.Id, profile.Site, profile.Subgroup, policy, post, follow, follow - post, toCriterion, minutesAbove, holds, alerts,
            vp.DroppedOut, highest is null ? 0 : hierarchy.IndexOf(highest));
    }

    /// <summary>An outcome of a patient by its report name (see <see cref="Outcomes"/>).</summary>
    public static double Value(PatientOutcome p, string outcome) => outcome switch
    {
        "post_fear" => p.PostFear, "followup_fear" => p.FollowUpFear, "return_of_fear" => p.ReturnOfFear,
        "sessions_to_criterion" => p.SessionsToCriterion, "minutes_above_ceiling" => p.MinutesAboveCeiling,
        "safety_holds" => p.SafetyHolds, "alerts" => p.Alerts, _ => p.DroppedOut ? 1 : 0,
    };

    private static List<OutcomeSummary> Summarise(List<PatientOutcome> all, TrialOptions o)
    {
        var res = new List<OutcomeSummary>();
        string reference = o.Policies[0];
        var byPolicy = o.Policies.ToDictionary(p => p, p => all.Where(x => x.Policy == p).OrderBy(x => x.Patient, StringComparer.Ordinal).ToList());
        foreach (var outcome in Outcomes)
            foreach (var policy in o.Policies)
            {
                var v = byPolicy[policy].Select(p => Value(p, outcome)).ToArray();
                double mean = v.Average(), sd = Sd(v);
                if (policy == reference) { res.Add(new OutcomeSummary(outcome, policy, mean, sd, null, null, null, null)); continue; }
                var r = byPolicy[reference].Select(p => Value(p, outcome)).ToArray();
                var d = v.Zip(r, (a, b) => a - b).ToArray();
                var (lo, hi) = Bootstrap(d, o.BootstrapResamples, o.Seed + outcome.GetHashCode(StringComparison.Ordinal) % 1000);
                double sdd = Sd(d);
                res.Add(new OutcomeSummary(outcome, policy, mean, sd, d.Average(), lo, hi, sdd > 0 ? d.Average() / sdd : null));
            }
        return res;
    }

    /// <summary>Percentile bootstrap 95 % interval of the mean (Efron &amp; Tibshirani 1993).</summary>
    public static (double Low, double High) Bootstrap(double[] x, int resamples, int seed)
    {
        var rng = new Random(seed);
        var means = new double[resamples];
        for (int b = 0; b < resamples; b++)
        {
            double s = 0;
            for (int i = 0; i < x.Length; i++) s += x[rng.Next(x.Length)];
            means[b] = s / x.Length;
        }
        Array.Sort(means);
        return (means[(int)(0.025 * (resamples - 1))], means[(int)Math.Ceiling(0.975 * (resamples - 1))]);
    }

    private static double Sd(double[] x)
    {
        if (x.Length < 2) return 0;
        double m = x.Average();
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Length - 1));
    }
}
