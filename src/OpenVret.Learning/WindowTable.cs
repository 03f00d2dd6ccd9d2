using OpenVret.Learning.Datasets;
using OpenVret.Signals.Streaming;

namespace OpenVret.Learning;

/// <summary>
/// One labelled window: its subject, label, end time, features (NaN = missing) and quality. <see cref="InCalibration"/>:
/// the window overlaps the baseline period (the first seconds of rest that personalise the model), so it is never
/// scored; <see cref="UsedForBaseline"/>: it lies wholly inside that period, so its features make the baseline, as
/// live, where only windows that have ended by the end of the baseline step are used. <see cref="RunStartSeconds"/>:
/// where the labelled run (segment) it lies in starts.
/// </summary>
public sealed record LabelledWindow(string Subject, string Label, double EndSeconds, float[] Features, bool PoorQuality, bool InCalibration)
{
    public bool UsedForBaseline { get; init; } = InCalibration;
    public double StartSeconds { get; init; } = double.NaN;
    public double RunStartSeconds { get; init; } = double.NaN;
}

/// <summary>
/// The label vocabulary of the arousal task, one home: "stress" is the positive class; the calm states of the
/// datasets and the generic layout are the negatives; anything else (e.g. exercise) is not used.
/// </summary>
public static class ArousalLabels
{
    public const string Stress = "stress";
    public static readonly IReadOnlySet<string> NonStress = new HashSet<string>(StringComparer.Ordinal)
        { "baseline", "amusement", "rest", "meditation", "recovery", "relax", "relaxation", "neutral", "non-stress", "nonstress", "calm" };
    /// <summary>Labels that take part in the binary task (stress vs non-stress).</summary>
    public static bool IsUsed(string label) => label == Stress || NonStress.Contains(label);
    public static bool IsStress(string label) => label == Stress;
}

/// <summary>
/// Sliding windows over each labelled segment, featurised by the same streaming extractor the live session
/// uses, so that a model sees in training exactly what it will see live. A window counts only if it lies
/// wholly inside one segment. Windows with poor PPG quality or wrist motion are flagged (excluded from
/// training). Windows in the calibration period (the first minutes of the baseline) are flagged (excluded
/// from evaluation).
/// </summary>
public static class WindowTable
{
    /// <summary>The features models use, named as the extractor names them. With and without TEMP, see <see cref="WithoutTemperature"/>.</summary>
    public static readonly string[] FeatureNames =
    {
        "PPG.PPG_Rate_Mean", "PPG.HRV_MeanNN", "PPG.HRV_SDNN", "PPG.HRV_RMSSD", "PPG.HRV_pNN50", "PPG.HRV_SD1", "PPG.HRV_SD2",
        "EDA.SCL_Mean", "EDA.SCL_SD", "EDA.SCL_Slope", "EDA.EDA_Phasic_SD", "EDA.SCR_Peaks_N", "EDA.SCR_Peaks_Amplitude_Mean",
        "TEMP.TEMP_Mean", "TEMP.TEMP_SD", "TEMP.TEMP_Slope",
        "ACC.ACC_Magnitude_Mean", "ACC.ACC_Magnitude_SD", "ACC.ACC_ENMO",
    };

    public static int[] WithoutTemperature => Enumerable.Range(0, FeatureNames.Length).Where(i => !FeatureNames[i].StartsWith("TEMP.")).ToArray();

    /// <summary>The baseline length (s) the figures and the live server use by default; see docs/arousal.md for the measured curve.</summary>
    public const double DefaultBaselineSeconds = 180;

    public static List<LabelledWindow> Build(Subject s, double windowSeconds = 60, double hopSeconds = 10, double calibrationSeconds = DefaultBaselineSeconds)
    {
        var rows = StreamingFeatureExtractor.ExtractBatch(s.Recording, windowSeconds, hopSeconds);
        var res = new List<LabelledWindow>();
        foreach (var r in rows)
        {
            double start = r.EndSeconds - windowSeconds;
            var seg = s.Segments.FirstOrDefault(x => start >= x.StartSeconds && r.EndSeconds <= x.EndSeconds);
            if (seg is null) continue;
            var f = new float[FeatureNames.Length];
            for (int i = 0; i < f.Length; i++) f[i] = (float)r.Features[FeatureNames[i]];
            double quality = r.Features["PPG.PPG_Quality_Mean"], motion = r.Features["ACC.ACC_Motion"];
            bool poor = !(quality >= 0.5) || motion == 1;
            res.Add(new LabelledWindow(s.Id, seg.Label, r.EndSeconds, f, poor, false) { StartSeconds = start, RunStartSeconds = seg.StartSeconds });
        }
        return WithBaseline(res, s, calibrationSeconds);
    }

    /// <summary>
    /// Marks the baseline period: the first <paramref name="baselineSeconds"/> of the first baseline segment. Windows
    /// wholly inside it make the personal baseline; windows overlapping it are not scored. Features do not change,
    /// so a curve over baseline lengths re-marks the same windows.
    /// </summary>
    public static List<LabelledWindow> WithBaseline(IReadOnlyList<LabelledWindow> windows, Subject s, double baselineSeconds)
    {
        var baseline = s.Segments.FirstOrDefault(x => x.Label == "baseline");
        if (baseline is null) return windows.Select(w => w with { InCalibration = false, UsedForBaseline = false }).ToList();
        double from = baseline.StartSeconds, to = Math.Min(baseline.EndSeconds, baseline.StartSeconds + baselineSeconds);
        return windows.Select(w =>
        {
            double start = double.IsNaN(w.StartSeconds) ? w.EndSeconds - 60 : w.StartSeconds;
            bool overlaps = start < to && w.EndSeconds > from, inside = start >= from - 1e-9 && w.EndSeconds <= to + 1e-9;
            return w with { InCalibration = overlaps, UsedForBaseline = inside };
        }).ToList();
    }
}

/// <summary>
/// Per-subject centring on the calibration period only, as it would happen live: each feature minus its
/// median over the first minutes of rest. Dividing by the spread as well was worse (macro-F1 0.872 vs
/// 0.912, logistic, WESAD): five minutes of heavily overlapping windows give a spread too small and
/// noisy to scale by.
/// </summary>
public static class Personalization
{
    public static List<LabelledWindow> Apply(IReadOnlyList<LabelledWindow> subjectWindows)
    {
        var calib = subjectWindows.Where(w => w.UsedForBaseline).ToList();
        if (calib.Count < 3) return subjectWindows.ToList();
        int n = subjectWindows[0].Features.Length;
        var median = Enumerable.Range(0, n).Select(i => Median(calib.Select(w => w.Features[i]))).ToArray();
        return subjectWindows.Select(w => w with
        {
            Features = w.Features.Select((x, i) => float.IsFinite(x) && float.IsFinite(median[i]) ? x - median[i] : x).ToArray(),
        }).ToList();
    }

    /// <summary>The baseline value of one feature, offline and live alike: the (upper) median of its finite values; NaN if none.</summary>
    public static float Median(IEnumerable<float> values)
    {
        var v = values.Where(float.IsFinite).OrderBy(x => x).ToArray();
        return v.Length == 0 ? float.NaN : v[v.Length / 2];
    }
}
