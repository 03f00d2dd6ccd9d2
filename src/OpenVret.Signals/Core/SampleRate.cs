using System.Globalization;

namespace OpenVret.Signals;

/// <summary>A sampling rate in hertz. Always finite and strictly positive.</summary>
public readonly record struct SampleRate
{
    public double Hertz { get; }

    public SampleRate(double hertz)
    {
        if (!double.IsFinite(hertz) || hertz <= 0)
            throw new SignalInputException("sampleRate", hertz.ToString(CultureInfo.InvariantCulture),
                "sample rate must be a finite number of hertz greater than zero");
        Hertz = hertz;
    }

    public static SampleRate FromHertz(double hertz) => new(hertz);

    /// <summary>Seconds between two samples.</summary>
    public double PeriodSeconds => 1.0 / Hertz;

    /// <summary>Number of samples spanning <paramref name="seconds"/>, rounded to the nearest sample.</summary>
    public int SamplesIn(double seconds) => (int)Math.Round(seconds * Hertz, MidpointRounding.ToEven);

    /// <summary>Duration of <paramref name="samples"/> samples in seconds.</summary>
    public double SecondsOf(double samples) => samples / Hertz;

    public double NyquistHertz => Hertz / 2;

    public override string ToString() => Hertz.ToString("0.###", CultureInfo.InvariantCulture) + " Hz";
}
