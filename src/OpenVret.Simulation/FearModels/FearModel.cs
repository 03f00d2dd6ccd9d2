using OpenVret.Exposure.Domain;

namespace OpenVret.Simulation;

/// <summary>Learning and forgetting parameters of one virtual patient's fear memory.</summary>
public sealed record FearParameters
{
    /// <summary>Excitatory (acquired) fear of the feared category, 0-1.</summary>
    public double InitialFear { get; init; } = 0.8;
    /// <summary>Learning rate of the prediction error (Rescorla &amp; Wagner 1972).</summary>
    public double LearningRate { get; init; } = 0.25;
    /// <summary>Prediction error above which extinction forms a new, context-bound memory rather than weakening the old one (Gershman et al. 2013).</summary>
    public double NewMemoryThreshold { get; init; } = 0.35;
    /// <summary>Softness of that split.</summary>
    public double NewMemorySlope { get; init; } = 0.08;
    /// <summary>Time constant (days) over which an extinction memory becomes harder to retrieve (spontaneous recovery; Rescorla 2004).</summary>
    public double ForgettingDays { get; init; } = 20;
    /// <summary>Retrieval loss per context attribute that differs (renewal; Bouton 2004).</summary>
    public double ContextSpecificity { get; init; } = 0.45;
    /// <summary>Width of generalisation of extinction across stimulus intensity.</summary>
    public double StimulusGeneralisation { get; init; } = 0.25;
    /// <summary>Short-term habituation gained per minute at full fear, and its recovery time constant (minutes; Groves &amp; Thompson 1970).</summary>
    public double HabituationRate { get; init; } = 0.08;
    public double HabituationRecoveryMinutes { get; init; } = 20;
    /// <summary>How steeply fear rises with stimulus intensity.</summary>
    public double IntensityExponent { get; init; } = 1.2;

    // --- latent-cause model (LatentCauseFearModel; Gershman, Blei & Niv 2010) ---
    /// <summary>Concentration of the Chinese-restaurant-process prior: how readily a new latent cause is inferred.</summary>
    public double CauseConcentration { get; init; } = 0.5;
    /// <summary>Exponent of the power-law temporal kernel of the prior (1 in Gershman et al. 2010).</summary>
    public double TemporalExponent { get; init; } = 1.0;
    /// <summary>Pseudo-trials of the acquisition history (how entrenched the fear is), spread over the year before treatment.</summary>
    public double AcquisitionTrials { get; init; } = 40;

    // --- dual-process model (DualProcessFearModel; Groves &amp; Thompson 1970) ---
    /// <summary>Sensitisation gained per minute by an intense stimulus, and its decay time constant (minutes).</summary>
    public double SensitisationRate { get; init; } = 0.04;
    public double SensitisationDecayMinutes { get; init; } = 10;
    /// <summary>Fraction per minute of short-term habituation that consolidates into long-term habituation.</summary>
    public double LongTermHabituationRate { get; init; } = 0.05;

    /// <summary>Context excitation added by an unsignalled aversive event (reinstatement), on the 0-1 fear scale.</summary>
    public double ReinstatementStrength { get; init; } = 0.3;
}

/// <summary>
/// The associative generative model ("associative"): a virtual patient's fear memory, deliberately not the scheduler's model. It is a context-dependent
/// two-memory account of extinction (Bouton 2004), with one excitatory memory per feared category.
/// Extinction memories are bound to the context and the stimulus intensity they were learned at, and
/// become harder to retrieve with time. The way prediction errors are assigned follows the latent-cause
/// insight of Gershman et al. (2013): small errors modify the original memory (unlearning that does not
/// recover), large errors create a new extinction memory (that can be forgotten, or fail to retrieve in
/// another context). Short-term habituation (Groves &amp; Thompson 1970) lowers fear within a session and
/// recovers between sessions.
/// Reproduces, qualitatively: within-session habituation, between-session extinction, spontaneous
/// recovery, ABA and ABC renewal, and less return of fear after gradual than after abrupt extinction.
/// </summary>
public sealed class FearModel : IFearModel
{
    public string Name => "associative";
    private sealed record ExtinctionMemory(ExposureContext Context, double Intensity, double Strength, double LearnedDay);

    private readonly FearParameters _p;
    private readonly List<ExtinctionMemory> _memories = new();
    // Excitatory fear at five intensity anchors (0, .25, .5, .75, 1); learning at one intensity generalises to
    // the others through a kernel, so mild exposures do not erase the fear of the most intense stimulus.
    private readonly double[] _excitatory = new double[5];
    private const double ExcitatoryWidth = 0.2;
    private double _habituation;
    private double _lastMinute;
    // Context excitation from unsignalled aversive events (reinstatement; Bouton 2004): context, strength, day.
    private readonly List<(ExposureContext Context, double Strength, double Day)> _contextFear = new();

    public FearModel(FearParameters parameters)
    {
        _p = parameters;
        Array.Fill(_excitatory, Math.Clamp(parameters.InitialFear, 0, 1));
    }

    /// <summary>Excitatory strength at an intensity (kernel-weighted over the anchors).</summary>
    public double ExcitatoryAt(double intensity)
    {
        double s = 0, w = 0;
        for (int k = 0; k < _excitatory.Length; k++)
        {
            double wk = Weight(k, intensity);
            s += wk * _excitatory[k]; w += wk;
        }
        return s / w;
    }

    private static double Weight(int anchor, double intensity) => Math.Exp(-Math.Abs(intensity - anchor / 4.0) / ExcitatoryWidth);
    public int ExtinctionMemories => _memories.Count;

    /// <summary>Fear drive of a stimulus before extinction: stronger for more intense stimuli.</summary>
    private double Drive(double intensity) => ExcitatoryAt(intensity) * FearModels.Gradient(intensity, _p.IntensityExponent);

    /// <summary>Inhibition retrieved for a stimulus in a context on a given day.</summary>
    private double Inhibition(double intensity, ExposureContext context, double day)
    {
        double sum = 0;
        foreach (var m in _memories)
        {
            double contextMatch = Math.Pow(1 - _p.ContextSpecificity, m.Context.Differences(context));
            double stimulusMatch = Math.Exp(-Math.Abs(intensity - m.Intensity) / _p.StimulusGeneralisation);
            double retention = Math.Exp(-Math.Max(0, day - m.LearnedDay) / _p.ForgettingDays);
            sum += m.Strength * contextMatch * stimulusMatch * retention;
        }
        return sum;
    }

    /// <summary>The patient's expectancy (0-1) that the feared outcome will happen with this stimulus.</summary>
    public double Expectancy(double intensity, ExposureContext context, double day) =>
        Math.Clamp(Drive(intensity) - Inhibition(intensity, context, day) + ContextExcitation(context, day) * FearModels.Gradient(intensity, _p.IntensityExponent), 0, 1);

    private double ContextExcitation(ExposureContext context, double day)
    {
        double sum = 0;
        foreach (var (c, strength, learned) in _contextFear)
            sum += strength * Math.Pow(1 - _p.ContextSpecificity, c.Differences(context)) * Math.Exp(-Math.Max(0, day - learned) / _p.ForgettingDays);
        return sum;
    }

    /// <summary>An unsignalled aversive event: the context becomes excitatory and summates with the stimulus (Bouton 2004).</summary>
    public void Reinstate(ExposureContext context, double day) => _contextFear.Add((context, _p.ReinstatementStrength, day));

    public void Expose(double intensity, double fear, double minutes) => Expose(fear, minutes);

    /// <summary>Fear (0-1) felt now: expectancy damped by short-term habituation.</summary>
    public double Fear(double intensity, ExposureContext context, double day, double minute)
    {
        RecoverHabituation(day, minute);
        return Expectancy(intensity, context, day) * (1 - _habituation);
    }

    /// <summary>Time passes with the stimulus present: habituation grows with fear.</summary>
    public void Expose(double fear, double minutes)
    {
        _habituation = Math.Clamp(_habituation + _p.HabituationRate * fear * minutes * (1 - _habituation), 0, 0.9);
    }

    private void RecoverHabituation(double day, double minute)
    {
        double now = day * 1440 + minute;
        double gap = now - _lastMinute;
        if (gap > 0) _habituation *= Math.Exp(-gap / _p.HabituationRecoveryMinutes);
        _lastMinute = now;
    }

    /// <summary>
    /// Learning at the end of a trial from the outcome that occurred (0 = none of the feared outcome).
    /// Returns the prediction error.
    /// </summary>
    public double Learn(double intensity, ExposureContext context, double day, double outcome)
    {
        double prediction = Expectancy(intensity, context, day);
        double error = Math.Clamp(outcome, 0, 1) - prediction;
        if (error >= 0)
        {
            for (int k = 0; k < _excitatory.Length; k++)
                _excitatory[k] = Math.Clamp(_excitatory[k] + _p.LearningRate * error * Weight(k, intensity), 0, 1);
            return error;
        }
        double magnitude = -error;
        double newMemory = 1 / (1 + Math.Exp(-(magnitude - _p.NewMemoryThreshold) / _p.NewMemorySlope));
        // Small surprises weaken the original memory (near this intensity); large ones become a new,
        // context-bound extinction memory.
        double unlearn = _p.LearningRate * (1 - newMemory) * magnitude;
        for (int k = 0; k < _excitatory.Length; k++)
            _excitatory[k] = Math.Clamp(_excitatory[k] - unlearn * Weight(k, intensity), 0, 1);
        double strength = _p.LearningRate * newMemory * magnitude;
        if (strength > 1e-6) _memories.Add(new ExtinctionMemory(context, intensity, strength, day));
        return error;
    }
}
