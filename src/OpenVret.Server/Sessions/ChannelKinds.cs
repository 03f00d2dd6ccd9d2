using OpenVret.Protocol;
using OpenVret.Signals;

namespace OpenVret.Server.Sessions;

/// <summary>The protocol's channel kinds and the signal layer's modalities: one mapping, both ways.</summary>
public static class ChannelKinds
{
    private static readonly (ChannelKind Kind, Modality Modality)[] Pairs =
    {
        (ChannelKind.Ecg, Modality.Ecg), (ChannelKind.Ppg, Modality.Ppg), (ChannelKind.Eda, Modality.Eda),
        (ChannelKind.Respiration, Modality.Respiration), (ChannelKind.SkinTemperature, Modality.SkinTemperature),
        (ChannelKind.Accelerometer, Modality.Accelerometer), (ChannelKind.Eeg, Modality.Eeg), (ChannelKind.HeadMovement, Modality.HeadMovement),
    };

    public static Modality? ToModality(ChannelKind kind) => Pairs.Where(p => p.Kind == kind).Select(p => (Modality?)p.Modality).FirstOrDefault();
    public static ChannelKind? ToKind(Modality modality) => Pairs.Where(p => p.Modality == modality).Select(p => (ChannelKind?)p.Kind).FirstOrDefault();

    /// <summary>
    /// The channels of a recording a session can use, declared as a device would (a unique name per channel),
    /// with the recording narrowed to them (channel order kept, so a <see cref="RecordingCursor"/> index is the declaration's).
    /// </summary>
    public static (Recording Usable, List<ChannelDeclaration> Declarations) Declare(Recording recording)
    {
        var usable = recording.Channels.Where(c => ToKind(c.Modality) is not null).ToList();
        var declarations = usable.Select((c, i) => new ChannelDeclaration($"{c.Modality.ToString().ToLowerInvariant()}{i}", ToKind(c.Modality)!.Value,
            c.Signal.Rate.Hertz, c.Signal.Unit.Symbol())).ToList();
        return (recording with { Channels = usable }, declarations);
    }

    /// <summary>A stretch of a recording as the float samples of a batch.</summary>
    public static float[] Samples(RecordingStretch stretch)
    {
        var x = new float[stretch.Samples.Length];
        var s = stretch.Samples.Span;
        for (int k = 0; k < x.Length; k++) x[k] = (float)s[k];
        return x;
    }
}
