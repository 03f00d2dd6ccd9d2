namespace OpenVret.Signals.Eda;

public sealed record EdaAnalysis(EdaDecomposition Decomposition, List<Scr> Scrs, FeatureSet Features, IReadOnlyList<QualityFlag> Flags);

/// <summary>EDA: clean -> tonic/phasic -> SCRs -> features.</summary>
public static class EdaPipeline
{
    public const double MinimumSeconds = 10;

    public static EdaAnalysis Process(ReadOnlySpan<double> edaMicrosiemens, SampleRate rate)
    {
        var flags = new List<QualityFlag>();
        var x = InputCheck.RequireUsable(edaMicrosiemens, rate, "eda", flags, minSamples: Math.Max(rate.SamplesIn(MinimumSeconds), 20));
        InputCheck.DescribeShape(x, "eda", flags);
        int negative = 0;
        foreach (var v in x) if (v < 0) negative++;
        if (negative > 0) flags.Add(new QualityFlag("negative_conductance", $"eda: {negative} samples below 0 µS (sensor offset or detachment)"));
        var clean = EdaProcessing.Clean(x, rate);
        var d = EdaProcessing.Decompose(clean, rate);
        var scrs = EdaProcessing.DetectScrs(d.Phasic, rate);
        var f = EdaProcessing.Features(d, scrs, rate);
        foreach (var fl in flags) f.Flag(fl);
        return new EdaAnalysis(d, scrs, f, flags);
    }
}
