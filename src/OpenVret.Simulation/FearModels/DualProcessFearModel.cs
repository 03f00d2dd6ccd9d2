using OpenVret.Exposure.Domain;

namespace OpenVret.Simulation;

/// <summary>
/// The dual-process model of habituation ("dual-process"), after Groves &amp; Thompson (1970, Psychol Rev 77:419):
/// the response to a stimulus is the output of two independent processes that interact at the output.
/// <list type="bullet">
/// <item><b>Habituation</b> (decremental, in the stimulus–response pathway, stimulus-specific): short-term habituation
/// grows with exposure, faster for weaker stimuli (Groves &amp; Thompson's parametric property), and recovers within
/// minutes; a fraction of it consolidates into long-term habituation, which decays over days (spontaneous recovery).
/// Both are held at five intensity anchors and generalise through a kernel of width = the stimulus generalisation.</item>
/// <item><b>Sensitisation</b> (incremental, in the "state" system, not stimulus-specific): grows with stimulus
/// intensity (strongly for intense stimuli), decays within minutes, and leaves a small long-term residue that decays
/// over days.</item>
/// </list>
/// Response = R₀(s)·(1 − H_long)·(1 − H_short) + sensitisation·g(s), with R₀ the initial fear times the shared
/// intensity gradient g. The model is non-associative: it has no contexts (so no renewal) and an outcome of 0 teaches
/// nothing; expectancy is the response without the short-term processes. Reinstatement: an aversive event adds
/// long-term sensitisation. The consolidation and long-term sensitisation terms are this implementation's choices
/// (Groves &amp; Thompson describe long-term habituation qualitatively).
/// </summary>
public sealed class DualProcessFearModel : IFearModel
{
    private const int Anchors = 5;
    private readonly FearParameters _p;
    private readonly double[] _short = new double[Anchors];
    private readonly double[] _long = new double[Anchors];
    private double _longDay;
    private double _sensitisation, _sensLong, _sensLongDay;
    private double _lastMinute = double.NaN;

    public string Name => "dual-process";

    public DualProcessFearModel(FearParameters parameters) => _p = parameters;

    private double Weight(int anchor, double intensity) => Math.Exp(-Math.Abs(intensity - anchor / (double)(Anchors - 1)) / Math.Max(0.02, _p.StimulusGeneralisation));

    private double At(double[] v, double intensity)
    {
        double s = 0, w = 0;
        for (int k = 0; k < Anchors; k++) { double wk = Weight(k, intensity); s += wk * v[k]; w += wk; }
        return s / w;
    }

    private double G(double intensity) => FearModels.Gradient(intensity, _p.IntensityExponent);

    /// <summary>Long-term processes decay over days; short-term ones over minutes.</summary>
    private void Advance(double day, double minute)
    {
        if (day > _longDay)
        {
            double f = Math.Exp(-(day - _longDay) / _p.ForgettingDays);
            for (int k = 0; k < Anchors; k++) _long[k] *= f;
            _longDay = day;
        }
        if (day > _sensLongDay) { _sensLong *= Math.Exp(-(day - _sensLongDay) / _p.ForgettingDays); _sensLongDay = day; }
        double now = day * 1440 + minute;
        if (!double.IsNaN(_lastMinute) && now > _lastMinute)
        {
            double gap = now - _lastMinute;
            double fh = Math.Exp(-gap / _p.HabituationRecoveryMinutes), fs = Math.Exp(-gap / _p.SensitisationDecayMinutes);
            for (int k = 0; k < Anchors; k++) _short[k] *= fh;
            _sensitisation *= fs;
        }
        _lastMinute = now;
    }

    private double LongAt(double intensity, double day)
    {
        double f = day > _longDay ? Math.Exp(-(day - _longDay) / _p.ForgettingDays) : 1;
        return At(_long, intensity) * f;
    }

    private double SensLongAt(double day) => _sensLong * (day > _sensLongDay ? Math.Exp(-(day - _sensLongDay) / _p.ForgettingDays) : 1);

    public double Expectancy(double intensity, ExposureContext context, double day) =>
        Math.Clamp(_p.InitialFear * G(intensity) * (1 - LongAt(intensity, day)) + SensLongAt(day) * G(intensity), 0, 1);

    public double Fear(double intensity, ExposureContext context, double day, double minute)
    {
        Advance(day, minute);
        double r = _p.InitialFear * G(intensity) * (1 - At(_long, intensity)) * (1 - At(_short, intensity)) + (_sensitisation + _sensLong) * G(intensity);
        return Math.Clamp(r, 0, 1);
    }

    public void Expose(double intensity, double fear, double minutes)
    {
        double rate = _p.HabituationRate * (1 - 0.6 * Math.Clamp(intensity, 0, 1)); // weaker stimuli habituate faster
        for (int k = 0; k < Anchors; k++)
        {
            double w = Weight(k, intensity);
            _short[k] = Math.Clamp(_short[k] + rate * w * minutes * (1 - _short[k]), 0, 0.95);
            _long[k] = Math.Clamp(_long[k] + _p.LongTermHabituationRate * _short[k] * w * minutes * (1 - _long[k]), 0, 0.95);
        }
        double i2 = Math.Clamp(intensity, 0, 1);
        _sensitisation = Math.Clamp(_sensitisation + _p.SensitisationRate * i2 * i2 * minutes * (1 - _sensitisation), 0, 1);
        _sensLong = Math.Clamp(_sensLong + 0.05 * _p.SensitisationRate * _sensitisation * minutes, 0, 1);
    }

    public double Learn(double intensity, ExposureContext context, double day, double outcome)
    {
        double prediction = Expectancy(intensity, context, day);
        if (outcome > 0) _sensLong = Math.Clamp(_sensLong + outcome * _p.ReinstatementStrength, 0, 1);
        return Math.Clamp(outcome, 0, 1) - prediction;
    }

    public void Reinstate(ExposureContext context, double day)
    {
        Advance(day, 0);
        _sensLong = Math.Clamp(_sensLong + _p.ReinstatementStrength, 0, 1);
    }
}
