using System.Globalization;

namespace OpenVret.Simulation;

/// <summary>One variant of a sensitivity run: every drawn patient's parameter (or the patient mix) changed.</summary>
public sealed record SensitivityVariant(string Model, string Name, string Level, Func<PatientProfile, PatientProfile> Adjust);

/// <summary>
/// What a variant did to the comparison of policies: the ranking on the primary non-targetable outcomes (post fear
/// over all steps, follow-up fear after spontaneous recovery), whether it differs from the model's default ranking,
/// and the fixed arm's g against waitlist (its calibration).
/// </summary>
public sealed record SensitivityRow(string Model, string Variant, string Level, string RankingPost, string RankingFollowUp, bool PostFlipped, bool FollowUpFlipped,
    IReadOnlyDictionary<string, string> DifferenceVsReference, double? FixedVsWaitlistG);

/// <summary>
/// One-at-a-time sensitivity analysis: each fear-model parameter is multiplied by 0.5 and by 2 for every drawn patient
/// (keeping the between-patient spread, clamped to a plausible range), and the patient mix is shifted (severe, mild,
/// under-reporting, extreme responding). Every variant runs the whole trial under the one model the parameter
/// belongs to; a row is flagged where the policy ranking differs from that model's default ranking.
/// </summary>
public static class TrialSensitivity
{
    private static FearParameters Scale(FearParameters f, string name, double k) => name switch
    {
        "InitialFear" => f with { InitialFear = Math.Clamp(f.InitialFear * k, 0.2, 1) },
        "LearningRate" => f with { LearningRate = Math.Clamp(f.LearningRate * k, 0.01, 0.9) },
        "NewMemoryThreshold" => f with { NewMemoryThreshold = Math.Clamp(f.NewMemoryThreshold * k, 0.05, 0.9) },
        "ForgettingDays" => f with { ForgettingDays = Math.Clamp(f.ForgettingDays * k, 2, 365) },
        "ContextSpecificity" => f with { ContextSpecificity = Math.Clamp(f.ContextSpecificity * k, 0.05, 0.95) },
        "StimulusGeneralisation" => f with { StimulusGeneralisation = Math.Clamp(f.StimulusGeneralisation * k, 0.03, 1) },
        "HabituationRate" => f with { HabituationRate = Math.Clamp(f.HabituationRate * k, 0.005, 0.5) },
        "CauseConcentration" => f with { CauseConcentration = Math.Clamp(f.CauseConcentration * k, 0.01, 10) },
        "TemporalExponent" => f with { TemporalExponent = Math.Clamp(f.TemporalExponent * k, 0.1, 3) },
        "AcquisitionTrials" => f with { AcquisitionTrials = Math.Clamp(f.AcquisitionTrials * k, 2, 400) },
        "SensitisationRate" => f with { SensitisationRate = Math.Clamp(f.SensitisationRate * k, 0, 0.5) },
        "LongTermHabituationRate" => f with { LongTermHabituationRate = Math.Clamp(f.LongTermHabituationRate * k, 0.0005, 0.5) },
        _ => throw new ArgumentException("unknown parameter " + name, nameof(name)),
    };

    /// <summary>The parameters each model uses (those not listed have no effect under it).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> ParametersOf = new Dictionary<string, string[]>
    {
        ["associative"] = new[] { "InitialFear", "LearningRate", "NewMemoryThreshold", "ForgettingDays", "ContextSpecificity", "StimulusGeneralisation", "HabituationRate" },
        ["latent-cause"] = new[] { "InitialFear", "LearningRate", "CauseConcentration", "TemporalExponent", "AcquisitionTrials", "ContextSpecificity", "StimulusGeneralisation" },
        ["dual-process"] = new[] { "InitialFear", "HabituationRate", "LongTermHabituationRate", "SensitisationRate", "ForgettingDays", "StimulusGeneralisation" },
    };

    private static readonly (string Name, Func<PatientProfile, PatientProfile> Adjust)[] Mixes =
    {
        ("mix: severe (initial fear x1.2)", p => p with { Fear = p.Fear with { InitialFear = Math.Min(1, p.Fear.InitialFear * 1.2) } }),
        ("mix: mild (initial fear x0.7)", p => p with { Fear = p.Fear with { InitialFear = p.Fear.InitialFear * 0.7 } }),
        ("mix: under-reporters (70 % reported)", p => p with { ReportedFraction = 0.7 }),
        ("mix: extreme responders (exponent 0.6)", p => p with { ResponseExponent = 0.6 }),
    };

    public static List<SensitivityVariant> Variants(IEnumerable<string> models)
    {
        var list = new List<SensitivityVariant>();
        foreach (var m in models)
        {
            list.Add(new SensitivityVariant(m, "default", "-", p => p));
            foreach (var name in ParametersOf[m])
                foreach (var (level, k) in new[] { ("x0.5", 0.5), ("x2", 2.0) })
                    list.Add(new SensitivityVariant(m, name, level, p => p with { Fear = Scale(p.Fear, name, k) }));
            foreach (var (name, adjust) in Mixes) list.Add(new SensitivityVariant(m, name, "-", adjust));
        }
        return list;
    }

    public static List<SensitivityRow> Run(TrialOptions baseOptions, IReadOnlyList<string> models, Action<string>? progress = null)
    {
        var rows = new List<SensitivityRow>();
        var defaults = new Dictionary<string, (string Post, string Follow)>(StringComparer.Ordinal);
        foreach (var v in Variants(models))
        {
            var o = baseOptions with { Models = new[] { v.Model }, DoseMatchTo = null, Waitlist = true, Adjust = v.Adjust, BootstrapResamples = Math.Min(baseOptions.BootstrapResamples, 500) };
            var r = TrialRunner.Run(o);
            string post = string.Join(" < ", r.Rankings.Single(x => x.Outcome == "post_all_steps").BestToWorst);
            string follow = string.Join(" < ", r.Rankings.Single(x => x.Outcome == "followup_spontaneous_recovery").BestToWorst);
            if (v.Name == "default") defaults[v.Model] = (post, follow);
            var diffs = r.Summaries.Where(x => x.Outcome == "post_all_steps" && x.DifferenceFromReference is not null && o.Policies.Contains(x.Policy))
                .ToDictionary(x => x.Policy, x => string.Create(CultureInfo.InvariantCulture, $"{x.DifferenceFromReference:+0.000;-0.000} [{x.CiLow:+0.000;-0.000}, {x.CiHigh:+0.000;-0.000}] dz {x.EffectSizeDz:0.00}"), StringComparer.Ordinal);
            var g = r.Calibration.FirstOrDefault(c => c.Quantity.StartsWith("VRET vs waitlist", StringComparison.Ordinal))?.Simulated;
            var (dp, df) = defaults[v.Model];
            rows.Add(new SensitivityRow(v.Model, v.Name, v.Level, post, follow, post != dp, follow != df, diffs, g));
            progress?.Invoke($"{v.Model} {v.Name} {v.Level}: post {post}; follow-up {follow}; fixed vs waitlist g {g:0.00}");
        }
        return rows;
    }
}
