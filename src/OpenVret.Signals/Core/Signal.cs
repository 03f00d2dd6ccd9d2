namespace OpenVret.Signals;

/// <summary>
/// A uniformly sampled segment of one channel: samples, their rate, the monotonic session time of the first
/// sample (seconds), and the unit. Immutable by convention: routines never write into <see cref="Samples"/>.
/// </summary>
public sealed record Signal(double[] Samples, SampleRate Rate, double StartSeconds = 0, SignalUnit Unit = SignalUnit.Arbitrary, string Name = "")
{
    public int Length => Samples.Length;
    public double DurationSeconds => Samples.Length / Rate.Hertz;
    public double EndSeconds => StartSeconds + DurationSeconds;

    /// <summary>Session time of sample <paramref name="index"/> in seconds.</summary>
    public double TimeOf(double index) => StartSeconds + index / Rate.Hertz;
}

/// <summary>A multi-channel recording (channels may have different rates), e.g. one E4 session or one EDF file.</summary>
public sealed record Recording(IReadOnlyList<ChannelSignal> Channels, DateTimeOffset? StartWallClock = null, string Source = "")
{
    public ChannelSignal? Find(Modality modality) => Channels.FirstOrDefault(c => c.Modality == modality);
}

/// <summary>A signal tagged with what it measures.</summary>
public sealed record ChannelSignal(Modality Modality, Signal Signal);
