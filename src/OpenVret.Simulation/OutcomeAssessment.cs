using OpenVret.Exposure.Domain;

namespace OpenVret.Simulation;

/// <summary>
/// The trial's outcome assessment: the only code that reads a patient's latent fear (<see cref="IFearModel"/>),
/// and only after treatment (or between sessions, for sessions to criterion). Outcomes are chosen so that no policy
/// can target them directly: fear of every hierarchy step (their mean, not the top step alone), held-out stimuli
/// no policy may present, contexts never used in treatment (ABA: the acquisition context; ABC: a novel one),
/// spontaneous recovery after a delay, and reinstatement after an unsignalled aversive event.
/// </summary>
public static class OutcomeAssessment
{
    /// <summary>Never used in treatment: the VR contexts come from <see cref="ExposureContext"/>'s lists, this one does not.</summary>
    public static readonly ExposureContext NovelContext = new("novel_site", "overcast", "dusk", "wind");

    /// <summary>Fear outcomes (0-1, lower is better) in report order; "post_top_step" is kept to show the old, targetable measure.</summary>
    public static readonly string[] FearOutcomes =
    {
        "post_all_steps", "post_top_step", "generalisation_stimuli", "renewal_aba", "renewal_abc",
        "followup_spontaneous_recovery", "return_of_fear", "reinstatement",
    };

    /// <summary>Outcomes that a policy can reach by choosing what to present (reported, but not as evidence).</summary>
    public static readonly string[] Targetable = { "post_top_step" };

    /// <summary>The treatment context: the hierarchy's own (the VR scene's default).</summary>
    public static ExposureContext TreatmentContext(FearHierarchy h) => h.Items[0].Context;

    /// <summary>Intensities never presented: midpoints between adjacent steps and the scale's top (beyond every step, so outside every envelope).</summary>
    public static double[] HeldOutIntensities(FearHierarchy h)
    {
        var steps = h.Items.Select(i => i.Intensity).OrderBy(x => x).ToArray();
        var probes = new List<double>();
        for (int i = 0; i + 1 < steps.Length; i++) probes.Add((steps[i] + steps[i + 1]) / 2);
        probes.Add(1.0);
        return probes.ToArray();
    }

    public static double AllSteps(IFearModel m, FearHierarchy h, ExposureContext ctx, double day) => h.Items.Average(i => m.Expectancy(i.Intensity, ctx, day));

    /// <summary>All fear outcomes at the end of treatment (<paramref name="postDay"/>); mutates the model last (reinstatement).</summary>
    public static Dictionary<string, double> Assess(IFearModel m, FearHierarchy h, double postDay, double followUpDays, double pre)
    {
        var b = TreatmentContext(h);
        double follow = postDay + followUpDays;
        var r = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["post_all_steps"] = AllSteps(m, h, b, postDay),
            ["post_top_step"] = m.Expectancy(h.Items[^1].Intensity, b, postDay),
            ["generalisation_stimuli"] = HeldOutIntensities(h).Average(s => m.Expectancy(s, b, postDay)),
            ["renewal_aba"] = AllSteps(m, h, FearModels.AcquisitionContext, postDay),
            ["renewal_abc"] = AllSteps(m, h, NovelContext, postDay),
            ["followup_spontaneous_recovery"] = AllSteps(m, h, b, follow),
        };
        r["pre_all_steps"] = pre;
        r["return_of_fear"] = r["followup_spontaneous_recovery"] - r["post_all_steps"];
        for (int i = 0; i < h.Items.Count; i++) r[$"post_step_{i + 1}"] = m.Expectancy(h.Items[i].Intensity, b, postDay);
        m.Reinstate(b, follow);
        r["reinstatement"] = AllSteps(m, h, b, follow);
        return r;
    }
}
