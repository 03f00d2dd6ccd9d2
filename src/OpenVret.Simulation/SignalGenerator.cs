namespace OpenVret.Simulation;

/// <summary>Sampling rates of the generated channels (defaults: a chest ECG and an Empatica-like wristband).</summary>
public sealed record GeneratorRates(double Ecg = 250, double Ppg = 64, double Eda = 4, double Respiration = 25, double Temperature = 4, double Accelerometer = 32);

public enum ArtifactKind { Motion, ElectrodeLoss, Dropout }

/// <summary>An artefact to inject: motion (wrist moves: ACC bursts, PPG and EDA disturbed), ECG electrode loss (NaN), or a dropout of every channel (NaN).</summary>
public sealed record Artifact(ArtifactKind Kind, double StartSeconds, double DurationSeconds);

/// <summary>One generated stretch of every channel, with the ground truth the checks use.</summary>
public sealed record GeneratedChunk(double StartSeconds, double[] Ecg, double[] Ppg, double[] Eda, double[] Respiration, double[] Temperature,
    double[] AccX, double[] AccY, double[] AccZ, IReadOnlyList<double> RPeakTimes, IReadOnlyList<double> ScrOnsetTimes);

/// <summary>
/// Signal-level physiology driven by an arousal time course (0-1), streaming in chunks of any length with
/// continuous state:
/// <list type="bullet">
/// <item>ECG: McSharry et al. (2003) dynamical model (IEEE TBME 50:289), P-Q-R-S-T Gaussian events on a
///   limit cycle whose angular speed follows heart rate. Heart rate rises with arousal; HRV has LF (0.1 Hz)
///   and HF (respiratory) components that shrink with arousal. Baseline wander follows respiration.</item>
/// <item>PPG/BVP: a systolic and a dicrotic wave per beat, after a pulse transit time; amplitude falls with
///   arousal (vasoconstriction).</item>
/// <item>EDA: tonic level rising slowly with arousal, plus skin-conductance responses (Bateman shape:
///   rise 0.75 s, recovery 2 s; latency 1-3 s) at a rate of 1 + 6 x arousal per minute (Boucsein 2012).</item>
/// <item>Respiration: 12 + 8 x arousal breaths per minute. Skin temperature: falls slowly with arousal.
///   Accelerometer: gravity plus sensor noise.</item>
/// </list>
/// Artefacts are injected on request. Deterministic for a seed.
/// </summary>
public sealed class SignalGenerator
{
    private static readonly double[] Theta = { -1.22, -0.26, 0, 0.26, 1.75 };
    private static readonly double[] A = { 1.2, -5, 30, -7.5, 0.75 };
    private static readonly double[] B = { 0.25, 0.1, 0.1, 0.1, 0.4 };

    private readonly PatientProfile _p;
    private readonly GeneratorRates _r;
    // One random stream per channel, so the output does not depend on how the time is chunked.
    private readonly Random _rng, _ecgRng, _ppgRng, _edaRng, _scrRng, _rspRng, _tempRng, _accRng;
    private readonly List<Artifact> _artifacts;
    private readonly double _lfPhase, _hfPhase;
    private double _t;               // seconds generated so far
    private double _x = -1, _y, _z;  // ECG limit-cycle state
    private double _respPhase, _tonic, _temp;
    private readonly List<double> _pendingPulses = new();   // times of PPG pulses not yet fully written
    private readonly List<(double Onset, double Amp)> _scrs = new();
    private double _nextScr;

    public SignalGenerator(PatientProfile profile, int seed, GeneratorRates? rates = null, IEnumerable<Artifact>? artifacts = null)
    {
        _p = profile;
        _r = rates ?? new GeneratorRates();
        _rng = new Random(seed);
        _ecgRng = new Random(_rng.Next()); _ppgRng = new Random(_rng.Next()); _edaRng = new Random(_rng.Next()); _scrRng = new Random(_rng.Next());
        _rspRng = new Random(_rng.Next()); _tempRng = new Random(_rng.Next()); _accRng = new Random(_rng.Next());
        _artifacts = (artifacts ?? Array.Empty<Artifact>()).ToList();
        _lfPhase = _rng.NextDouble() * 2 * Math.PI;
        _hfPhase = _rng.NextDouble() * 2 * Math.PI;
        _tonic = profile.RestingScl;
        _temp = 33.5;
        _nextScr = Exponential(1.0 / 60);
        // Let the ECG limit cycle settle onto its orbit before anything is emitted (start-up transient).
        double h = 1 / (_r.Ecg * 4), omega = 2 * Math.PI * HeartRate(0) / 60;
        for (int i = 0; i < (int)(5 / h); i++) Rk4(h, omega, 0);
    }

    public GeneratorRates Rates => _r;

    private static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
    private double Exponential(double rate) => -Math.Log(1 - _scrRng.NextDouble()) / rate;

    /// <summary>Intended heart rate (bpm) at an arousal level: what the checks compare against.</summary>
    public double HeartRate(double arousal) => _p.RestingHeartRate + _p.HeartRateReactivity * arousal;
    public static double BreathsPerMinute(double arousal) => 12 + 8 * arousal;

    private bool In(ArtifactKind kind, double t) => _artifacts.Any(a => a.Kind == kind && t >= a.StartSeconds && t < a.StartSeconds + a.DurationSeconds);

    /// <summary>Generates the next <paramref name="seconds"/> of every channel.</summary>
    public GeneratedChunk Next(double seconds, Func<double, double> arousalAt)
    {
        double t0 = _t, t1 = _t + seconds;
        var rPeaks = new List<double>();
        var scrOnsets = new List<double>();

        // ECG (and the beat times that drive the PPG), integrated with RK4 at 4 sub-steps per sample.
        int nEcg = Count(t0, t1, _r.Ecg);
        var ecg = new double[nEcg];
        double h = 1 / (_r.Ecg * 4);
        for (int i = 0; i < nEcg; i++)
        {
            double ts = Time(t0, i, _r.Ecg);
            for (int s = 0; s < 4; s++)
            {
                double t = ts + s * h, a = arousalAt(t);
                double hrv = (1 - 0.6 * a) * (0.04 * Math.Sin(2 * Math.PI * 0.1 * t + _lfPhase) + 0.03 * Math.Sin(_respPhase + _hfPhase));
                double omega = 2 * Math.PI * HeartRate(a) / 60 * (1 + hrv);
                double z0 = 0.15 * Math.Sin(_respPhase);
                double thetaBefore = Math.Atan2(_y, _x);
                Rk4(h, omega, z0);
                double thetaAfter = Math.Atan2(_y, _x);
                if (thetaBefore < 0 && thetaAfter >= 0 && thetaBefore > -1) { rPeaks.Add(t + h); _pendingPulses.Add(t + h + 0.25 - 0.05 * a); }
                _respPhase += 2 * Math.PI * BreathsPerMinute(a) / 60 * h;
            }
            double v = _z * 4 + 0.01 * Gauss(_ecgRng);   // R wave about 1 mV
            if (In(ArtifactKind.ElectrodeLoss, ts) || In(ArtifactKind.Dropout, ts)) v = double.NaN;
            else if (In(ArtifactKind.Motion, ts)) v += 0.3 * Math.Sin(2 * Math.PI * 1.3 * ts);
            ecg[i] = v;
        }

        // PPG: systolic + dicrotic Gaussian waves at each pulse time.
        int nPpg = Count(t0, t1, _r.Ppg);
        var ppg = new double[nPpg];
        for (int i = 0; i < nPpg; i++)
        {
            double t = Time(t0, i, _r.Ppg), a = arousalAt(t);
            double amp = 1 - 0.4 * a, v = 0;
            foreach (var pt in _pendingPulses)
            {
                double d = t - pt;
                if (d < -0.4 || d > 0.8) continue;
                v += amp * (Math.Exp(-d * d / (2 * 0.08 * 0.08)) + 0.4 * Math.Exp(-(d - 0.3) * (d - 0.3) / (2 * 0.12 * 0.12)));
            }
            v += 0.05 * Math.Sin(_respPhase) + 0.01 * Gauss(_ppgRng);
            if (In(ArtifactKind.Dropout, t)) v = double.NaN;
            else if (In(ArtifactKind.Motion, t)) v += 2 * Math.Sin(2 * Math.PI * 2.1 * t) + Gauss(_ppgRng);
            ppg[i] = v;
        }
        _pendingPulses.RemoveAll(pt => pt < t1 - 1);

        // EDA: tonic + SCRs (Bateman functions).
        int nEda = Count(t0, t1, _r.Eda);
        var eda = new double[nEda];
        for (int i = 0; i < nEda; i++)
        {
            double t = Time(t0, i, _r.Eda), a = arousalAt(t), dt = 1 / _r.Eda;
            _tonic += (_p.RestingScl + 0.5 * _p.SclReactivity * a - _tonic) * dt / 30;
            while (_nextScr <= t)
            {
                double onset = _nextScr + 1 + 2 * _scrRng.NextDouble();
                _scrs.Add((onset, _p.SclReactivity * 0.1 * (0.5 + a) * Math.Exp(0.4 * Gauss(_scrRng))));
                scrOnsets.Add(onset);
                _nextScr += Exponential((1 + 6 * arousalAt(_nextScr)) / 60);
            }
            double v = _tonic;
            foreach (var (onset, amp) in _scrs)
            {
                double d = t - onset;
                if (d > 0) v += amp * 1.6 * (Math.Exp(-d / 2) - Math.Exp(-d / 0.75));
            }
            v += 0.005 * Gauss(_edaRng);
            if (In(ArtifactKind.Dropout, t)) v = double.NaN;
            else if (In(ArtifactKind.Motion, t)) v += 0.5 * Math.Abs(Gauss(_edaRng));
            eda[i] = v;
        }
        _scrs.RemoveAll(s => t1 - s.Onset > 30);

        // Respiration belt, skin temperature, accelerometer.
        int nRsp = Count(t0, t1, _r.Respiration);
        var rsp = new double[nRsp];
        double phase = _beltPhase;
        for (int i = 0; i < nRsp; i++)
        {
            double t = Time(t0, i, _r.Respiration), a = arousalAt(t);
            phase += 2 * Math.PI * BreathsPerMinute(a) / 60 / _r.Respiration;
            rsp[i] = In(ArtifactKind.Dropout, t) ? double.NaN : (1 - 0.3 * a) * Math.Sin(phase) + 0.05 * Gauss(_rspRng);
        }
        _beltPhase = phase;
        int nTemp = Count(t0, t1, _r.Temperature);
        var temp = new double[nTemp];
        for (int i = 0; i < nTemp; i++)
        {
            double t = Time(t0, i, _r.Temperature), a = arousalAt(t);
            _temp += (33.5 - 1.0 * a - _temp) / _r.Temperature / 120;
            temp[i] = In(ArtifactKind.Dropout, t) ? double.NaN : _temp + 0.02 * Gauss(_tempRng);
        }
        int nAcc = Count(t0, t1, _r.Accelerometer);
        var ax = new double[nAcc]; var ay = new double[nAcc]; var az = new double[nAcc];
        for (int i = 0; i < nAcc; i++)
        {
            double t = Time(t0, i, _r.Accelerometer);
            bool motion = In(ArtifactKind.Motion, t);
            ax[i] = 0.01 * Gauss(_accRng) + (motion ? 0.4 * Math.Sin(2 * Math.PI * 2.1 * t) : 0);
            ay[i] = 0.01 * Gauss(_accRng) + (motion ? 0.3 * Math.Cos(2 * Math.PI * 1.7 * t) : 0);
            az[i] = 1 + 0.01 * Gauss(_accRng) + (motion ? 0.3 * Gauss(_accRng) : 0);
            if (In(ArtifactKind.Dropout, t)) ax[i] = ay[i] = az[i] = double.NaN;
        }
        _t = t1;
        return new GeneratedChunk(t0, ecg, ppg, eda, rsp, temp, ax, ay, az, rPeaks, scrOnsets);
    }

    private double _beltPhase;

    /// <summary>Samples of a channel at <paramref name="rate"/> whose times fall in [t0, t1) on the session grid.</summary>
    private static int Count(double t0, double t1, double rate) => (int)(Math.Ceiling(t1 * rate - 1e-9) - Math.Ceiling(t0 * rate - 1e-9));
    private static double Time(double t0, int i, double rate) => (Math.Ceiling(t0 * rate - 1e-9) + i) / rate;

    private void Rk4(double h, double omega, double z0)
    {
        (double, double, double) F(double x, double y, double z)
        {
            double alpha = 1 - Math.Sqrt(x * x + y * y), th = Math.Atan2(y, x), dz = 0;
            for (int k = 0; k < 5; k++)
            {
                double d = Math.IEEERemainder(th - Theta[k], 2 * Math.PI);
                dz -= A[k] * d * Math.Exp(-d * d / (2 * B[k] * B[k]));
            }
            return (alpha * x - omega * y, alpha * y + omega * x, omega * dz - (z - z0));
        }
        var (k1x, k1y, k1z) = F(_x, _y, _z);
        var (k2x, k2y, k2z) = F(_x + h / 2 * k1x, _y + h / 2 * k1y, _z + h / 2 * k1z);
        var (k3x, k3y, k3z) = F(_x + h / 2 * k2x, _y + h / 2 * k2y, _z + h / 2 * k2z);
        var (k4x, k4y, k4z) = F(_x + h * k3x, _y + h * k3y, _z + h * k3z);
        _x += h / 6 * (k1x + 2 * k2x + 2 * k3x + k4x);
        _y += h / 6 * (k1y + 2 * k2y + 2 * k3y + k4y);
        _z += h / 6 * (k1z + 2 * k2z + 2 * k3z + k4z);
    }
}
