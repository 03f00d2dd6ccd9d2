namespace OpenVret.Exposure.Session;

public enum TherapistResponse { Approved, Edited, Rejected, Vetoed, Overridden }

/// <summary>One thing the therapist did that the preference model learned from.</summary>
public sealed record PreferenceEvent(TimeSpan At, TherapistResponse Response, ExposureAction ProposedAction, double ProposedStep, double FinalStep, double StepScaleAfter, double SudsOffsetAfter);

/// <summary>
/// A small, inspectable model of one therapist's preferences, learned from their responses to proposals:
/// a step-size scale (how far the engine moves intensity at a time) and an offset on the SUDS threshold of
/// the fixed-hierarchy policy. Rejecting or vetoing a raise makes the engine more cautious; editing a raise
/// moves the scale towards the step the therapist chose; approving a raise relaxes it slowly towards 1.
/// Everything it learned is listed in <see cref="History"/> and can be reset.
/// </summary>
public sealed class TherapistPreferences
{
    public const double MinScale = 0.5, MaxScale = 1.5;
    private readonly List<PreferenceEvent> _history = new();

    public double StepScale { get; private set; } = 1;
    public double SudsThresholdOffset { get; private set; }
    public IReadOnlyList<PreferenceEvent> History => _history;

    public void Learn(TimeSpan at, TherapistResponse response, Proposal proposed, double finalStep)
    {
        double step = proposed.IntensityAfter - proposed.IntensityBefore;
        bool raise = proposed.RaisesIntensity;
        switch (response)
        {
            case TherapistResponse.Rejected or TherapistResponse.Vetoed when raise:
                StepScale *= 0.9; SudsThresholdOffset -= 2; break;
            case TherapistResponse.Edited or TherapistResponse.Overridden when raise && step > 1e-6:
                StepScale = 0.7 * StepScale + 0.3 * StepScale * Math.Clamp(finalStep / step, 0, 2); break;
            case TherapistResponse.Approved when raise:
                StepScale += 0.05 * (1 - StepScale); break;
        }
        StepScale = Math.Clamp(StepScale, MinScale, MaxScale);
        SudsThresholdOffset = Math.Clamp(SudsThresholdOffset, -20, 20);
        _history.Add(new PreferenceEvent(at, response, proposed.Action, step, finalStep, StepScale, SudsThresholdOffset));
    }

    public void Reset() { StepScale = 1; SudsThresholdOffset = 0; _history.Clear(); }

    public string Describe() =>
        $"step scale {StepScale:0.00} (1 = default), fixed-hierarchy SUDS threshold offset {SudsThresholdOffset:+0;-0;0}, learned from {_history.Count} response(s)";
}
