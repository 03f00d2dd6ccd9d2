namespace OpenVret.Signals;

/// <summary>A stretch of one channel of a recording: the channel's index, the time of its first sample, the samples.</summary>
public readonly record struct RecordingStretch(int Channel, double StartSeconds, ReadOnlyMemory<double> Samples);

/// <summary>
/// Walks a recording in time, as a device would deliver it: each call to <see cref="Until"/> hands out, per
/// channel, the samples recorded up to that time that were not handed out before. Used to stream recordings
/// (batch feature tables, replays to a session).
/// </summary>
public sealed class RecordingCursor(Recording recording)
{
    private readonly int[] _position = new int[recording.Channels.Count];

    public double StartSeconds { get; } = recording.Channels.Min(c => c.Signal.StartSeconds);
    public double EndSeconds { get; } = recording.Channels.Max(c => c.Signal.EndSeconds);

    /// <summary>True once every sample of every channel has been handed out.</summary>
    public bool Done
    {
        get
        {
            for (int i = 0; i < _position.Length; i++)
                if (_position[i] < recording.Channels[i].Signal.Length) return false;
            return true;
        }
    }

    /// <summary>The samples (per channel, in channel order) with a time before <paramref name="seconds"/> not handed out yet.</summary>
    public List<RecordingStretch> Until(double seconds)
    {
        var res = new List<RecordingStretch>(_position.Length);
        for (int i = 0; i < _position.Length; i++)
        {
            var sig = recording.Channels[i].Signal;
            int upTo = (int)Math.Min(sig.Length, Math.Max(0, Math.Round((seconds - sig.StartSeconds) * sig.Rate.Hertz)));
            if (upTo <= _position[i]) continue;
            res.Add(new RecordingStretch(i, sig.TimeOf(_position[i]), sig.Samples.AsMemory(_position[i], upTo - _position[i])));
            _position[i] = upTo;
        }
        return res;
    }
}
