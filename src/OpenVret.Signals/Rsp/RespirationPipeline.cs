namespace OpenVret.Signals.Rsp;

public sealed record RespirationAnalysis(double[] Clean, Breaths Breaths, FeatureSet Features, IReadOnlyList<QualityFlag> Flags);

/// <summary>Respiration belt: clean -> breaths -> rate and amplitude.</summary>
public static class RespirationPipeline
{
    public const double MinimumSeconds = 10;

    public static RespirationAnalysis Process(ReadOnlySpan<double> rsp, SampleRate rate)
    {
        var flags = new List<QualityFlag>();
        var x = InputCheck.RequireUsable(rsp, rate, "rsp", flags, minSamples: rate.SamplesIn(MinimumSeconds));
        InputCheck.DescribeShape(x, "rsp", flags);
        var clean = RespirationProcessing.Clean(x, rate);
        var breaths = RespirationProcessing.DetectBreaths(clean);
        var f = RespirationProcessing.Features(clean, breaths, rate);
        foreach (var fl in flags) f.Flag(fl);
        return new RespirationAnalysis(clean, breaths, f, flags);
    }
}
