namespace OpenVret.Simulation;

/// <summary>
/// The measurement model between a virtual patient's latent fear and everything outside it. Reports pass through
/// the patient's response style (latent^exponent), under-reporting (a reported fraction), a bias, noise, and the
/// scale's anchoring (SUDS in steps of 5; ratings as integers). Physiology: heart rate and skin conductance follow
/// latent fear with the patient's own reactivity plus sensor noise; the arousal probability the engine receives is
/// not the latent fear but what a population-calibrated estimator computes from those measured signals against the
/// session's measured resting values (it does not know the patient's reactivity, so it is biased per patient).
/// The signal-level generator (<see cref="SignalGenerator"/>) is not run inside trials, for speed: physiology is
/// state level here.
/// </summary>
public sealed class MeasurementModel
{
    private const double PopulationHrReactivity = 35, PopulationSclReactivity = 3, EstimatorSlope = 7;
    private readonly PatientProfile _p;
    private readonly Random _rng;

    public double RestingHeartRate { get; }
    public double RestingScl { get; }

    public MeasurementModel(PatientProfile profile, Random rng)
    {
        _p = profile;
        _rng = rng;
        RestingHeartRate = profile.RestingHeartRate + 2 * Gauss();
        RestingScl = profile.RestingScl + 0.1 * Gauss();
    }

    private double Gauss() => Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());

    private double Perceived(double latent) => _p.ReportedFraction * Math.Pow(Math.Clamp(latent, 0, 1), _p.ResponseExponent);

    public ObservedState Observe(double fear)
    {
        double suds = Math.Clamp(Math.Round((100 * Perceived(fear) + _p.ReportingBias + _p.ReportingNoise * Gauss()) / 5) * 5, 0, 100);
        double hr = _p.RestingHeartRate + _p.HeartRateReactivity * fear + 2 * Gauss();
        double scl = _p.RestingScl + _p.SclReactivity * fear + 0.1 * Gauss();
        double z = 0.5 * ((hr - RestingHeartRate) / PopulationHrReactivity + (scl - RestingScl) / PopulationSclReactivity);
        double arousal = 1 / (1 + Math.Exp(-EstimatorSlope * (z - 0.5)));
        return new ObservedState(suds, arousal, hr, scl, 0);
    }

    public double ExpectancyRating(double expectancy) =>
        Math.Clamp(Math.Round(100 * Perceived(expectancy) + _p.ExpectancyBias + 8 * Gauss()), 0, 100);

    public double OutcomeRating(double occurred) => Math.Clamp(Math.Round(100 * occurred + 4 * Math.Abs(Gauss())), 0, 100);
}
