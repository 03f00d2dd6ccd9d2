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
    /// <summary>Fear over all steps at or below this fraction of the patient's baseline counts as "at criterion".</summary>
    public double Criterion { get; init; } = 0.5;
    public int BootstrapResamples { get; init; } = 2000;
    /// <summary>Generative fear models to run every arm under (see <see cref="FearModels.Names"/>).</summary>
    public IReadOnlyList<string> Models { get; init; } = FearModels.Names;
    /// <summary>Adds a dose-matched arm yoked to this policy: the same minutes at the same steps per session, presented in hierarchy order in one context (null: none).</summary>
    public string? DoseMatchTo { get; init; } = "inhibitory";
    /// <summary>Adds an untreated (waitlist) arm, assessed on the same days; used for calibration.</summary>
    public bool Waitlist { get; init; } = true;
    /// <summary>Changes every drawn patient before the trial (sensitivity analysis); not serialised.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Func<PatientProfile, PatientProfile>? Adjust { get; init; }

    public void Validate()
    {
        if (Policies.Count == 0) throw new ExposureInputException("policies", "(none)", "name at least one policy");
        foreach (var p in Policies) Schedulers.Create(p);
        if (Models.Count == 0) throw new ExposureInputException("models", "(none)", "name at least one of " + string.Join(", ", FearModels.Names));
        foreach (var m in Models) FearModels.Create(m, new FearParameters());
        if (DoseMatchTo is string d && !Policies.Contains(d)) throw new ExposureInputException("dose-match", d, "must be one of the trial's policies (" + string.Join(", ", Policies) + ")");
        if (Patients is < 1 or > 100_000) throw new ExposureInputException("patients", Patients.ToString(CultureInfo.InvariantCulture), "1..100000");
        if (Sessions is < 1 or > 50) throw new ExposureInputException("sessions", Sessions.ToString(CultureInfo.InvariantCulture), "1..50");
    }
}

/// <summary>One patient under one arm and one generative model: latent outcomes, observed safety, and the exposure dose.</summary>
public sealed record PatientOutcome(string Patient, string Site, string Subgroup, string Model, string Policy,
    IReadOnlyDictionary<string, double> Outcomes, ExposureDose Dose, int SessionsToCriterion, double MinutesAboveCeiling, int SafetyHolds, int Alerts,
    bool DroppedOut, IReadOnlyList<double?> FirstSuds, IReadOnlyList<double?> PeakSuds, IReadOnlyList<double?> EndSuds);

/// <summary>
/// The mean of one outcome under one arm and one model, and its paired difference from the reference policy.
/// <see cref="Flag"/> says when a figure is not a finding: "implausible" (|dz| &gt; 1 between active policies),
/// "targetable" (a policy reaches the outcome by what it chooses to present) or "dose".
/// </summary>
public sealed record OutcomeSummary(string Model, string Outcome, string Policy, double Mean, double Sd, double? DifferenceFromReference, double? CiLow, double? CiHigh,
    double? EffectSizeDz, string? Flag = null);

/// <summary>A paired comparison of two arms on one outcome under one model.</summary>
public sealed record Comparison(string Model, string Outcome, string Policy, string Against, double Difference, double CiLow, double CiHigh, double? Dz, string? Flag);

/// <summary>Whether "policy differs from the reference on an outcome" holds under each generative model.</summary>
public sealed record RobustnessRow(string Outcome, string Policy, string Against, IReadOnlyDictionary<string, string> VerdictByModel, string Conclusion);

/// <summary>Per model and outcome, the arms from best (lowest) to worst mean.</summary>
public sealed record RankingRow(string Model, string Outcome, IReadOnlyList<string> BestToWorst);

public sealed record TrialReport(TrialOptions Options, string ReferencePolicy, IReadOnlyList<string> Arms, IReadOnlyList<OutcomeSummary> Summaries,
    IReadOnlyList<Comparison> DoseMatched, IReadOnlyList<RankingRow> Rankings, IReadOnlyList<RobustnessRow> Robustness,
    IReadOnlyList<CalibrationRow> Calibration, IReadOnlyList<PatientOutcome> Patients);

/// <summary>
/// In-silico trial: every virtual patient goes through every arm under every generative fear model with the same
/// random draws (a paired design): the policies (exposure engine in supervised-auto mode, default rules and safety
/// policy, see <see cref="TreatmentSession"/>), a dose-matched arm (<see cref="TrialOptions.DoseMatchTo"/>) and an
/// untreated waitlist arm. Outcomes come from <see cref="OutcomeAssessment"/>; schedulers only see observations.
/// In-silico results are hypotheses about the models, not clinical evidence.
/// </summary>
public static class TrialRunner
{
    public const string WaitlistArm = "waitlist";
    /// <summary>
    /// Smallest difference in fear (0-1 scale, i.e. 2 points of 100) that counts as a conclusion: a difference whose
    /// 95 % CI excludes zero but whose mean is smaller than this is "no relevant difference" (with 1,000 paired
    /// patients, differences of 0.0001 are "significant").
    /// </summary>
    public const double SmallestEffect = 0.02;
    public static string DoseMatchedArm(string policy) => "dose-matched-" + policy;

    /// <summary>Every outcome in report order: the fear outcomes, then safety, then dose.</summary>
    public static readonly string[] Outcomes = OutcomeAssessment.FearOutcomes
        .Concat(new[] { "sessions_to_criterion", "minutes_above_ceiling", "safety_holds", "alerts", "dropout", "exposure_minutes", "highest_step" }).ToArray();

    public static readonly string[] DoseOutcomes = { "exposure_minutes", "highest_step" };

    public static FearHierarchy DefaultHierarchy() => new(new[]
    {
        Item("h1", "2nd floor, railing", 6, 1, 0, 20), Item("h2", "5th floor, railing", 15, 1, 0, 35),
        Item("h3", "5th floor, look down", 15, 1, 1, 50), Item("h4", "12th floor, no railing", 36, 0, 0, 65),
        Item("h5", "glass elevator, 30th floor", 90, 0, 1, 85),
    });

    private static HierarchyItem Item(string id, string label, double floor, double railing, double look, int suds) =>
        new(id, label, "heights", new Dictionary<string, double> { ["floor_height_m"] = floor, ["railing"] = railing, ["look_down_prompt"] = look }, new ExposureContext(), suds);

    public static IReadOnlyList<string> ArmsOf(TrialOptions o)
    {
        var arms = o.Policies.ToList();
        if (o.DoseMatchTo is string d) arms.Add(DoseMatchedArm(d));
        if (o.Waitlist) arms.Add(WaitlistArm);
        return arms;
    }

    public static TrialReport Run(TrialOptions options, FearHierarchy? hierarchy = null)
    {
        options.Validate();
        hierarchy ??= DefaultHierarchy();
        var profiles = Cohort.Draw(options.Patients, options.Seed);
        if (options.Adjust is { } adjust) profiles = profiles.Select(adjust).ToList();
        var rules = RuleSet.Default();
        var arms = ArmsOf(options);
        int perPatient = options.Models.Count * arms.Count;
        var results = new PatientOutcome[profiles.Count * perPatient];
        Parallel.For(0, profiles.Count, i =>
        {
            int seed = options.Seed * 100_003 + i;
            for (int m = 0; m < options.Models.Count; m++)
            {
                var outcomes = RunPatient(profiles[i], options.Models[m], options, hierarchy, rules, seed);
                for (int a = 0; a < arms.Count; a++) results[i * perPatient + m * arms.Count + a] = outcomes[arms[a]];
            }
        });
        var list = results.ToList();
        var summaries = Summarise(list, options, arms);
        var doseMatched = options.DoseMatchTo is string d ? Compare(list, options, d, DoseMatchedArm(d)) : new List<Comparison>();
        var rankings = Rank(summaries, options, arms);
        var robustness = Robust(summaries, options);
        var calibration = TrialCalibration.Compute(list, options);
        return new TrialReport(options, options.Policies[0], arms, summaries, doseMatched, rankings, robustness, calibration, list);
    }

    /// <summary>One patient under every arm of one generative model (same seed for every arm: paired).</summary>
    public static Dictionary<string, PatientOutcome> RunPatient(PatientProfile profile, string model, TrialOptions o, FearHierarchy hierarchy, RuleSet rules, int seed)
    {
        var res = new Dictionary<string, PatientOutcome>(StringComparer.Ordinal);
        var doses = new Dictionary<string, List<double[]>>(StringComparer.Ordinal);
        foreach (var policy in o.Policies)
        {
            var perSession = new List<double[]>();
            res[policy] = RunOne(profile, policy, o, hierarchy, rules, seed, model, perSessionDose: perSession);
            doses[policy] = perSession;
        }
        if (o.DoseMatchTo is string d)
            res[DoseMatchedArm(d)] = RunYoked(profile, DoseMatchedArm(d), doses[d], o, hierarchy, seed, model);
        if (o.Waitlist)
            res[WaitlistArm] = RunYoked(profile, WaitlistArm, new List<double[]>(), o, hierarchy, seed, model);
        return res;
    }

    private static double PostDay(TrialOptions o) => (o.Sessions - 1) * o.DaysBetweenSessions + 1;

    /// <summary>One patient through all sessions of one policy (the engine decides; the patient is only observed).</summary>
    public static PatientOutcome RunOne(PatientProfile profile, string policy, TrialOptions o, FearHierarchy hierarchy, RuleSet rules, int seed,
        string model = "associative", List<SessionSummary>? sessions = null, Action<VirtualPatient>? beforeTreatment = null, List<double[]>? perSessionDose = null,
        Action<VirtualPatient>? afterTreatment = null)
    {
        var vp = new VirtualPatient(profile, seed, model);
        beforeTreatment?.Invoke(vp);
        double pre = OutcomeAssessment.AllSteps(vp.Latent, hierarchy, OutcomeAssessment.TreatmentContext(hierarchy), 0);
        var course = new TreatmentCourse(new Patient(profile.Id, hierarchy, (int)Math.Clamp(profile.RestingHeartRate + 70, 120, 200)));
        var b = OutcomeAssessment.TreatmentContext(hierarchy);
        double minutesAbove = 0; int holds = 0, alerts = 0, toCriterion = o.Sessions + 1;
        var perStep = new double[hierarchy.Items.Count];
        var first = new List<double?>(); var peak = new List<double?>(); var end = new List<double?>();
        for (int s = 1; s <= o.Sessions && !vp.DroppedOut; s++)
        {
            double day = (s - 1) * o.DaysBetweenSessions;
            var summary = sessions is null ? null : new SessionSummary.Builder(s, vp.MeasuredRestingHeartRate(), vp.MeasuredRestingScl());
            var r = TreatmentSession.Run(vp, course, policy, s, day, o, hierarchy, rules, seed, summary);
            holds += r.Holds; alerts += r.Alerts; minutesAbove += r.MinutesAboveCeiling;
            for (int k = 0; k < perStep.Length; k++) perStep[k] += r.MinutesPerStep[k];
            perSessionDose?.Add(r.MinutesPerStep);
            first.Add(r.FirstSuds); peak.Add(r.PeakSuds); end.Add(r.EndSuds);
            if (summary is not null) sessions!.Add(summary.Build(r.Holds, r.MinutesAboveCeiling));
            // Assessment between sessions (latent; never shown to the scheduler).
            if (toCriterion > o.Sessions && OutcomeAssessment.AllSteps(vp.Latent, hierarchy, b, day + 1) <= o.Criterion * pre) toCriterion = s;
        }
        afterTreatment?.Invoke(vp);
        var outcomes = OutcomeAssessment.Assess(vp.Latent, hierarchy, PostDay(o), o.FollowUpDays, pre);
        return new PatientOutcome(profile.Id, profile.Site, profile.Subgroup, model, policy, outcomes, Dose(perStep), toCriterion, minutesAbove, holds, alerts,
            vp.DroppedOut, first, peak, end);
    }

    private static ExposureDose Dose(double[] perStep)
    {
        int highest = -1;
        for (int k = 0; k < perStep.Length; k++) if (perStep[k] > 0) highest = k;
        return new ExposureDose(perStep.Select(x => Math.Round(x, 3)).ToArray(), perStep.Sum(), highest);
    }

    /// <summary>
    /// A scripted arm without the engine: each session presents the given minutes per step in hierarchy order (lowest
    /// first) at the step's own intensity in the treatment context, with trials of the usual length. No doses: the
    /// waitlist (assessed on the same days).
    /// </summary>
    public static PatientOutcome RunYoked(PatientProfile profile, string arm, IReadOnlyList<double[]> perSessionDose, TrialOptions o, FearHierarchy hierarchy, int seed, string model)
    {
        var vp = new VirtualPatient(profile, seed, model);
        var b = OutcomeAssessment.TreatmentContext(hierarchy);
        double pre = OutcomeAssessment.AllSteps(vp.Latent, hierarchy, b, 0);
        var perStep = new double[hierarchy.Items.Count];
        var first = new List<double?>(); var peak = new List<double?>(); var end = new List<double?>();
        int toCriterion = o.Sessions + 1;
        for (int s = 0; s < perSessionDose.Count && !vp.DroppedOut; s++)
        {
            double day = s * o.DaysBetweenSessions, t = 0, trialStart = 0;
            double? f = null, pk = null, e = null;
            for (int k = 0; k < hierarchy.Items.Count && !vp.DroppedOut; k++)
            {
                double intensity = hierarchy.Items[k].Intensity;
                int steps = (int)Math.Round(perSessionDose[s][k] * 60 / o.StepSeconds);
                for (int j = 0; j < steps && !vp.DroppedOut; j++, t += o.StepSeconds)
                {
                    var obs = vp.Step(intensity, b, day, t / 60, o.StepSeconds, true);
                    perStep[k] += o.StepSeconds / 60;
                    f ??= obs.Suds; pk = Math.Max(pk ?? 0, obs.Suds); e = obs.Suds;
                    if (t - trialStart >= o.TrialSeconds) { vp.EndTrial(intensity, b, day, 0); trialStart = t; }
                }
            }
            first.Add(f); peak.Add(pk); end.Add(e);
            if (toCriterion > o.Sessions && OutcomeAssessment.AllSteps(vp.Latent, hierarchy, b, day + 1) <= o.Criterion * pre) toCriterion = s + 1;
        }
        var outcomes = OutcomeAssessment.Assess(vp.Latent, hierarchy, PostDay(o), o.FollowUpDays, pre);
        return new PatientOutcome(profile.Id, profile.Site, profile.Subgroup, model, arm, outcomes, Dose(perStep), toCriterion, 0, 0, 0, vp.DroppedOut, first, peak, end);
    }

    /// <summary>An outcome of a patient by its report name (see <see cref="Outcomes"/>).</summary>
    public static double Value(PatientOutcome p, string outcome) => outcome switch
    {
        "sessions_to_criterion" => p.SessionsToCriterion, "minutes_above_ceiling" => p.MinutesAboveCeiling,
        "safety_holds" => p.SafetyHolds, "alerts" => p.Alerts, "dropout" => p.DroppedOut ? 1 : 0,
        "exposure_minutes" => p.Dose.TotalMinutes, "highest_step" => p.Dose.HighestStep + 1,
        _ => p.Outcomes[outcome],
    };

    private static bool Active(string arm) => arm != WaitlistArm;

    private static string? FlagOf(string outcome, string policy, string reference, double? dz)
    {
        if (OutcomeAssessment.Targetable.Contains(outcome)) return "targetable";
        if (DoseOutcomes.Contains(outcome)) return "dose";
        if (dz is double z && Math.Abs(z) > 1.0 && Active(policy) && Active(reference) && OutcomeAssessment.FearOutcomes.Contains(outcome))
            return "implausible (|dz| > 1 between active arms)";
        return null;
    }

    private static Dictionary<(string Model, string Arm), List<PatientOutcome>> ByArm(List<PatientOutcome> all) =>
        all.GroupBy(p => (p.Model, p.Policy)).ToDictionary(g => g.Key, g => g.OrderBy(x => x.Patient, StringComparer.Ordinal).ToList());

    private static List<OutcomeSummary> Summarise(List<PatientOutcome> all, TrialOptions o, IReadOnlyList<string> arms)
    {
        string reference = o.Policies[0];
        var by = ByArm(all);
        var work = (from model in o.Models from outcome in Outcomes from arm in arms select (model, outcome, arm)).ToArray();
        var res = new OutcomeSummary[work.Length];
        Parallel.For(0, work.Length, i =>
        {
            var (model, outcome, arm) = work[i];
            var v = by[(model, arm)].Select(p => Value(p, outcome)).ToArray();
            double mean = v.Average(), sd = Sd(v);
            if (arm == reference) { res[i] = new OutcomeSummary(model, outcome, arm, mean, sd, null, null, null, null, FlagOf(outcome, arm, reference, null)); return; }
            var c = Paired(v, by[(model, reference)].Select(p => Value(p, outcome)).ToArray(), o, outcome + model + arm);
            res[i] = new OutcomeSummary(model, outcome, arm, mean, sd, c.Mean, c.Lo, c.Hi, c.Dz, FlagOf(outcome, arm, reference, c.Dz));
        });
        return res.ToList();
    }

    private static (double Mean, double Lo, double Hi, double? Dz) Paired(double[] a, double[] b, TrialOptions o, string key)
    {
        var d = a.Zip(b, (x, y) => x - y).ToArray();
        var (lo, hi) = Bootstrap(d, o.BootstrapResamples, o.Seed + StableHash(key) % 1000);
        double sdd = Sd(d);
        return (d.Average(), lo, hi, sdd > 1e-12 ? d.Average() / sdd : null);
    }

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s) h = unchecked(h * 31 + c);
        return Math.Abs(h % 100_000);
    }

    private static List<Comparison> Compare(List<PatientOutcome> all, TrialOptions o, string policy, string against)
    {
        var by = ByArm(all);
        var work = (from model in o.Models from outcome in Outcomes select (model, outcome)).ToArray();
        var res = new Comparison[work.Length];
        Parallel.For(0, work.Length, i =>
        {
            var (model, outcome) = work[i];
            var c = Paired(by[(model, policy)].Select(p => Value(p, outcome)).ToArray(), by[(model, against)].Select(p => Value(p, outcome)).ToArray(), o, "dm" + outcome + model);
            res[i] = new Comparison(model, outcome, policy, against, c.Mean, c.Lo, c.Hi, c.Dz, FlagOf(outcome, policy, against, c.Dz));
        });
        return res.ToList();
    }

    private static List<RankingRow> Rank(List<OutcomeSummary> s, TrialOptions o, IReadOnlyList<string> arms) =>
        (from model in o.Models
         from outcome in OutcomeAssessment.FearOutcomes
         select new RankingRow(model, outcome, s.Where(x => x.Model == model && x.Outcome == outcome && o.Policies.Contains(x.Policy))
             .OrderBy(x => x.Mean).Select(x => x.Policy).ToList())).ToList();

    /// <summary>For each fear outcome and active arm: lower / higher / no relevant difference from the reference under each model (95 % CI and <see cref="SmallestEffect"/>), and whether that holds across models.</summary>
    private static List<RobustnessRow> Robust(List<OutcomeSummary> summaries, TrialOptions o)
    {
        string reference = o.Policies[0];
        var rows = new List<RobustnessRow>();
        var others = o.Policies.Skip(1).Concat(o.DoseMatchTo is string d ? new[] { DoseMatchedArm(d) } : Array.Empty<string>());
        foreach (var outcome in OutcomeAssessment.FearOutcomes.Where(x => !OutcomeAssessment.Targetable.Contains(x)))
            foreach (var policy in others)
            {
                var verdicts = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var model in o.Models)
                {
                    var c = summaries.Single(x => x.Model == model && x.Outcome == outcome && x.Policy == policy);
                    verdicts[model] = Math.Abs(c.DifferenceFromReference ?? 0) < SmallestEffect ? "no relevant difference"
                        : c.CiHigh < 0 ? "lower" : c.CiLow > 0 ? "higher" : "no relevant difference";
                }
                rows.Add(new RobustnessRow(outcome, policy, reference, verdicts, Conclude(verdicts)));
            }
        return rows;
    }

    /// <summary>"lower under all 3 models", "lower only under X (holds under one model only)", or the disagreement spelled out.</summary>
    public static string Conclude(IReadOnlyDictionary<string, string> verdicts)
    {
        var distinct = verdicts.Values.Distinct().ToList();
        if (distinct.Count == 1) return $"{distinct[0]} under all {verdicts.Count} models";
        var decided = verdicts.Where(v => v.Value != "no relevant difference").ToList();
        if (decided.Count == 1) return $"{decided[0].Value} only under {decided[0].Key} (holds under one model only)";
        return "models disagree: " + string.Join(", ", verdicts.Select(v => $"{v.Key} {v.Value}"));
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

    internal static double Sd(double[] x)
    {
        if (x.Length < 2) return 0;
        double m = x.Average();
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Length - 1));
    }
}
