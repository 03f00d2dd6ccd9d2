namespace OpenVret.Signals;

/// <summary>Physical unit of a channel's samples.</summary>
public enum SignalUnit
{
    Arbitrary,
    Millivolt,
    Microvolt,
    Microsiemens,
    DegreesCelsius,
    StandardGravity,
    /// <summary>Empatica E4 accelerometer counts: 1/64 g.</summary>
    E4AccelerometerCount,
    BeatsPerMinute,
    Milliseconds,
    MicrovoltSquared,
}

/// <summary>What a channel measures. Determines which processing chain it goes through.</summary>
public enum Modality
{
    Ecg,
    Ppg,
    Eda,
    Respiration,
    SkinTemperature,
    Accelerometer,
    Eeg,
    HeadMovement,
    Other,
}

public static class UnitText
{
    public static string Symbol(this SignalUnit unit) => unit switch
    {
        SignalUnit.Millivolt => "mV",
        SignalUnit.Microvolt => "uV",
        SignalUnit.Microsiemens => "uS",
        SignalUnit.DegreesCelsius => "degC",
        SignalUnit.StandardGravity => "g",
        SignalUnit.E4AccelerometerCount => "1/64g",
        SignalUnit.BeatsPerMinute => "bpm",
        SignalUnit.Milliseconds => "ms",
        SignalUnit.MicrovoltSquared => "uV^2",
        _ => "",
    };

    public static SignalUnit Parse(string? text) => (text ?? "").Trim() switch
    {
        "mV" or "mv" => SignalUnit.Millivolt,
        "uV" or "µV" or "uv" => SignalUnit.Microvolt,
        "uS" or "µS" or "us" or "microsiemens" => SignalUnit.Microsiemens,
        "degC" or "°C" or "C" or "degc" => SignalUnit.DegreesCelsius,
        "g" => SignalUnit.StandardGravity,
        "1/64g" => SignalUnit.E4AccelerometerCount,
        "bpm" => SignalUnit.BeatsPerMinute,
        "ms" => SignalUnit.Milliseconds,
        _ => SignalUnit.Arbitrary,
    };
}
