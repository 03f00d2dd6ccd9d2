using OpenVret.Signals.Hrv;
using OpenVret.Signals.Rsp;

namespace OpenVret.Signals.Ecg;

/// <summary>Options of the ECG pipeline.</summary>
public sealed record EcgOptions
{
    public RPeakMethod Method { get; init; } = RPeakMethod.NeuroKit;
    /// <summary>Correct ectopic/missed/extra beats (Lipponen &amp; Tarvainen 2019) before HRV.</summary>
    public bool CorrectArtifacts { get; init; } = true;
    public double PowerlineHertz { get; init; } = 50;
    public HrvOptions Hrv { get; init; } = new();
}

/// <summary>Everything the beat pipelines (ECG, PPG) produce: the step outputs stay inspectable.</summary>
public sealed record BeatAnalysis(
    double[] Cleaned,
    int[] Peaks,
    int[] PeaksUncorrected,
    BeatCorrectionReport Correction,
    double[] QualityPerBeat,
    FeatureSet Features,
    IReadOnlyList<QualityFlag> Flags);

/// <summary>ECG: clean -> R-peaks -> artefact correction -> quality -> HRV and ECG-derived respiration.</summary>
public static class EcgPipeline
{
    public const double MinimumSeconds = 2;

    public static BeatAnalysis Process(ReadOnlySpan<double> ecg, SampleRate rate, EcgOptions? options = null)
    {
        options ??= new EcgOptions();
        var flags = new List<QualityFlag>();
        if (rate.Hertz < 50)
            throw new SignalInputException("sampleRate", rate.ToString(), "ECG R-peak detection needs at least 50 Hz");
        var x = InputCheck.RequireUsable(ecg, rate, "ecg", flags, minSamples: rate.SamplesIn(MinimumSeconds));
        InputCheck.DescribeShape(x, "ecg", flags);
        var cleaned = EcgCleaner.Clean(x, rate, EcgCleaningMethod.NeuroKit, options.PowerlineHertz);
        int[] raw;
        if (options.Method == RPeakMethod.PanTompkins1985)
        {
            var band = EcgCleaner.Clean(x, rate, EcgCleaningMethod.PanTompkins1985, options.PowerlineHertz);
            raw = RPeakDetector.RefineToR(cleaned, RPeakDetector.Detect(band, rate, RPeakMethod.PanTompkins1985), rate, 0.25);
        }
        else raw = RPeakDetector.Detect(cleaned, rate, options.Method);
        return BeatPipeline.Finish("ECG", cleaned, raw, rate, options.CorrectArtifacts, options.Hrv, flags, DerivedRespirationSource.BeatAmplitude);
    }
}

/// <summary>The steps after beat detection, shared by ECG and PPG.</summary>
public static class BeatPipeline
{
    public static BeatAnalysis Finish(string prefix, double[] cleaned, int[] rawPeaks, SampleRate rate, bool correct, HrvOptions hrv,
        List<QualityFlag> flags, DerivedRespirationSource edrSource)
    {
        var report = new BeatCorrectionReport(0, 0, 0, 0, 0);
        var peaks = correct && rawPeaks.Length >= 4 ? BeatArtifactCorrection.Correct(rawPeaks, rate, out report) : rawPeaks;
        peaks = peaks.Where(p => p >= 0 && p < cleaned.Length).Distinct().OrderBy(p => p).ToArray();
        if (report.Total > 0)
            flags.Add(new QualityFlag("beats_corrected", $"{prefix}: {report.Ectopic} ectopic, {report.Missed} missed, {report.Extra} extra, {report.LongShort} long/short beat(s) corrected", QualitySeverity.Info));
        var quality = BeatQuality.PerBeat(cleaned, peaks, rate);
        var f = new FeatureSet();
        double duration = cleaned.Length / rate.Hertz;
        if (peaks.Length >= 2)
        {
            double meanInterval = (peaks[^1] - peaks[0]) / (double)(peaks.Length - 1) / rate.Hertz;
            f.Set($"{prefix}_Rate_Mean", 60 / meanInterval);
        }
        else f.Missing($"{prefix}_Rate_Mean", "too_few_beats", $"{peaks.Length} beat(s) in {duration:0.#} s");
        double q = BeatQuality.Mean(quality);
        if (double.IsFinite(q)) f.Set($"{prefix}_Quality_Mean", q);
        else f.Missing($"{prefix}_Quality_Mean", "too_few_beats", "quality needs at least 3 complete beats");
        if (double.IsFinite(q) && q < BeatQuality.AcceptableCorrelation)
            flags.Add(new QualityFlag("poor_quality", $"{prefix}: mean beat-template correlation {q:0.00} is below {BeatQuality.AcceptableCorrelation}"));
        var ibi = InterBeatIntervals.FromPeaks(peaks, rate);
        f.AddRange(HrvAnalysis.Compute(ibi, hrv));
        f.AddRange(RespirationProcessing.DerivedRate(peaks, cleaned, rate, edrSource));
        foreach (var fl in flags) f.Flag(fl);
        return new BeatAnalysis(cleaned, peaks, rawPeaks, report, quality, f, flags);
    }
}
