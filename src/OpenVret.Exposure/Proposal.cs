using OpenVret.Exposure.Domain;

namespace OpenVret.Exposure;

public enum ExposureAction
{
    Start, Continue, StepUp, StepDown, Vary, ShiftContext, RetrievalCue, Combine, EndTrial, Hold, PauseScene, Resume, Stop,
}

public enum ReasonKind { Safety, Rule, Scheduler, Expectancy, Model, Therapist }

/// <summary>Why: a rule or safety id, a sentence a clinician can read, and the values it looked at.</summary>
public sealed record Reason(ReasonKind Kind, string Id, string Text, IReadOnlyDictionary<string, double>? Values = null)
{
    public override string ToString() => $"[{Kind}:{Id}] {Text}";
}

/// <summary>
/// One decision of the engine. The same record goes to the console, the audit log and the tests.
/// Intensities are the stimulus intensity in [0, 1] before and after (see <see cref="ScenarioDefinition.Intensity"/>).
/// </summary>
public sealed record Proposal(
    string Id,
    TimeSpan At,
    ExposureAction Action,
    string? ItemId,
    IReadOnlyDictionary<string, double> Parameters,
    ExposureContext? Context,
    IReadOnlyList<Reason> Reasons,
    double Confidence,
    double IntensityBefore,
    double IntensityAfter,
    TimeSpan? InterTrialInterval = null)
{
    /// <summary>True when applying it would make the exposure more intense.</summary>
    public bool RaisesIntensity => IntensityAfter > IntensityBefore + 1e-9 || Action is ExposureAction.StepUp or ExposureAction.Combine;

    public override string ToString()
    {
        string what = ItemId is null ? Action.ToString() : $"{Action} -> {ItemId}";
        string pars = Parameters.Count == 0 ? "" : " {" + string.Join(", ", Parameters.Select(kv => $"{kv.Key}={kv.Value:0.##}")) + "}";
        return $"{At:hh\\:mm\\:ss} {what}{pars} intensity {IntensityBefore:0.00}->{IntensityAfter:0.00} (confidence {Confidence:0.00})";
    }
}
