using OpenVret.Exposure.Domain;

namespace OpenVret.Simulation;

/// <summary>What a simulated patient reports during a stretch of time (SUDS, or a trial's expectancy and outcome).</summary>
public sealed record PatientReport(string Kind, double Value);

/// <summary>
/// A virtual patient as a live device: its fear follows the stimulus it is shown (intensity, context, on/off),
/// its physiology is generated at signal level from the resulting arousal, and it reports SUDS every minute
/// and an expectancy/outcome pair per trial while exposed. Used by the server's demo device and by
/// <c>openvret simulate-live</c> (which streams to a running server through the device protocol).
/// </summary>
public sealed class PatientStream
{
    private readonly VirtualPatient _patient;
    private readonly SignalGenerator _generator;
    private double _t, _arousal = 0.1, _nextSuds = 60, _nextTrial = 150, _lastStep;

    public GeneratorRates Rates => _generator.Rates;
    public PatientProfile Profile => _patient.Profile;
    /// <summary>Seconds generated so far.</summary>
    public double Time => _t;
    public double Arousal => _arousal;

    public PatientStream(int seed, GeneratorRates? rates = null, PatientProfile? profile = null)
    {
        var p = profile ?? Cohort.Draw(1, seed)[0];
        _patient = new VirtualPatient(p, seed);
        _generator = new SignalGenerator(p, seed, rates);
    }

    /// <summary>
    /// Advances <paramref name="seconds"/> under the given stimulus: returns the samples of every channel and the
    /// reports that fell due. The patient's state is stepped once per second of simulated time.
    /// </summary>
    public (GeneratedChunk Chunk, IReadOnlyList<PatientReport> Reports) Next(double seconds, double intensity, ExposureContext context, bool exposed)
    {
        var reports = new List<PatientReport>();
        double end = _t + seconds;
        while (_lastStep + 1 <= end + 1e-9)
        {
            _lastStep += 1;
            _arousal = _patient.Step(intensity, context, 0, _lastStep / 60, 1, exposed).ArousalProbability;
        }
        var chunk = _generator.Next(seconds, _ => _arousal);
        _t = end;
        if (exposed && _t >= _nextSuds)
        {
            _nextSuds = _t + 60;
            reports.Add(new PatientReport("suds", _patient.Step(intensity, context, 0, _t / 60, 0, exposed).Suds));
        }
        if (exposed && _t >= _nextTrial)
        {
            _nextTrial = _t + 150;
            reports.Add(new PatientReport("expectancy", _patient.RateExpectancy(intensity, context, 0)));
            reports.Add(new PatientReport("outcome", _patient.RateOutcome(0.05)));
        }
        return (chunk, reports);
    }

    /// <summary>Accelerometer magnitude (g) of a chunk, the form the protocol's accelerometer channel carries.</summary>
    public static double[] AccelerometerMagnitude(GeneratedChunk c)
    {
        var acc = new double[c.AccX.Length];
        for (int i = 0; i < acc.Length; i++) acc[i] = Math.Sqrt(c.AccX[i] * c.AccX[i] + c.AccY[i] * c.AccY[i] + c.AccZ[i] * c.AccZ[i]);
        return acc;
    }
}
