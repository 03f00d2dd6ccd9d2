using OpenVret.Signals.Ecg;
using OpenVret.Signals.Hrv;
using OpenVret.Signals.Rsp;

namespace OpenVret.Signals.Ppg;

public sealed record PpgOptions
{
    /// <summary>NeuroKit's ppg_process does not correct artefacts; we do by default (wrist PPG double-counts slow pulses).</summary>
    public bool CorrectArtifacts { get; init; } = true;
    public HrvOptions Hrv { get; init; } = new();
}

/// <summary>PPG/BVP: clean -> systolic peaks (Elgendi 2013) -> artefact correction -> quality -> pulse-rate variability.</summary>
public static class PpgPipeline
{
    public const double MinimumSeconds = 2;

    public static BeatAnalysis Process(ReadOnlySpan<double> ppg, SampleRate rate, PpgOptions? options = null)
    {
        options ??= new PpgOptions();
        var flags = new List<QualityFlag>();
        if (rate.Hertz < 16)
            throw new SignalInputException("sampleRate", rate.ToString(), "PPG peak detection needs at least 16 Hz");
        var x = InputCheck.RequireUsable(ppg, rate, "ppg", flags, minSamples: rate.SamplesIn(MinimumSeconds));
        InputCheck.DescribeShape(x, "ppg", flags);
        var cleaned = PpgProcessing.Clean(x, rate);
        var raw = PpgProcessing.DetectSystolicPeaks(cleaned, rate);
        return BeatPipeline.Finish("PPG", cleaned, raw, rate, options.CorrectArtifacts, options.Hrv, flags);
    }
}
