using OpenVret.Protocol;
using OpenVret.Simulation;

namespace OpenVret.Server.Demo;

/// <summary>
/// How a simulated patient (<see cref="PatientStream"/>) appears on the device protocol: its channels, the samples
/// of a generated chunk in the same order, and its reports as client events. Shared by the server's demo device
/// and <c>openvret simulate-live</c>.
/// </summary>
public static class SimulatedDeviceChannels
{
    public static List<ChannelDeclaration> Declare(GeneratorRates r) => new()
    {
        new("ecg", ChannelKind.Ecg, r.Ecg, "mV"), new("bvp", ChannelKind.Ppg, r.Ppg, "a.u."), new("eda", ChannelKind.Eda, r.Eda, "uS"),
        new("temp", ChannelKind.SkinTemperature, r.Temperature, "degC"), new("acc", ChannelKind.Accelerometer, r.Accelerometer, "g"),
    };

    /// <summary>The chunk's samples per declared channel, in the order of <see cref="Declare"/>.</summary>
    public static double[][] Samples(GeneratedChunk c) => new[] { c.Ecg, c.Ppg, c.Eda, c.Temperature, PatientStream.AccelerometerMagnitude(c) };

    public static ClientEventKind EventKind(PatientReport r) => r.Kind switch
    {
        "suds" => ClientEventKind.Suds,
        "expectancy" => ClientEventKind.ExpectancyBefore,
        "outcome" => ClientEventKind.OutcomeAfter,
        _ => throw new ArgumentOutOfRangeException(nameof(r), r.Kind, "unknown patient report"),
    };
}
