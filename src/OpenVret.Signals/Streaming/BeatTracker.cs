using OpenVret.Signals.Ecg;
using OpenVret.Signals.Filters;
using OpenVret.Signals.Hrv;
using OpenVret.Signals.Ppg;

namespace OpenVret.Signals.Streaming;

/// <summary>
/// Incremental beat detection for a live ECG or PPG channel. New samples are cleaned causally (the offline
/// pipeline's filters run forward only, state kept between hops: a constant delay of a few milliseconds that
/// cancels in every interval), and the detector of the offline pipeline searches the new samples plus
/// <see cref="ContextSeconds"/> of cleaned signal; beats older than <see cref="LatencySeconds"/> are final. A beat's
/// quality is its correlation with the running average of the last 32 beats. Window features come from
/// the final beats through <see cref="BeatPipeline.Features"/>, like the offline pipeline's. The work per
/// hop is proportional to the hop, not to the window.
/// </summary>
public sealed class BeatTracker
{
    public const double ContextSeconds = 3, LatencySeconds = 1.5;
    private const int TemplateBeats = 32;

    private readonly Modality _modality;
    private readonly SampleRate _rate;
    private readonly string _prefix;
    private readonly int _half, _minDelay;
    private readonly List<(long Index, double Amplitude, double Quality)> _beats = new();
    private readonly double[] _templateSum;
    private readonly double[][] _templateRing;
    private int _templateCount, _templateNext;
    private long _finalUpTo = long.MinValue;
    private readonly List<QualityFlag> _pendingFlags = new();
    // Causal cleaning state and the cleaned signal of the last few seconds (absolute sample k at k % length).
    private readonly SosFilterState _band;
    private readonly CausalBoxcar? _powerline;
    private readonly double[] _clean;
    private long _cleanedUpTo = long.MinValue, _cleanValidFrom;
    private double _lastRaw = double.NaN;
    private int _heldSamples;
    private bool _inGap;

    public BeatTracker(Modality modality, SampleRate rate)
    {
        if (modality is not (Modality.Ecg or Modality.Ppg)) throw new SignalInputException("modality", modality.ToString(), "beat tracking needs ECG or PPG");
        _modality = modality; _rate = rate;
        _prefix = modality == Modality.Ecg ? "ECG" : "PPG";
        _half = rate.SamplesIn(modality == Modality.Ecg ? 0.25 : 0.3);
        _minDelay = rate.SamplesIn(0.3);
        _templateSum = new double[2 * _half + 1];
        _templateRing = new double[TemplateBeats][];
        if (modality == Modality.Ecg)
        {
            _band = Butterworth.Design(5, new FilterBand.HighPass(0.5), rate).CreateState();
            int w = EcgCleaner.PowerlineWidth(rate, 50);
            if (w > 1) _powerline = new CausalBoxcar(w);
        }
        else _band = Butterworth.Design(3, new FilterBand.BandPass(0.5, Math.Min(8, rate.NyquistHertz * 0.9)), rate).CreateState();
        _clean = new double[rate.SamplesIn(ContextSeconds + LatencySeconds + 12)];
    }

    /// <summary>
    /// Detects beats in the signal up to absolute sample <paramref name="end"/> (exclusive). <paramref name="read"/>
    /// copies samples [from, from + destination.Length) into destination (NaN where unknown);
    /// <paramref name="firstAvailable"/> is the oldest sample still held.
    /// </summary>
    public void Advance(long end, long firstAvailable, ReadSamples read)
    {
        long finalizeTo = end - _rate.SamplesIn(LatencySeconds);
        if (_finalUpTo == long.MinValue) { _finalUpTo = firstAvailable; _cleanedUpTo = firstAvailable; _cleanValidFrom = firstAvailable; }
        CleanUpTo(end, Math.Max(firstAvailable, end - _clean.Length + 1), read);
        if (finalizeTo <= _finalUpTo) return;
        long from = Math.Max(_cleanValidFrom, Math.Max(end - _clean.Length + 1, _finalUpTo - _rate.SamplesIn(ContextSeconds)));
        if (end - from >= _rate.SamplesIn(2))
        {
            int n = (int)(end - from);
                        var buf = Scratch.Rent(n);
            try
            {
                for (int i = 0; i < n; i++) buf[i] = _clean[(int)((from + i) % _clean.Length)];
                Detect(buf.AsSpan(0, n), from, finalizeTo);
            }
            finally { Scratch.Return(buf); }
        }
        _finalUpTo = finalizeTo;
    }

    /// <summary>Causal cleaning of the samples not yet cleaned. Short dropouts are held at the last value; a
    /// dropout longer than 1 s resets the filters and restarts detection after it.</summary>
    private void CleanUpTo(long end, long oldestNeeded, ReadSamples read)
    {
        if (_cleanedUpTo < oldestNeeded) { _cleanedUpTo = oldestNeeded; _cleanValidFrom = oldestNeeded; ResetFilters(); }
        int n = (int)(end - _cleanedUpTo);
        if (n <= 0) return;
                var buf = Scratch.Rent(n);
        try
        {
            var x = buf.AsSpan(0, n);
            read(_cleanedUpTo, x);
            int maxHold = _rate.SamplesIn(InputCheck.MaxBridgedGapSeconds);
            long at = _cleanedUpTo;
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (double.IsFinite(x[i])) { _lastRaw = x[i]; _heldSamples = 0; _inGap = false; continue; }
                if (_heldSamples < maxHold && double.IsFinite(_lastRaw)) { x[i] = _lastRaw; _heldSamples++; continue; }
                // A dropout longer than the hold: filter what came before, mark the gap, restart after it.
                if (i > start) FilterRun(x[start..i], at + start);
                _clean[(int)((at + i) % _clean.Length)] = double.NaN;
                if (!_inGap)
                    _pendingFlags.Add(new QualityFlag("signal_gap", $"{_prefix}: no usable signal for more than {InputCheck.MaxBridgedGapSeconds} s; beat detection restarted"));
                _inGap = true;
                _cleanValidFrom = at + i + 1;
                ResetFilters();
                start = i + 1;
            }
            if (n > start) FilterRun(x[start..n], at + start);
            _cleanedUpTo = end;
        }
        finally { Scratch.Return(buf); }
    }

    private void FilterRun(Span<double> run, long at)
    {
        _band.Process(run);
        _powerline?.Process(run);
        for (int i = 0; i < run.Length; i++) _clean[(int)((at + i) % _clean.Length)] = run[i];
    }

    private void ResetFilters()
    {
        _band.Reset();
        _powerline?.Reset();
        _lastRaw = double.NaN;
        _heldSamples = 0;
    }

    public delegate void ReadSamples(long from, Span<double> destination);

    private void Detect(ReadOnlySpan<double> clean, long from, long finalizeTo)
    {
        if (InputCheck.IsFlat(clean, 1e-9)) return;
        int[] peaks = _modality == Modality.Ecg ? RPeakDetector.Detect(clean, _rate) : PpgProcessing.DetectSystolicPeaks(clean, _rate);
        foreach (var p in peaks)
        {
            long abs = from + p;
            if (abs < _finalUpTo || abs >= finalizeTo) continue;
            if (_beats.Count > 0 && abs - _beats[^1].Index <= _minDelay) continue; // seen in the previous hop's segment
            double q = double.NaN;
            if (p - _half >= 0 && p + _half < clean.Length)
            {
                var wave = clean.Slice(p - _half, 2 * _half + 1);
                if (_templateCount >= 3) q = Correlate(wave);
                AddToTemplate(wave);
            }
            _beats.Add((abs, clean[p], q));
        }
    }

    private double Correlate(ReadOnlySpan<double> wave)
    {
        int w = wave.Length;
        double ma = 0, mb = 0;
        for (int i = 0; i < w; i++) { ma += wave[i]; mb += _templateSum[i]; }
        ma /= w; mb /= w;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < w; i++)
        {
            double da = wave[i] - ma, db = _templateSum[i] - mb;
            sab += da * db; saa += da * da; sbb += db * db;
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : 0;
    }

    private void AddToTemplate(ReadOnlySpan<double> wave)
    {
        var slot = _templateRing[_templateNext] ??= new double[wave.Length];
        if (_templateCount == TemplateBeats)
            for (int i = 0; i < slot.Length; i++) _templateSum[i] -= slot[i];
        else _templateCount++;
        wave.CopyTo(slot);
        for (int i = 0; i < slot.Length; i++) _templateSum[i] += slot[i];
        _templateNext = (_templateNext + 1) % TemplateBeats;
    }

    /// <summary>Features of the final beats in [windowStart, windowEnd) (absolute samples); drops older beats.</summary>
    public FeatureSet Features(long windowStart, long windowEnd, HrvOptions hrv, bool correctArtifacts = true)
    {
        int drop = 0;
        while (drop < _beats.Count && _beats[drop].Index < windowStart) drop++;
        if (drop > 0) _beats.RemoveRange(0, drop);
        var inWindow = _beats.Where(b => b.Index < windowEnd).ToList();
        var raw = inWindow.Select(b => (int)(b.Index - windowStart)).ToArray();
        var flags = new List<QualityFlag>(_pendingFlags);
        _pendingFlags.Clear();
        var peaks = BeatPipeline.Correct(_prefix, raw, _rate, correctArtifacts, (int)(windowEnd - windowStart), flags, out _);
        return BeatPipeline.Features(_prefix, peaks, raw, inWindow.Select(b => b.Amplitude).ToArray(),
            inWindow.Select(b => b.Quality).ToArray(), _rate, (windowEnd - windowStart) / _rate.Hertz, hrv, flags);
    }
}
