using System.Globalization;

namespace OpenVret.Exposure.Expectancy;

/// <summary>
/// One exposure trial as the expectancy model sees it: the patient's rating before ("how likely is the
/// feared outcome, 0-100") and after ("how much of it happened, 0-100").
/// </summary>
public sealed record TrialRatings(double ExpectancyBefore, double OutcomeAfter)
{
    /// <summary>Expectancy violation (Craske et al. 2014): positive when the feared outcome was expected more than it occurred.</summary>
    public double Violation => ExpectancyBefore - OutcomeAfter;
}

/// <summary>The learned state of one stimulus, for display and persistence.</summary>
public sealed record StimulusExpectancy(string Stimulus, double Strength, int Trials, double LastViolation)
{
    /// <summary>The model's predicted expectancy on the 0-100 rating scale.</summary>
    public double PredictedExpectancy => 100 * Strength;
}

/// <summary>What one update did: the prediction, the ratings, the prediction error and the new strength.</summary>
public sealed record ExpectancyUpdate(string Stimulus, double Predicted, TrialRatings Ratings, double PredictionError, double StrengthBefore, double StrengthAfter);

/// <summary>
/// Rescorla &amp; Wagner (1972) associative strength per stimulus: V &lt;- V + alpha (lambda - V), with lambda the
/// observed outcome (0-1) of the trial. As in Heyse et al. (2020)'s semantic adaptation of VRET, the model's
/// prediction and its error drive the scheduler. Generalisation: a new stimulus starts from the patient's
/// first expectancy rating, or from the nearest known stimulus of the same scenario weighted by similarity.
/// Deterministic; its state is a plain list of records.
/// </summary>
public sealed class ExpectancyModel
{
    private readonly Dictionary<string, StimulusExpectancy> _state = new(StringComparer.Ordinal);

    /// <summary>Learning rate alpha (0-1).</summary>
    public double LearningRate { get; }

    public ExpectancyModel(double learningRate = 0.3, IEnumerable<StimulusExpectancy>? state = null)
    {
        if (!(learningRate > 0 && learningRate <= 1))
            throw new ExposureInputException("learningRate", learningRate.ToString(CultureInfo.InvariantCulture), "must be in (0, 1]");
        LearningRate = learningRate;
        foreach (var s in state ?? Array.Empty<StimulusExpectancy>()) _state[s.Stimulus] = s;
    }

    public IReadOnlyList<StimulusExpectancy> State => _state.Values.OrderBy(s => s.Stimulus, StringComparer.Ordinal).ToList();

    public bool Knows(string stimulus) => _state.ContainsKey(stimulus);

    /// <summary>Predicted expectancy (0-100) for a stimulus; <paramref name="prior"/> when it has never been met.</summary>
    public double Predict(string stimulus, double prior = 50) =>
        _state.TryGetValue(stimulus, out var s) ? s.PredictedExpectancy : prior;

    /// <summary>Updates a stimulus from one trial's ratings.</summary>
    public ExpectancyUpdate Update(string stimulus, TrialRatings ratings)
    {
        Check(ratings.ExpectancyBefore, "expectancyBefore");
        Check(ratings.OutcomeAfter, "outcomeAfter");
        double before = _state.TryGetValue(stimulus, out var s) ? s.Strength : ratings.ExpectancyBefore / 100;
        double lambda = ratings.OutcomeAfter / 100;
        double error = lambda - before;
        double after = Math.Clamp(before + LearningRate * error, 0, 1);
        _state[stimulus] = new StimulusExpectancy(stimulus, after, (s?.Trials ?? 0) + 1, ratings.Violation);
        return new ExpectancyUpdate(stimulus, 100 * before, ratings, 100 * error, before, after);
    }

    private static void Check(double v, string field)
    {
        if (!double.IsFinite(v) || v < 0 || v > 100)
            throw new ExposureInputException(field, v.ToString(CultureInfo.InvariantCulture), "ratings are 0-100");
    }
}
