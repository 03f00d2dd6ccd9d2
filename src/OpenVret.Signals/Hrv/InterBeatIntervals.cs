namespace OpenVret.Signals.Hrv;

/// <summary>
/// An inter-beat (NN) interval series in milliseconds with the time of each interval's closing beat in
/// seconds. Built from ECG R-peaks or PPG systolic peaks; HRV is computed from this type alone.
/// </summary>
public sealed class InterBeatIntervals
{
    public double[] IntervalsMs { get; }
    public double[] TimesSeconds { get; }
    public int Count => IntervalsMs.Length;

    public InterBeatIntervals(double[] intervalsMs, double[] timesSeconds)
    {
        if (intervalsMs.Length != timesSeconds.Length)
            throw new SignalInputException("timesSeconds.length", timesSeconds.Length.ToString(), $"must equal intervalsMs.length ({intervalsMs.Length})");
        for (int i = 0; i < intervalsMs.Length; i++)
        {
            if (!double.IsFinite(intervalsMs[i]) || intervalsMs[i] <= 0)
                throw new SignalInputException($"intervalsMs[{i}]", intervalsMs[i].ToString(System.Globalization.CultureInfo.InvariantCulture), "an inter-beat interval must be a positive number of milliseconds");
            if (i > 0 && !(timesSeconds[i] > timesSeconds[i - 1]))
                throw new SignalInputException($"timesSeconds[{i}]", timesSeconds[i].ToString(System.Globalization.CultureInfo.InvariantCulture), "beat times must be strictly increasing");
        }
        IntervalsMs = intervalsMs;
        TimesSeconds = timesSeconds;
    }

    /// <summary>Intervals between successive peaks (sample indices) at <paramref name="rate"/>.</summary>
    public static InterBeatIntervals FromPeaks(IReadOnlyList<int> peaks, SampleRate rate, double startSeconds = 0)
    {
        int n = Math.Max(0, peaks.Count - 1);
        var ms = new double[n]; var t = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (peaks[i + 1] <= peaks[i])
                throw new SignalInputException($"peaks[{i + 1}]", peaks[i + 1].ToString(), $"peaks must be strictly increasing (previous {peaks[i]})");
            ms[i] = (peaks[i + 1] - peaks[i]) * 1000.0 / rate.Hertz;
            t[i] = startSeconds + peaks[i + 1] / rate.Hertz;
        }
        return new InterBeatIntervals(ms, t);
    }

    /// <summary>Intervals whose closing beat lies in [fromSeconds, toSeconds).</summary>
    public InterBeatIntervals Between(double fromSeconds, double toSeconds)
    {
        int a = Array.BinarySearch(TimesSeconds, fromSeconds); if (a < 0) a = ~a;
        int b = Array.BinarySearch(TimesSeconds, toSeconds); if (b < 0) b = ~b;
        return new InterBeatIntervals(IntervalsMs[a..b], TimesSeconds[a..b]);
    }

    public double DurationSeconds => Count == 0 ? 0 : TimesSeconds[^1] - TimesSeconds[0] + IntervalsMs[0] / 1000.0;
}
