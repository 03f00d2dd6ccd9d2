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
        return BeatPipeline.Finish("ECG", cleaned, raw, rate, options.CorrectArtifacts, options.Hrv, flags);
    }
}

/// <summary>The steps after beat detection, shared by ECG and PPG.</summary>
public static class BeatPipeline
{
    /// <summary>
    /// Window features from beats: rate, quality, HRV from <paramref name="peaks"/> (after correction), and
    /// beat-derived respiration from the beats whose amplitude is known. Shared by the offline pipelines and
    /// the streaming <see cref="Streaming.BeatTracker"/>. Flags are added to the returned set.
    /// </summary>
    public static FeatureSet Features(string prefix, IReadOnlyList<int> peaks, IReadOnlyList<int> measuredBeats, IReadOnlyList<double> amplitudes,
        double[] quality, SampleRate rate, double durationSeconds, HrvOptions hrv, List<QualityFlag> flags)
    {
        var f = new FeatureSet();
        if (peaks.Count >= 2)
        {
            double meanInterval = (peaks[^1] - peaks[0]) / (double)(peaks.Count - 1) / rate.Hertz;
            f.Set($"{prefix}_Rate_Mean", 60 / meanInterval);
        }
        else f.Missing($"{prefix}_Rate_Mean", "too_few_beats", $"{peaks.Count} beat(s) in {durationSeconds:0.#} s");
        double q = BeatQuality.Mean(quality);
        if (double.IsFinite(q)) f.Set($"{prefix}_Quality_Mean", q);
        else f.Missing($"{prefix}_Quality_Mean", "too_few_beats", "quality needs at least 3 complete beats");
        if (double.IsFinite(q) && q < BeatQuality.AcceptableCorrelation)
            flags.Add(new QualityFlag("poor_quality", $"{prefix}: mean beat-template correlation {q:0.00} is below {BeatQuality.AcceptableCorrelation}"));
        f.AddRange(HrvAnalysis.Compute(InterBeatIntervals.FromPeaks(peaks, rate), hrv));
        f.AddRange(RespirationProcessing.DerivedRate(measuredBeats, amplitudes, rate, DerivedRespirationSource.BeatAmplitude));
        foreach (var fl in flags) f.Flag(fl);
        return f;
    }

    /// <summary>Artefact correction (when asked and possible), peaks kept inside [0, length), reported in <paramref name="flags"/>.</summary>
    public static int[] Correct(string prefix, int[] rawPeaks, SampleRate rate, bool correct, int length, List<QualityFlag> flags, out BeatCorrectionReport report)
    {
        report = new BeatCorrectionReport(0, 0, 0, 0, 0);
        var peaks = correct && rawPeaks.Length >= 4 ? BeatArtifactCorrection.Correct(rawPeaks, rate, out report) : rawPeaks;
        peaks = peaks.Where(p => p >= 0 && p < length).Distinct().OrderBy(p => p).ToArray();
        if (report.Total > 0)
            flags.Add(new QualityFlag("beats_corrected", $"{prefix}: {report.Ectopic} ectopic, {report.Missed} missed, {report.Extra} extra, {report.LongShort} long/short beat(s) corrected", QualitySeverity.Info));
        return peaks;
    }

    public static BeatAnalysis Finish(string prefix, double[] cleaned, int[] rawPeaks, SampleRate rate, bool correct, HrvOptions hrv, List<QualityFlag> flags)
    {
        var peaks = Correct(prefix, rawPeaks, rate, correct, cleaned.Length, flags, out var report);
        var quality = BeatQuality.PerBeat(cleaned, peaks, rate);
        var amplitudes = peaks.Select(p => cleaned[p]).ToArray();
        var f = Features(prefix, peaks, peaks, amplitudes, quality, rate, cleaned.Length / rate.Hertz, hrv, flags);
        return new BeatAnalysis(cleaned, peaks, rawPeaks, report, quality, f, flags);
    }
}
