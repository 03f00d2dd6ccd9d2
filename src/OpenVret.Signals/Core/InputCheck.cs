using System.Globalization;

namespace OpenVret.Signals;

/// <summary>Validation and repair of raw sample arrays before processing.</summary>
public static class InputCheck
{
    /// <summary>Longest run of non-finite samples (in seconds) that is bridged by linear interpolation.</summary>
    public const double MaxBridgedGapSeconds = 1.0;

    /// <summary>
    /// Returns <paramref name="samples"/> itself when every sample is finite, otherwise a copy in which short
    /// runs of NaN/inf are linearly bridged.
    /// Every bridge and every problem is reported in <paramref name="flags"/>. Throws a
    /// <see cref="SignalInputException"/> when the signal is empty, entirely non-finite, or has a
    /// non-finite run longer than <paramref name="maxGapSeconds"/>.
    /// </summary>
    public static ReadOnlySpan<double> RequireUsable(ReadOnlySpan<double> samples, SampleRate rate, string field, List<QualityFlag> flags,
        double maxGapSeconds = MaxBridgedGapSeconds, int minSamples = 1)
    {
        if (samples.Length < minSamples)
            throw new SignalInputException(field + ".length", samples.Length.ToString(CultureInfo.InvariantCulture),
                $"need at least {minSamples} samples ({rate.SecondsOf(minSamples):0.##} s at {rate})");
        int firstBad = -1;
        for (int k = 0; k < samples.Length; k++) if (!double.IsFinite(samples[k])) { firstBad = k; break; }
        if (firstBad < 0) return samples;
        var x = samples.ToArray();
        int maxGap = Math.Max(1, rate.SamplesIn(maxGapSeconds));
        int nonFinite = 0, bridged = 0;
        int i = firstBad;
        while (i < x.Length)
        {
            if (double.IsFinite(x[i])) { i++; continue; }
            int start = i;
            while (i < x.Length && !double.IsFinite(x[i])) i++;
            int len = i - start;
            nonFinite += len;
            if (len == x.Length)
                throw new SignalInputException(field, "all samples NaN/inf", "no finite sample to process");
            if (len > maxGap)
                throw new SignalInputException($"{field}[{start}..{i - 1}]", "NaN/inf",
                    $"gap of {rate.SecondsOf(len):0.###} s is longer than {maxGapSeconds} s; split the recording at the gap or process it as a stream");
            double left = start > 0 ? x[start - 1] : x[i];
            double right = i < x.Length ? x[i] : left;
            for (int k = 0; k < len; k++) x[start + k] = left + (right - left) * (k + 1) / (len + 1);
            bridged++;
        }
        if (nonFinite > 0)
            flags.Add(new QualityFlag("nonfinite_bridged", $"{field}: {nonFinite} NaN/inf samples in {bridged} run(s) were linearly bridged"));
        return x;
    }

    /// <summary>Fraction of samples sitting at the signal's extreme values (clipping/saturation).</summary>
    public static double ClippedFraction(ReadOnlySpan<double> x)
    {
        var (min, max) = Range(x);
        return ClippedFraction(x, min, max);
    }

    /// <summary>Clipped fraction given the range: a sample counts when it and its predecessor both sit within 1e-6 of the range at the same extreme.</summary>
    private static double ClippedFraction(ReadOnlySpan<double> x, double min, double max)
    {
        if (x.Length < 3) return 0;
        if (max <= min) return 1;
        double tol = (max - min) * 1e-6, high = max - tol, low = min + tol;
        int n = 0;
        bool prevHigh = x[0] >= high, prevLow = x[0] <= low;
        for (int i = 1; i < x.Length; i++)
        {
            double v = x[i];
            bool h = v >= high, l = v <= low;
            if ((h & prevHigh) | (l & prevLow)) n++;
            prevHigh = h; prevLow = l;
        }
        return (double)n / x.Length;
    }

    /// <summary>Smallest and largest finite sample (+inf, -inf when there is none).</summary>
    private static (double Min, double Max) Range(ReadOnlySpan<double> x)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in x) { if (!double.IsFinite(v)) continue; if (v < min) min = v; if (v > max) max = v; }
        return (min, max);
    }

    /// <summary>True when the signal has (almost) no variation: a detached or dead sensor.</summary>
    public static bool IsFlat(ReadOnlySpan<double> x, double minRange)
    {
        var (min, max) = Range(x);
        return !(max - min > minRange);
    }

    /// <summary>Adds warnings for clipping and flat segments.</summary>
    public static void DescribeShape(ReadOnlySpan<double> x, string field, List<QualityFlag> flags, double flatRange = 1e-9)
    {
        var (min, max) = Range(x);
        if (!(max - min > flatRange))
            flags.Add(new QualityFlag("flat_signal", $"{field}: signal is flat (sensor detached or dead)", QualitySeverity.Error));
        else
        {
            double clip = ClippedFraction(x, min, max);
            if (clip > 0.01)
                flags.Add(new QualityFlag("clipping", $"{field}: {clip:P1} of samples sit at the signal's extremes (saturated/clipped)"));
        }
    }
}
