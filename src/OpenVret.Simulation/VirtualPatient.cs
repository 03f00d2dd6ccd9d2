using OpenVret.Exposure.Domain;

namespace OpenVret.Simulation;

/// <summary>Everything that makes one virtual patient individual (drawn by <see cref="Cohort"/>).</summary>
public sealed record PatientProfile
{
    public required string Id { get; init; }
    public required string Site { get; init; }
    public required string Subgroup { get; init; }
    public required FearParameters Fear { get; init; }
    /// <summary>Resting heart rate (bpm) and how many bpm full fear adds.</summary>
    public double RestingHeartRate { get; init; } = 72;
    public double HeartRateReactivity { get; init; } = 35;
    /// <summary>Skin conductance level at rest (µS) and its rise at full fear.</summary>
    public double RestingScl { get; init; } = 4;
    public double SclReactivity { get; init; } = 3;
    /// <summary>How sharply the calibrated arousal estimate follows fear (logistic slope).</summary>
    public double ArousalSlope { get; init; } = 7;
    /// <summary>Added to every SUDS report (under- or over-reporting), and the noise of reports.</summary>
    public double ReportingBias { get; init; }
    public double ReportingNoise { get; init; } = 6;
    /// <summary>Fear above which the patient starts to look away.</summary>
    public double AvoidanceThreshold { get; init; } = 0.75;
    /// <summary>Probability per minute of dropping out while SUDS stays at 90 or more.</summary>
    public double DropoutHazard { get; init; } = 0.08;
    /// <summary>Under-reporting: the fraction of felt fear (and expectancy) that is reported (1 = none; Hunt et al. style minimisation).</summary>
    public double ReportedFraction { get; init; } = 1;
    /// <summary>Response style: reports follow latent^exponent (below 1: extreme responding, above 1: midpoint/minimising).</summary>
    public double ResponseExponent { get; init; } = 1;
    /// <summary>Added to expectancy ratings (0-100), independent of the SUDS bias.</summary>
    public double ExpectancyBias { get; init; }
}

/// <summary>
/// Everything a scheduler, a therapist or a session log can see of the patient at one moment: reports and
/// measured physiology, never the latent fear. Produced by <see cref="MeasurementModel"/>.
/// </summary>
public sealed record ObservedState(double Suds, double ArousalProbability, double HeartRate, double Scl, double HeadAwaySeconds);

/// <summary>
/// A patient as the treatment loop meets it: a stimulus goes in, observations and ratings come out. The loop that
/// drives the exposure engine (<see cref="TreatmentSession"/>) takes only this interface, so no scheduler can read
/// the latent state of a <see cref="VirtualPatient"/>.
/// </summary>
public interface IObservedPatient
{
    bool DroppedOut { get; }
    /// <summary>Advances <paramref name="seconds"/> with a stimulus of the given intensity in a context.</summary>
    ObservedState Step(double intensity, ExposureContext context, double day, double minute, double seconds, bool stimulusOn = true);
    /// <summary>The patient's rating (0-100) of how likely the feared outcome is, before a trial.</summary>
    double RateExpectancy(double intensity, ExposureContext context, double day);
    /// <summary>A trial ends with the given outcome (0 = none of the feared outcome): the patient learns from it and returns the rating (0-100) of how much of it happened.</summary>
    double EndTrial(double intensity, ExposureContext context, double day, double occurred);
    double MeasuredRestingHeartRate();
    double MeasuredRestingScl();
}

/// <summary>
/// A virtual patient: a generative fear model (latent, <see cref="IFearModel"/>) plus a measurement model that turns
/// it into what can be seen (<see cref="ObservedState"/>, ratings). The head turns away when fear passes the
/// avoidance threshold; distress reported at SUDS 90+ can end treatment. <see cref="Latent"/> is for outcome
/// assessment by the trial, never for the treatment loop, which sees the patient as an <see cref="IObservedPatient"/>.
/// </summary>
public sealed class VirtualPatient : IObservedPatient
{
    private readonly Random _rng;
    private readonly MeasurementModel _measure;
    private double _headAway;
    private double _minutesAtTop;

    public PatientProfile Profile { get; }
    /// <summary>The latent fear state: read by outcome assessment only.</summary>
    public IFearModel Latent { get; }
    public bool DroppedOut { get; private set; }

    public VirtualPatient(PatientProfile profile, int seed, string model = "associative")
    {
        Profile = profile;
        Latent = FearModels.Create(model, profile.Fear);
        _rng = new Random(seed);
        _measure = new MeasurementModel(profile, _rng);
    }

    public ObservedState Step(double intensity, ExposureContext context, double day, double minute, double seconds, bool stimulusOn = true)
    {
        double fear = stimulusOn ? Latent.Fear(intensity, context, day, minute) : 0;
        if (stimulusOn) Latent.Expose(intensity, fear, seconds / 60);
        var p = Profile;
        var obs = _measure.Observe(fear);
        _headAway = stimulusOn && fear > p.AvoidanceThreshold && _rng.NextDouble() < 0.5 ? _headAway + seconds : 0;
        _minutesAtTop = obs.Suds >= 90 ? _minutesAtTop + seconds / 60 : 0;
        if (_minutesAtTop > 0 && _rng.NextDouble() < 1 - Math.Pow(1 - p.DropoutHazard, seconds / 60)) DroppedOut = true;
        return obs with { HeadAwaySeconds = _headAway };
    }

    public double MeasuredRestingHeartRate() => _measure.RestingHeartRate;
    public double MeasuredRestingScl() => _measure.RestingScl;

    public double RateExpectancy(double intensity, ExposureContext context, double day) => _measure.ExpectancyRating(Latent.Expectancy(intensity, context, day));

    public double EndTrial(double intensity, ExposureContext context, double day, double occurred)
    {
        Latent.Learn(intensity, context, day, occurred);
        return _measure.OutcomeRating(occurred);
    }

    /// <summary>The rating (0-100) of how much of the feared outcome happened, without a trial (live mode).</summary>
    public double RateOutcome(double occurred) => _measure.OutcomeRating(occurred);
}

/// <summary>
/// Draws virtual patients for several sites and subgroups that differ in baseline physiology, reactivity
/// and reporting style, so that cross-site and subgroup evaluation of models has something real to find.
/// Distributions are stated in docs/simulation.md; they are plausible ranges, not estimates from a dataset.
/// </summary>
public sealed class Cohort
{
    public sealed record Site(string Name, double HeartRateShift, double ReactivityScale, double ReportingBias);

    public static readonly Site[] DefaultSites =
    {
        new("site-A", 0, 1.0, 0), new("site-B", 6, 0.8, -8), new("site-C", -4, 1.25, 6),
    };

    public static IReadOnlyList<PatientProfile> Draw(int count, int seed, IReadOnlyList<Site>? sites = null)
    {
        sites ??= DefaultSites;
        var rng = new Random(seed);
        double G() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double Clamp(double v, double lo, double hi) => Math.Clamp(v, lo, hi);
        var list = new List<PatientProfile>(count);
        for (int i = 0; i < count; i++)
        {
            var site = sites[i % sites.Count];
            bool older = rng.NextDouble() < 0.35;
            var fear = new FearParameters
            {
                InitialFear = Clamp(0.8 + 0.1 * G(), 0.5, 1),
                LearningRate = Clamp(0.25 * Math.Exp(0.35 * G()), 0.05, 0.6),
                NewMemoryThreshold = Clamp(0.35 + 0.08 * G(), 0.15, 0.6),
                ForgettingDays = Clamp(20 * Math.Exp(0.4 * G()), 5, 90),
                ContextSpecificity = Clamp(0.45 + 0.1 * G(), 0.15, 0.75),
                StimulusGeneralisation = Clamp(0.25 + 0.06 * G(), 0.1, 0.5),
                HabituationRate = Clamp(0.08 * Math.Exp(0.3 * G()), 0.02, 0.25),
            };
            list.Add(new PatientProfile
            {
                Id = $"VP{i + 1:0000}",
                Site = site.Name,
                Subgroup = older ? "older" : "younger",
                Fear = fear,
                RestingHeartRate = Clamp(72 + site.HeartRateShift + (older ? -4 : 0) + 8 * G(), 50, 100),
                HeartRateReactivity = Clamp(35 * site.ReactivityScale * (older ? 0.8 : 1) * Math.Exp(0.25 * G()), 10, 70),
                RestingScl = Clamp(4 * Math.Exp(0.5 * G()), 0.5, 20),
                SclReactivity = Clamp(3 * site.ReactivityScale * Math.Exp(0.4 * G()), 0.3, 10),
                ReportingBias = site.ReportingBias + 6 * G(),
                ReportingNoise = Clamp(6 + 2 * G(), 2, 12),
                AvoidanceThreshold = Clamp(0.75 + 0.08 * G(), 0.55, 0.95),
                DropoutHazard = Clamp(0.08 * Math.Exp(0.5 * G()), 0.01, 0.4),
                ReportedFraction = Clamp(0.9 + 0.08 * G(), 0.6, 1),
                ResponseExponent = Clamp(Math.Exp(0.25 * G()), 0.6, 1.6),
                ExpectancyBias = 8 * G(),
            });
        }
        return list;
    }
}
