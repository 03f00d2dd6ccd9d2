using OpenVret.Signals.Ecg;
using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Ppg;

/// <summary>
/// PPG/BVP cleaning and systolic-peak detection after Elgendi et al. (2013), PLoS ONE 8(10):e76585:
/// 0.5-8 Hz Butterworth band-pass (order 3, zero-phase), clip negatives and square, then "blocks of
/// interest" where a 111 ms moving average exceeds a 667 ms moving average plus 2 % of the mean energy;
/// the systolic peak is the most prominent maximum in each block (minimum 300 ms between beats).
/// </summary>
public static class PpgProcessing
{
    public static double[] Clean(ReadOnlySpan<double> ppg, SampleRate rate)
    {
        double high = Math.Min(8, rate.NyquistHertz * 0.9);
        return Butterworth.Design(3, new FilterBand.BandPass(0.5, high), rate).FilterZeroPhase(ppg);
    }

    public static int[] DetectSystolicPeaks(ReadOnlySpan<double> cleaned, SampleRate rate)
    {
        double fs = rate.Hertz;
        int n = cleaned.Length;
        var sq = new double[n];
        double meanSq = 0;
        for (int i = 0; i < n; i++) { double v = cleaned[i] > 0 ? cleaned[i] : 0; sq[i] = v * v; meanSq += sq[i]; }
        meanSq /= Math.Max(1, n);
        int peakWin = (int)Math.Round(0.111 * fs, MidpointRounding.ToEven);
        int beatWin = (int)Math.Round(0.667 * fs, MidpointRounding.ToEven);
        var maPeak = MovingAverage.SmoothCentered(sq, peakWin);
        var maBeat = MovingAverage.SmoothCentered(sq, beatWin);
        double offset = 0.02 * meanSq;
        for (int i = 0; i < n; i++) maBeat[i] += offset;
        return RPeakDetector.MostProminentInBlocks(cleaned, maPeak, maBeat, peakWin, (int)Math.Round(0.3 * fs, MidpointRounding.ToEven));
    }
}
