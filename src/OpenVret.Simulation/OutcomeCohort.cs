using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Rules;
using OpenVret.Learning.Outcome;

namespace OpenVret.Simulation;

/// <summary>How much of the outcome the session data can carry in a simulated cohort.</summary>
public enum CohortSignal
{
    /// <summary>The simulator's own process: session data follow each patient's fear learning, which also drives the outcome.</summary>
    Natural,
    /// <summary>Each patient's per-session columns are swapped with another patient's (any site): same pooled distributions, no link to the outcome or the site.</summary>
    None,
}

public sealed record CohortOptions
{
    public int Sites { get; init; } = 4;
    public int PatientsPerSite { get; init; } = 80;
    public int Sessions { get; init; } = 5;
    public CohortSignal Signal { get; init; } = CohortSignal.Natural;
    public string Policy { get; init; } = "inhibitory";
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Sites is < 1 or > 26) throw new ArgumentOutOfRangeException(nameof(Sites), Sites, "sites: 1-26");
        if (PatientsPerSite is < 5 or > 5000) throw new ArgumentOutOfRangeException(nameof(PatientsPerSite), PatientsPerSite, "patients per site: 5-5000");
        if (Sessions is < 1 or > 20) throw new ArgumentOutOfRangeException(nameof(Sessions), Sessions, "sessions: 1-20");
    }
}

/// <summary>
/// Multi-site cohorts in the outcome schema with a known generating process. Each virtual patient (sites differ
/// in physiology, reactivity and reporting, see <see cref="Cohort"/>) goes through the sessions under one
/// scheduling policy. Severity is 100 x the fear model's expectancy for the top hierarchy step plus rater noise
/// (SD 6): at baseline (before treatment), after treatment, and at follow-up in a new context 30 days later.
/// Responder (sustained response): follow-up severity at most half the baseline; remitter: follow-up below 30. Age and sex are drawn
/// (age from the patient's subgroup; sex has no effect). Baseline severity reflects initial fear only, while the
/// session data also reflect how fast the patient learns, so they can add information; with
/// <see cref="CohortSignal.None"/> that information is removed by construction.
/// </summary>
public static class OutcomeCohort
{
    public static List<OutcomeRecord> Simulate(CohortOptions o)
    {
        o.Validate();
        var sites = Enumerable.Range(0, o.Sites).Select(i => i < Cohort.DefaultSites.Length ? Cohort.DefaultSites[i]
            : new Cohort.Site($"site-{(char)('A' + i)}", 3 * Math.Sin(i), 1 + 0.15 * Math.Cos(i), 4 * Math.Sin(2 * i))).ToList();
        var profiles = Cohort.Draw(o.Sites * o.PatientsPerSite, o.Seed, sites);
        var hierarchy = TrialRunner.DefaultHierarchy();
        var top = hierarchy.Items[^1];
        var rules = RuleSet.Default();
        var trial = new TrialOptions { Sessions = o.Sessions, Seed = o.Seed, Patients = profiles.Count };
        var records = new OutcomeRecord[profiles.Count];
        Parallel.For(0, profiles.Count, i =>
        {
            var p = profiles[i];
            var rng = new Random(o.Seed * 7919 + i);
            double G() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            double Severity(double fear) => Math.Clamp(Math.Round(100 * fear + 6 * G(), 1), 0, 100);
            var sessions = new List<SessionSummary>();
            double baselineFear = 0;
            double postFear = 0, followFear = 0, postDay = (o.Sessions - 1) * trial.DaysBetweenSessions + 1;
            var outcome = TrialRunner.RunOne(p, o.Policy, trial, hierarchy, rules, o.Seed * 100_003 + i, "associative", sessions,
                vp => baselineFear = vp.Latent.Expectancy(top.Intensity, top.Context, 0),
                afterTreatment: vp =>
                {
                    postFear = vp.Latent.Expectancy(top.Intensity, top.Context, postDay);
                    followFear = vp.Latent.Expectancy(top.Intensity, OutcomeAssessment.NovelContext, postDay + trial.FollowUpDays);
                });
            double pre = Severity(baselineFear), post = Severity(postFear), follow = Severity(followFear);
            var numeric = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["age"] = Math.Round(p.Subgroup == "older" ? 55 + 20 * rng.NextDouble() : 20 + 25 * rng.NextDouble()),
                ["baseline_severity"] = pre,
                ["sessions_attended"] = sessions.Count,
                ["dropped_out"] = outcome.DroppedOut ? 1 : 0,
            };
            foreach (var s in sessions)
            {
                var values = s.Values();
                for (int c = 0; c < SessionSummary.Columns.Count; c++)
                    if (values[c] is double v && double.IsFinite(v)) numeric[$"s{s.Session}_{SessionSummary.Columns[c]}"] = Math.Round(v, 3);
            }
            records[i] = new OutcomeRecord(p.Id, p.Site, numeric,
                new Dictionary<string, string>(StringComparer.Ordinal) { ["sex"] = rng.NextDouble() < 0.5 ? "f" : "m" },
                new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["post_severity"] = post, ["followup_severity"] = follow,
                    ["responder"] = follow <= 0.5 * pre ? 1 : 0, ["remitter"] = follow < 30 ? 1 : 0,
                });
        });
        var list = records.ToList();
        return o.Signal == CohortSignal.None ? Decouple(list, o.Seed) : list;
    }

    /// <summary>
    /// Swaps every patient's per-session columns (as one block) with another patient's, across the whole cohort: a
    /// within-site swap would keep site-level differences that can correlate with sites' response rates.
    /// </summary>
    private static List<OutcomeRecord> Decouple(List<OutcomeRecord> records, int seed)
    {
        var rng = new Random(seed + 99);
        var donors = records.OrderBy(_ => rng.Next()).ToList();
        return records.Select((r, i) => r with
        {
            Numeric = r.Numeric.Where(kv => !OutcomeSchema.SessionColumn.IsMatch(kv.Key))
                .Concat(donors[i].Numeric.Where(kv => OutcomeSchema.SessionColumn.IsMatch(kv.Key)))
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        }).ToList();
    }
}
