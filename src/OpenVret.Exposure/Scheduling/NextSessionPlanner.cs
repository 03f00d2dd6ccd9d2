using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Expectancy;

namespace OpenVret.Exposure.Scheduling;

public sealed record PlannedTrial(string ItemId, ExposureContext Context, TimeSpan InterTrialInterval, double ExpectedViolation);
public sealed record SessionPlan(int Session, IReadOnlyList<PlannedTrial> Trials, IReadOnlyList<Reason> Reasons);

/// <summary>
/// The plan for the next session, for the therapist to accept or edit: start with a retrieval of the last
/// step in a new context (Bouton 2004), then the stimuli with the highest expected violation inside the
/// envelope, with expanding spacing (Tsao &amp; Craske 2000).
/// </summary>
public static class NextSessionPlanner
{
    public static SessionPlan Plan(FearHierarchy hierarchy, ExpectancyModel model, IReadOnlyList<TrialRecord> trials, int nextSession, int seed, int maxTrials = 6)
    {
        var reasons = new List<Reason>();
        var last = trials.LastOrDefault();
        var lastContext = last?.Context ?? new ExposureContext();
        int highest = trials.Count == 0 ? 0 : trials.Max(t => hierarchy.IndexOf(t.ItemId));
        int envelope = Math.Min(hierarchy.Items.Count - 1, highest + 1);
        var rng = new Random(seed);
        var options = new List<ExposureContext>
        {
            lastContext with { Room = ExposureContext.Rooms[(Array.IndexOf(ExposureContext.Rooms, lastContext.Room) + 1) % ExposureContext.Rooms.Length] },
            lastContext with { Lighting = ExposureContext.Lightings[(Array.IndexOf(ExposureContext.Lightings, lastContext.Lighting) + 1) % ExposureContext.Lightings.Length] },
        };
        var context = options[rng.Next(options.Count)];
        reasons.Add(new Reason(ReasonKind.Scheduler, "plan-context", $"new context {context} (last session: {lastContext}): extinction generalises across contexts (Bouton 2004)"));
        var plan = new List<PlannedTrial>();
        if (last is not null)
        {
            plan.Add(new PlannedTrial(last.ItemId, context, TimeSpan.Zero, model.Predict(last.ItemId, hierarchy[last.ItemId].AnticipatedSuds)));
            reasons.Add(new Reason(ReasonKind.Scheduler, "plan-retrieval", $"begin with the last step ('{hierarchy[last.ItemId].Label}') as a retrieval test of what was learned"));
        }
        var ranked = hierarchy.Items.Take(envelope + 1)
            .Select(i => (Item: i, Expected: model.Predict(i.Id, i.AnticipatedSuds)))
            .OrderByDescending(x => x.Expected).ToList();
        double interval = 30;
        for (int k = 0; plan.Count < maxTrials && ranked.Count > 0; k++)
        {
            var (item, expected) = ranked[k % ranked.Count];
            plan.Add(new PlannedTrial(item.Id, context, TimeSpan.FromSeconds(interval), expected));
            interval = Math.Min(300, interval * 1.5);
        }
        reasons.Add(new Reason(ReasonKind.Expectancy, "plan-order", "stimuli ordered by expected expectancy violation inside the envelope: " +
            string.Join(", ", ranked.Select(x => $"{x.Item.Id} {x.Expected:0}"))));
        reasons.Add(new Reason(ReasonKind.Scheduler, "plan-spacing", "inter-trial intervals expand from 30 s by x1.5 (expanding spacing)"));
        return new SessionPlan(nextSession, plan, reasons);
    }
}
