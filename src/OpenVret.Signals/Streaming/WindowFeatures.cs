using OpenVret.Signals.Ecg;
using OpenVret.Signals.Eda;
using OpenVret.Signals.Other;
using OpenVret.Signals.Ppg;
using OpenVret.Signals.Rsp;

namespace OpenVret.Signals.Streaming;

/// <summary>
/// Features of one window of one channel: the single place where a modality is mapped to its pipeline,
/// used by the windowed batch table and the streaming extractor alike. Bad windows (gaps, flat lines,
/// too short) give missing features with a reason, never an exception.
/// </summary>
public static class WindowFeatures
{
    public static FeatureSet Compute(Modality modality, ReadOnlySpan<double> samples, SampleRate rate)
    {
        try
        {
            switch (modality)
            {
                case Modality.Ecg: return EcgPipeline.Process(samples, rate).Features;
                case Modality.Ppg: return PpgPipeline.Process(samples, rate).Features;
                case Modality.Eda: return EdaPipeline.Process(samples, rate).Features;
                case Modality.Respiration: return RespirationPipeline.Process(samples, rate).Features;
                case Modality.SkinTemperature: return SkinTemperature.Features(samples, rate);
                case Modality.Accelerometer: return Accelerometer.Features(samples);
                case Modality.Eeg: return EegBandPower.Features(samples, rate);
                default: return new FeatureSet();
            }
        }
        catch (SignalInputException e)
        {
            var f = new FeatureSet();
            f.Flag(new QualityFlag("window_unusable", $"{modality}: {e.Message}", QualitySeverity.Error));
            foreach (var name in NamesOf(modality)) f.Missing(name, "window_unusable", e.Message);
            return f;
        }
    }

    /// <summary>The features a modality yields (for marking a whole window missing).</summary>
    public static IReadOnlyList<string> NamesOf(Modality modality) => modality switch
    {
        Modality.Ecg => new[] { "ECG_Rate_Mean", "ECG_Quality_Mean", "HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_SD1", "HRV_SD2", "HRV_SampEn" },
        Modality.Ppg => new[] { "PPG_Rate_Mean", "PPG_Quality_Mean", "HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_SD1", "HRV_SD2" },
        Modality.Eda => new[] { "SCL_Mean", "SCL_Slope", "SCR_Peaks_N", "SCR_Rate" },
        Modality.Respiration => new[] { "RSP_Rate_Mean", "RSP_Amplitude_Mean" },
        Modality.SkinTemperature => new[] { "TEMP_Mean", "TEMP_Slope" },
        Modality.Accelerometer => new[] { "ACC_Magnitude_Mean", "ACC_ENMO", "ACC_Motion" },
        _ => Array.Empty<string>(),
    };

    /// <summary>Column prefix that keeps the features of several channels apart (e.g. PPG-derived HRV vs ECG HRV).</summary>
    public static string Prefix(Modality modality) => modality switch
    {
        Modality.Ecg => "ECG.",
        Modality.Ppg => "PPG.",
        Modality.Eda => "EDA.",
        Modality.Respiration => "RSP.",
        Modality.SkinTemperature => "TEMP.",
        Modality.Accelerometer => "ACC.",
        Modality.Eeg => "EEG.",
        _ => "",
    };
}
