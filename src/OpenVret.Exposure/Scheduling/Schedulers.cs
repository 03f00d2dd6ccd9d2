using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Expectancy;
using OpenVret.Exposure.Session;

namespace OpenVret.Exposure.Scheduling;

/// <summary>A finished trial, as the schedulers and the planner see it.</summary>
public sealed record TrialRecord(int Session, string ItemId, IReadOnlyDictionary<string, double> Parameters, ExposureContext Context,
    double Intensity, TrialRatings? Ratings, double? PeakSuds, TimeSpan EndedAt);

/// <summary>What a scheduler decides from.</summary>
public sealed record SchedulerContext(
    FearHierarchy Hierarchy,
    SessionSnapshot Snapshot,
    ExpectancyModel Expectancy,
    IReadOnlyList<TrialRecord> Trials,
    TherapistPreferences Preferences,
    Random Random,
    string CurrentItemId,
    IReadOnlyDictionary<string, double> CurrentParameters,
    ExposureContext CurrentContext,
    ExposureContext? PreviousSessionContext,
    int HighestItemReached,
    bool MidTrial = false)
{
    /// <summary>
    /// The safety envelope: no proposal goes beyond one hierarchy step past the highest step already
    /// tolerated, nor above that item's intensity.
    /// </summary>
    public int EnvelopeIndex => Math.Min(Hierarchy.Items.Count - 1, HighestItemReached + 1);
    public double EnvelopeIntensity => Hierarchy.Items.Take(EnvelopeIndex + 1).Max(i => i.Intensity);
}

/// <summary>A concrete target for the scene: item, parameters, context, and the pause before it.</summary>
public sealed record ExposureTarget(string ItemId, IReadOnlyDictionary<string, double> Parameters, ExposureContext Context, TimeSpan InterTrialInterval, IReadOnlyList<Reason> Reasons);

/// <summary>One interface for every exposure policy, selectable per patient.</summary>
public interface IExposureScheduler
{
    string Id { get; }
    /// <summary>How often to be consulted inside a running trial (null: only at trial ends and long steps).</summary>
    TimeSpan? MidTrialCheck { get; }
    /// <summary>What to do at a decision point (a trial ended, the step ran long, or a mid-trial check with <see cref="SchedulerContext.MidTrial"/>).</summary>
    (ExposureAction Action, IReadOnlyList<Reason> Reasons, double Confidence) Decide(SchedulerContext ctx);
    /// <summary>Turns an action (the scheduler's own, a rule's, or the therapist's) into a concrete target within the envelope.</summary>
    ExposureTarget Realize(ExposureAction action, SchedulerContext ctx);
}

public static class Schedulers
{
    public static IExposureScheduler Create(string id) => id switch
    {
        "fixed" or "fixed-hierarchy" => new FixedHierarchyScheduler(),
        "habituation" or "fear-reduction" => new HabituationScheduler(),
        "inhibitory" or "inhibitory-learning" => new InhibitoryLearningScheduler(),
        _ => throw new ExposureInputException("scheduler", id, "one of fixed, habituation, inhibitory"),
    };
}

/// <summary>Realisation of actions shared by all schedulers; every target stays inside the envelope.</summary>
public abstract class SchedulerBase : IExposureScheduler
{
    public abstract string Id { get; }
    public virtual TimeSpan? MidTrialCheck => null;
    public abstract (ExposureAction Action, IReadOnlyList<Reason> Reasons, double Confidence) Decide(SchedulerContext ctx);

    protected virtual TimeSpan Interval(SchedulerContext ctx) => TimeSpan.FromSeconds(30);

    public virtual ExposureTarget Realize(ExposureAction action, SchedulerContext ctx)
    {
        var h = ctx.Hierarchy;
        int idx = h.IndexOf(ctx.CurrentItemId);
        var item = h.Items[idx];
        var reasons = new List<Reason>();
        switch (action)
        {
            case ExposureAction.StepUp:
                {
                    int next = Math.Min(idx + 1, ctx.EnvelopeIndex);
                    if (next == idx) reasons.Add(new Reason(ReasonKind.Scheduler, "envelope", $"'{item.Label}' is the last step inside the safety envelope; staying"));
                    var target = h.Items[next];
                    return new ExposureTarget(target.Id, target.Parameters, ctx.CurrentContext, Interval(ctx), reasons);
                }
            case ExposureAction.StepDown:
                {
                    if (idx > 0)
                    {
                        var target = h.Items[idx - 1];
                        return new ExposureTarget(target.Id, target.Parameters, ctx.CurrentContext, Interval(ctx), reasons);
                    }
                    // Already at the first step: make it gentler instead.
                    var gentler = ScaleIntensity(item, ctx.CurrentParameters, 0.75);
                    reasons.Add(new Reason(ReasonKind.Scheduler, "first-step", "already at the first step: the stimulus is made gentler instead"));
                    return new ExposureTarget(item.Id, gentler, ctx.CurrentContext, Interval(ctx), reasons);
                }
            case ExposureAction.Vary:
                {
                    var varied = Vary(item, ctx.CurrentParameters, ctx, 0.15 * ctx.Preferences.StepScale);
                    return new ExposureTarget(item.Id, varied, ctx.CurrentContext, Interval(ctx), reasons);
                }
            case ExposureAction.ShiftContext:
                return new ExposureTarget(item.Id, ctx.CurrentParameters, ShiftContext(ctx.CurrentContext, ctx.PreviousSessionContext, ctx.Random), Interval(ctx), reasons);
            case ExposureAction.Combine:
                {
                    // Deepened extinction: the current stimulus with the most feared parameter values of the
                    // next item of the same scenario, capped at the envelope.
                    var partner = h.Items.Skip(idx + 1).Take(ctx.EnvelopeIndex - idx).FirstOrDefault(x => x.ScenarioId == item.ScenarioId);
                    if (partner is null)
                    {
                        reasons.Add(new Reason(ReasonKind.Scheduler, "no-partner", "no further stimulus of this scenario inside the envelope; varying instead"));
                        return new ExposureTarget(item.Id, Vary(item, ctx.CurrentParameters, ctx, 0.15), ctx.CurrentContext, Interval(ctx), reasons);
                    }
                    var spec = item.Scenario;
                    var combined = spec.Parameters.ToDictionary(p => p.Name,
                        p => p.Intensity(partner.Parameters[p.Name]) > p.Intensity(ctx.CurrentParameters[p.Name]) ? partner.Parameters[p.Name] : ctx.CurrentParameters[p.Name]);
                    reasons.Add(new Reason(ReasonKind.Scheduler, "combine", $"combined with '{partner.Label}' (deepened extinction, Rescorla 2006)"));
                    return new ExposureTarget(item.Id, CapToEnvelope(item, combined, ctx.EnvelopeIntensity), ctx.CurrentContext, Interval(ctx), reasons);
                }
            default:
                return new ExposureTarget(item.Id, ctx.CurrentParameters, ctx.CurrentContext, action == ExposureAction.EndTrial ? Interval(ctx) : TimeSpan.Zero, reasons);
        }
    }

    /// <summary>Moves each parameter by up to +-spread of its range (at random), then caps at the envelope.</summary>
    protected static IReadOnlyDictionary<string, double> Vary(HierarchyItem item, IReadOnlyDictionary<string, double> current, SchedulerContext ctx, double spread)
    {
        var spec = item.Scenario;
        var res = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in spec.Parameters)
        {
            double u = p.Intensity(current[p.Name]) + (ctx.Random.NextDouble() * 2 - 1) * spread;
            res[p.Name] = p.ValueAt(u);
        }
        return CapToEnvelope(item, res, ctx.EnvelopeIntensity);
    }

    protected static IReadOnlyDictionary<string, double> ScaleIntensity(HierarchyItem item, IReadOnlyDictionary<string, double> current, double factor)
    {
        var spec = item.Scenario;
        return spec.Parameters.ToDictionary(p => p.Name, p => p.ValueAt(p.Intensity(current[p.Name]) * factor));
    }

    /// <summary>Scales intensities down until the stimulus is no more intense than the envelope allows.</summary>
    protected static IReadOnlyDictionary<string, double> CapToEnvelope(HierarchyItem item, IReadOnlyDictionary<string, double> values, double envelope)
    {
        var spec = item.Scenario;
        var v = values;
        for (int i = 0; i < 20 && spec.Intensity(v) > envelope + 1e-9; i++) v = ScaleIntensity(item, v, 0.9);
        if (spec.Intensity(v) > envelope + 1e-9) v = item.Parameters; // the item itself is inside the envelope by construction
        return v;
    }

    protected static ExposureContext ShiftContext(ExposureContext current, ExposureContext? previous, Random rng)
    {
        // Change one attribute to a value different from both the current and the previous session's.
        var options = new List<ExposureContext>();
        foreach (var r in ExposureContext.Rooms) if (r != current.Room && r != previous?.Room) options.Add(current with { Room = r });
        foreach (var l in ExposureContext.Lightings) if (l != current.Lighting && l != previous?.Lighting) options.Add(current with { Lighting = l });
        foreach (var t in ExposureContext.TimesOfDay) if (t != current.TimeOfDay && t != previous?.TimeOfDay) options.Add(current with { TimeOfDay = t });
        foreach (var s in ExposureContext.Sounds) if (s != current.Sound && s != previous?.Sound) options.Add(current with { Sound = s });
        return options.Count == 0 ? current with { Room = ExposureContext.Rooms.First(r => r != current.Room) } : options[rng.Next(options.Count)];
    }
}

/// <summary>
/// Traditional graded exposure: repeat a step until SUDS falls to the threshold (30 by default), then climb
/// (Wolpe 1958; Marks 1978). The baseline against which the other policies are compared.
/// </summary>
public sealed class FixedHierarchyScheduler : SchedulerBase
{
    public override string Id => "fixed";
    public double SudsThreshold { get; init; } = 30;

    public override (ExposureAction, IReadOnlyList<Reason>, double) Decide(SchedulerContext ctx)
    {
        double threshold = SudsThreshold + ctx.Preferences.SudsThresholdOffset;
        var s = ctx.Snapshot;
        if (s.Suds is not double suds)
            return (ExposureAction.Continue, new[] { new Reason(ReasonKind.Scheduler, "fixed-no-suds", "no SUDS rating yet: repeat the step") }, 0.5);
        var values = new Dictionary<string, double> { ["suds"] = suds, ["threshold"] = threshold };
        return suds <= threshold
            ? (ExposureAction.StepUp, new[] { new Reason(ReasonKind.Scheduler, "fixed-climb", $"SUDS {suds:0} is at or below {threshold:0}: climb to the next step", values) }, 0.8)
            : (ExposureAction.Continue, new[] { new Reason(ReasonKind.Scheduler, "fixed-repeat", $"SUDS {suds:0} is above {threshold:0}: repeat this step", values) }, 0.7);
    }
}

/// <summary>
/// Fear reduction / habituation: stay until SUDS (or arousal) has fallen by a set fraction of its peak in the
/// step, then climb (Foa &amp; Kozak 1986, emotional processing theory).
/// </summary>
public sealed class HabituationScheduler : SchedulerBase
{
    public override string Id => "habituation";
    public double ReductionFraction { get; init; } = 0.5;

    public override (ExposureAction, IReadOnlyList<Reason>, double) Decide(SchedulerContext ctx)
    {
        var s = ctx.Snapshot;
        if (s.Suds is double suds && s.PeakSudsInStep is double peak && peak > 0)
        {
            double target = peak * (1 - ReductionFraction);
            var values = new Dictionary<string, double> { ["suds"] = suds, ["peak_suds"] = peak };
            return suds <= target
                ? (ExposureAction.StepUp, new[] { new Reason(ReasonKind.Scheduler, "habituated", $"SUDS fell from {peak:0} to {suds:0} (by at least {ReductionFraction:P0}): climb", values) }, 0.8)
                : (ExposureAction.Continue, new[] { new Reason(ReasonKind.Scheduler, "not-habituated", $"SUDS {suds:0} has not yet fallen to {target:0} ({ReductionFraction:P0} below the peak {peak:0}): stay", values) }, 0.7);
        }
        return (ExposureAction.Continue, new[] { new Reason(ReasonKind.Scheduler, "habituation-no-suds", "no SUDS peak yet: stay") }, 0.5);
    }
}

/// <summary>
/// Inhibitory learning (Craske et al. 2008, 2014): choose the next trial that maximises the expected
/// expectancy violation inside the safety envelope (the Rescorla-Wagner prediction of each candidate, since
/// the feared outcome is not delivered), vary the stimulus when it no longer surprises, combine stimuli when
/// no single one does (deepened extinction, Rescorla 2006), shift the context at the start of later sessions
/// (Bouton 2004), and expand the spacing between trials (Cain et al. 2003; Tsao &amp; Craske 2000).
/// </summary>
public sealed class InhibitoryLearningScheduler : SchedulerBase
{
    public override string Id => "inhibitory";
    /// <summary>Predicted expectancy (0-100) below which a stimulus no longer promises a useful violation.</summary>
    public double MinUsefulExpectancy { get; init; } = 15;

    protected override TimeSpan Interval(SchedulerContext ctx)
    {
        int inSession = ctx.Trials.Count(t => t.Session == ctx.Snapshot.SessionNumber);
        return TimeSpan.FromSeconds(Math.Min(300, 30 * Math.Pow(1.5, inSession)));
    }

    public override TimeSpan? MidTrialCheck => TimeSpan.FromSeconds(90);

    public override (ExposureAction, IReadOnlyList<Reason>, double) Decide(SchedulerContext ctx)
    {
        var s = ctx.Snapshot;
        if (ctx.MidTrial)
        {
            // Within-trial variability: while the stimulus is still expected to be dangerous, vary it slightly.
            double expected = ctx.Expectancy.Predict(ctx.CurrentItemId, ctx.Hierarchy[ctx.CurrentItemId].AnticipatedSuds);
            return expected >= MinUsefulExpectancy
                ? (ExposureAction.Vary, new[] { new Reason(ReasonKind.Expectancy, "vary-within-trial",
                    $"{s.TimeInStepSeconds:0} s into the trial and still expected at {expected:0} of 100: vary the stimulus within the trial (Craske et al. 2014)") }, 0.6)
                : (ExposureAction.Continue, new[] { new Reason(ReasonKind.Expectancy, "no-mid-trial-change", "expectancy already low: keep the stimulus") }, 0.5);
        }
        if (s.SessionNumber > 1 && s.TrialCount == 0 && ctx.PreviousSessionContext is { } prev && prev.Differences(ctx.CurrentContext) == 0)
            return (ExposureAction.ShiftContext, new[] { new Reason(ReasonKind.Scheduler, "context-shift", $"session {s.SessionNumber} starts in the same context as the last ({prev}): shift it (Bouton 2004)") }, 0.8);

        // Candidates: every item inside the envelope, scored by the violation it is expected to produce.
        var h = ctx.Hierarchy;
        var scored = h.Items.Take(ctx.EnvelopeIndex + 1)
            .Select(i => (Item: i, Expected: ctx.Expectancy.Predict(i.Id, prior: i.AnticipatedSuds)))
            .ToList();
        var best = scored.OrderByDescending(x => x.Expected).ThenBy(x => h.IndexOf(x.Item.Id)).First();
        var values = scored.ToDictionary(x => "expected_violation_" + x.Item.Id, x => x.Expected);
        if (best.Expected < MinUsefulExpectancy)
            return (ExposureAction.Combine, new[] { new Reason(ReasonKind.Expectancy, "no-single-violation",
                $"no single stimulus inside the envelope is expected to violate an expectancy (best: '{best.Item.Label}' at {best.Expected:0}): combine stimuli", values) }, 0.7);
        int current = h.IndexOf(ctx.CurrentItemId), target = h.IndexOf(best.Item.Id);
        if (target > current)
            return (ExposureAction.StepUp, new[] { new Reason(ReasonKind.Expectancy, "max-violation",
                $"'{best.Item.Label}' has the highest expected violation ({best.Expected:0} of 100) inside the envelope: move up", values) }, 0.75);
        double here = ctx.Expectancy.Predict(ctx.CurrentItemId, h[ctx.CurrentItemId].AnticipatedSuds);
        return (ExposureAction.Vary, new[] { new Reason(ReasonKind.Expectancy, "vary-current",
            $"the current stimulus is still expected at {here:0} of 100; repeat it with varied parameters (stimulus variability)", values) }, 0.7);
    }

    public override ExposureTarget Realize(ExposureAction action, SchedulerContext ctx)
    {
        if (action != ExposureAction.StepUp) return base.Realize(action, ctx);
        // Move to the candidate with the highest expected violation (not just the next rung).
        var h = ctx.Hierarchy;
        var best = h.Items.Take(ctx.EnvelopeIndex + 1).Skip(h.IndexOf(ctx.CurrentItemId) + 1)
            .OrderByDescending(i => ctx.Expectancy.Predict(i.Id, i.AnticipatedSuds)).FirstOrDefault();
        if (best is null) return base.Realize(action, ctx);
        // Vary the new stimulus a little, never below the item itself (a step up stays a step up).
        var varied = Vary(best, best.Parameters, ctx, 0.05 * ctx.Preferences.StepScale);
        if (best.Scenario.Intensity(varied) < best.Intensity) varied = best.Parameters;
        return new ExposureTarget(best.Id, varied, ctx.CurrentContext, Interval(ctx), Array.Empty<Reason>());
    }
}
