namespace OpenVret.Simulation;

/// <summary>
/// What one session shows at session level (the outcome-prediction schema's per-session columns): physiological
/// reactivity and within-session habituation slopes, the SUDS course, expectancy checks, and exposure statistics.
/// </summary>
public sealed record SessionSummary(
    int Session,
    double HrBaselineBpm,
    double HrReactivityBpm,
    double HrSlopeBpmPerMin,
    double SclReactivityUs,
    double SclSlopeUsPerMin,
    double SudsPeak,
    double SudsEnd,
    double SudsSlopePerMin,
    double? ExpectancyFirst,
    double? ViolationMean,
    int Trials,
    int HighestStep,
    double MinutesAboveCeiling,
    int SafetyHolds,
    double ExposureMinutes)
{
    /// <summary>The per-session column names of the schema, in the order of <see cref="Values"/> (prefixed s{k}_ in a dataset).</summary>
    public static IReadOnlyList<string> Columns => OpenVret.Learning.Outcome.OutcomeSchema.SessionVariables;

    public double?[] Values() =>
    [
        HrBaselineBpm, HrReactivityBpm, HrSlopeBpmPerMin, SclReactivityUs, SclSlopeUsPerMin, SudsPeak, SudsEnd, SudsSlopePerMin,
        ExpectancyFirst, ViolationMean, Trials, HighestStep, MinutesAboveCeiling, SafetyHolds, ExposureMinutes,
    ];

    /// <summary>Accumulates one session's observations (stimulus-on time only for reactivity and slopes).</summary>
    public sealed class Builder(int session, double hrBaseline, double sclBaseline)
    {
        private readonly List<(double Minute, double Hr, double Scl, double Suds)> _on = new();
        private double? _expectancyFirst;
        private readonly List<double> _violations = new();
        private int _highest;
        private double _lastMinute;

        public void Add(double minute, bool stimulusOn, ObservedState o, double? expectancyAtTrialEnd, double? outcomeAtTrialEnd, int step)
        {
            _lastMinute = minute;
            if (stimulusOn) _on.Add((minute, o.HeartRate, o.Scl, o.Suds));
            _highest = Math.Max(_highest, step);
            if (expectancyAtTrialEnd is double e)
            {
                _expectancyFirst ??= e;
                if (outcomeAtTrialEnd is double oc) _violations.Add(e - oc);
            }
        }

        public SessionSummary Build(int holds, double minutesAbove)
        {
            double Slope(Func<(double Minute, double Hr, double Scl, double Suds), double> f)
            {
                if (_on.Count < 3) return 0;
                double mx = _on.Average(x => x.Minute), my = _on.Average(f);
                double sxx = _on.Sum(x => (x.Minute - mx) * (x.Minute - mx)), sxy = _on.Sum(x => (x.Minute - mx) * (f(x) - my));
                return sxx > 0 ? sxy / sxx : 0;
            }
            double hrPeak = _on.Count > 0 ? _on.Max(x => x.Hr) : hrBaseline, sclPeak = _on.Count > 0 ? _on.Max(x => x.Scl) : sclBaseline;
            return new SessionSummary(session, hrBaseline, hrPeak - hrBaseline, Slope(x => x.Hr), sclPeak - sclBaseline, Slope(x => x.Scl),
                _on.Count > 0 ? _on.Max(x => x.Suds) : 0, _on.Count > 0 ? _on[^1].Suds : 0, Slope(x => x.Suds), _expectancyFirst,
                _violations.Count > 0 ? _violations.Average() : null, _violations.Count, _highest, minutesAbove, holds, _on.Count > 0 ? _on[^1].Minute - _on[0].Minute : 0);
        }
    }
}
