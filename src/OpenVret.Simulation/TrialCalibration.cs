namespace OpenVret.Simulation;

/// <summary>One published figure, the tolerance we accept around it, and what the reference (fixed-hierarchy) arm produced.</summary>
public sealed record CalibrationRow(string Model, string Quantity, double Target, double Low, double High, double? Simulated, bool? Within, string Source);

/// <summary>
/// Calibration of the reference arm (the first policy, normally the fixed hierarchy) against published VRET results.
/// Effect sizes are computed on a simulated questionnaire score: 100 × the latent fear over all hierarchy steps,
/// plus the patient's reporting bias and independent rater noise (SD 8) at each assessment, so that between-patient
/// and measurement variance enter the denominator as they do in a trial. Each arm is scored on the same patients
/// (a paired simulation), but the between-group g uses the pooled SD of the two arms as a parallel-group trial would.
/// Tolerances are ours: a meta-analysis's 95 % CI where we could check it, otherwise a stated band.
/// </summary>
public static class TrialCalibration
{
    public const double RaterNoise = 8;

    /// <summary>The targets. Figures checked against the meta-analyses' abstracts (see docs/simulation.md).</summary>
    public static readonly (string Quantity, double Target, double Low, double High, string Source)[] Targets =
    {
        ("VRET vs waitlist, post (Hedges g)", 0.90, 0.60, 1.20, "Carl et al. 2019, J Anxiety Disord 61:27 (g = 0.90; band ±0.30 ours)"),
        ("VRET vs control, post (Cohen d)", 1.11, 0.82, 1.39, "Powers & Emmelkamp 2008, J Anxiety Disord 22:561 (d = 1.11, 95 % CI 0.82-1.39)"),
        ("VRET pre-post, uncontrolled (g)", 1.23, 0.90, 1.60, "Morina et al. 2015, Behav Res Ther 74:18 (behavioural tests, g = 1.23; band ours)"),
        ("follow-up minus post, within arm (g; + = worse)", 0.0, -0.5, 0.30, "Opris et al. 2012, Depress Anxiety 29:85 (gains stable at follow-up; band ours)"),
        ("within-session SUDS fall, peak to end (fraction)", 0.30, 0.10, 0.70, "qualitative: within-session habituation is present in most VRET sessions (Benito & Walther 2015; band ours)"),
        ("between-session fall, first SUDS session 1 to last (fraction)", 0.40, 0.15, 0.90, "qualitative: between-session habituation (Benito & Walther 2015; band ours)"),
    };

    public static List<CalibrationRow> Compute(IReadOnlyList<PatientOutcome> all, TrialOptions o)
    {
        var rows = new List<CalibrationRow>();
        string reference = o.Policies[0];
        foreach (var model in o.Models)
        {
            var tx = all.Where(p => p.Model == model && p.Policy == reference).OrderBy(p => p.Patient, StringComparer.Ordinal).ToList();
            var wl = all.Where(p => p.Model == model && p.Policy == TrialRunner.WaitlistArm).OrderBy(p => p.Patient, StringComparer.Ordinal).ToList();
            var profiles = Cohort.Draw(o.Patients, o.Seed).ToDictionary(p => p.Id, StringComparer.Ordinal);
            double Score(PatientOutcome p, double latent, int salt)
            {
                var rng = new Random(unchecked(o.Seed * 7919 + salt * 104_729 + p.Patient.GetHashCode(StringComparison.Ordinal) % 100_000));
                double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                return 100 * latent + profiles[p.Patient].ReportingBias + RaterNoise * g;
            }
            double?[] sim = new double?[Targets.Length];
            if (wl.Count > 0)
            {
                var post = tx.Select(p => Score(p, p.Outcomes["post_all_steps"], 1)).ToArray();
                var wait = wl.Select(p => Score(p, p.Outcomes["post_all_steps"], 2)).ToArray();
                var pre = tx.Select(p => Score(p, p.Outcomes["pre_all_steps"], 3)).ToArray();
                double g = Hedges(wait, post);
                sim[0] = g; sim[1] = g;
                sim[2] = (pre.Average() - post.Average()) / TrialRunner.Sd(pre);
            }
            var follow = tx.Select(p => Score(p, p.Outcomes["followup_spontaneous_recovery"], 4)).ToArray();
            var post2 = tx.Select(p => Score(p, p.Outcomes["post_all_steps"], 1)).ToArray();
            sim[3] = (follow.Average() - post2.Average()) / TrialRunner.Sd(post2);
            var within = tx.SelectMany(p => p.PeakSuds.Zip(p.EndSuds, (pk, e) => pk is double a && e is double b && a > 0 ? (a - b) / a : (double?)null))
                .Where(x => x is not null).Select(x => x!.Value).ToList();
            sim[4] = within.Count > 0 ? within.Average() : null;
            var between = tx.Where(p => p.FirstSuds.Count > 1 && p.FirstSuds[0] is > 0 && p.FirstSuds[^1] is not null)
                .Select(p => (p.FirstSuds[0]!.Value - p.FirstSuds[^1]!.Value) / p.FirstSuds[0]!.Value).ToList();
            sim[5] = between.Count > 0 ? between.Average() : null;
            for (int i = 0; i < Targets.Length; i++)
            {
                var t = Targets[i];
                rows.Add(new CalibrationRow(model, t.Quantity, t.Target, t.Low, t.High, sim[i] is double v ? Math.Round(v, 3) : null,
                    sim[i] is double w ? w >= t.Low && w <= t.High : null, t.Source));
            }
        }
        return rows;
    }

    /// <summary>Hedges' g of a - b with the pooled SD and the small-sample correction.</summary>
    public static double Hedges(double[] a, double[] b)
    {
        double sa = TrialRunner.Sd(a), sb = TrialRunner.Sd(b);
        double pooled = Math.Sqrt(((a.Length - 1) * sa * sa + (b.Length - 1) * sb * sb) / (a.Length + b.Length - 2));
        double j = 1 - 3 / (4.0 * (a.Length + b.Length) - 9);
        return pooled > 0 ? j * (a.Average() - b.Average()) / pooled : 0;
    }
}
