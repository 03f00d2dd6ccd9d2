using OpenVret.Signals.Filters;

namespace OpenVret.Signals.Ecg;

public enum RPeakMethod
{
    /// <summary>
    /// NeuroKit2's default: QRS complexes where the smoothed absolute gradient exceeds 1.5x its 0.75 s
    /// moving average; the R-peak is the most prominent maximum inside each complex (Makowski et al. 2021,
    /// neurokit2.ecg_findpeaks "neurokit").
    /// </summary>
    NeuroKit,
    /// <summary>
    /// Pan &amp; Tompkins (1985), IEEE Trans Biomed Eng 32(3):230-236: derivative, squaring, 120 ms moving-window
    /// integration, adaptive signal/noise thresholds with search-back. Returns the integrated-signal maxima;
    /// <see cref="RefineToR"/> moves them to the R wave (the pipeline does).
    /// </summary>
    PanTompkins1985,
}

/// <summary>R-peak detection on a cleaned ECG. Returns 0-based sample indices in increasing order.</summary>
public static class RPeakDetector
{
    public static int[] Detect(ReadOnlySpan<double> cleanedEcg, SampleRate rate, RPeakMethod method = RPeakMethod.NeuroKit) => method switch
    {
        RPeakMethod.NeuroKit => GradientQrs(cleanedEcg, rate),
        RPeakMethod.PanTompkins1985 => PanTompkins(cleanedEcg, rate),
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    /// <summary>Shared "segment of interest, then most prominent maximum" step of the NeuroKit ECG and Elgendi PPG detectors.</summary>
    internal static int[] MostProminentInBlocks(ReadOnlySpan<double> signal, ReadOnlySpan<double> feature, ReadOnlySpan<double> threshold,
        double minLength, int minDelay)
    {
        var begins = new List<int>();
        var ends = new List<int>();
        for (int i = 0; i + 1 < signal.Length; i++)
        {
            bool a = feature[i] > threshold[i], b = feature[i + 1] > threshold[i + 1];
            if (!a && b) begins.Add(i);
            else if (a && !b && begins.Count > 0) ends.Add(i);
        }
        return MostProminentInBlocks(signal, begins, ends, minLength, minDelay);
    }

    private static int[] MostProminentInBlocks(ReadOnlySpan<double> signal, List<int> begins, List<int> ends, double minLength, int minDelay)
    {
        int count = Math.Min(begins.Count, ends.Count);
        if (count == 0) return Array.Empty<int>();
        double meanLen = 0;
        for (int i = 0; i < count; i++) meanLen += ends[i] - begins[i];
        double minLen = minLength >= 0 ? minLength : -minLength * meanLen / count;
        var peaks = new List<int>(count);
        int last = 0;
        for (int i = 0; i < count; i++)
        {
            int beg = begins[i], end = ends[i];
            if (end - beg < minLen) continue;
            int p = PeakFinding.MostProminentMaximum(signal, beg, end);
            if (p < 0) continue;
            if (p - last > minDelay) { peaks.Add(p); last = p; }
        }
        return peaks.ToArray();
    }

    private static int[] GradientQrs(ReadOnlySpan<double> x, SampleRate rate)
    {
        double fs = rate.Hertz;
        int n = x.Length;
        if (n < 3) return Array.Empty<int>();
        // QRS complexes: where the |gradient| smoothed over 0.1 s exceeds 1.5x its own 0.75 s average. The
        // smoothed gradient is produced block by block into a window that holds only the 0.75 s the average
        // needs, so a record of any length costs a few kilobytes of work memory.
        int size = (int)Math.Round(0.75 * fs, MidpointRounding.ToEven);
        int fwd = (size - 1) / 2, back = size - 1 - fwd;
        var smooth = new SmoothWindow(new AbsGradientSmoother(n, (int)Math.Round(0.1 * fs, MidpointRounding.ToEven)), size + 1);
        try
        {
            smooth.EnsureThrough(x, Math.Min(fwd, n - 1), keepFrom: 0);
            double first = smooth[0];
            double At(SmoothWindow w, int j) => j <= 0 ? first : w[Math.Min(j, n - 1)];
            double sum = 0;
            for (int i = -back; i <= fwd; i++) sum += At(smooth, i);
            var begins = new List<int>(); var ends = new List<int>();
            double scale = 1.5 / size;
            bool above = first > sum * scale;
            static void Step(bool now, int i, ref bool above, List<int> begins, List<int> ends)
            {
                if (!above && now) begins.Add(i - 1);
                else if (above && !now && begins.Count > 0) ends.Add(i - 1);
                above = now;
            }
            // Edge samples extend the signal's end values; interior ones need no clamping.
            int interiorFrom = Math.Min(n, back + 1), interiorTo = Math.Max(interiorFrom - 1, n - 1 - fwd);
            int k = 1;
            while (k < n)
            {
                smooth.EnsureThrough(x, Math.Min(k + fwd, n - 1), keepFrom: Math.Max(k - 1 - back, 0));
                if (k < interiorFrom || k > interiorTo)
                {
                    sum += At(smooth, k + fwd) - At(smooth, k - 1 - back);
                    Step(smooth[k] > sum * scale, k, ref above, begins, ends);
                    k++;
                    continue;
                }
                // Interior run over what the window holds: direct reads.
                var win = smooth.Values; int at = smooth.First;
                int stop = Math.Min(interiorTo, smooth.Produced - 1 - fwd);
                for (; k <= stop; k++)
                {
                    sum += win[k + fwd - at] - win[k - 1 - back - at];
                    bool now = win[k - at] > sum * scale;
                    if (now != above) Step(now, k, ref above, begins, ends);
                }
            }
            // Minimum QRS length is 0.4 x the mean detected QRS length (negative = relative).
            return MostProminentInBlocks(x, begins, ends, -0.4, (int)Math.Round(0.3 * fs, MidpointRounding.ToEven));
        }
        finally { smooth.Dispose(); }
    }

    /// <summary>
    /// Centred moving average (width <paramref name="size"/>, edge values extended) of |numpy.gradient(x)|,
    /// without materialising the gradient: the same sums, in the same order, as smoothing a gradient array.
    /// </summary>
    internal static void SmoothedAbsGradient(ReadOnlySpan<double> x, int size, Span<double> smooth) =>
        new AbsGradientSmoother(x.Length, size).Fill(x, smooth);

    /// <summary>The smoothed |gradient| of a signal of length n, produced in order, any number of values per call.</summary>
    private sealed class AbsGradientSmoother(int n, int size)
    {
        private readonly int _fwd = (size - 1) / 2, _back = size - 1 - (size - 1) / 2;
        private readonly double _inv = 1.0 / Math.Max(1, size);
        private double _sum;
        public int Next { get; private set; }

        private double A(ReadOnlySpan<double> x, int j) =>
            j <= 0 ? Math.Abs(x[1] - x[0]) : j >= n - 1 ? Math.Abs(x[n - 1] - x[n - 2]) : Math.Abs((x[j + 1] - x[j - 1]) * 0.5);

        /// <summary>Writes the next <c>destination.Length</c> values.</summary>
        public void Fill(ReadOnlySpan<double> x, Span<double> destination)
        {
            int k = Next, end = k + destination.Length, o = 0;
            if (size <= 1) { for (; k < end; k++) destination[o++] = A(x, k); Next = end; return; }
            int fwd = _fwd, back = _back;
            if (k == 0 && k < end)
            {
                for (int j = -back; j <= fwd; j++) _sum += A(x, j);
                destination[o++] = _sum * _inv;
                k = 1;
            }
            // Interior: the entering index k + fwd and the leaving index k - 1 - back both lie in [1, n - 2].
            int interiorFrom = Math.Max(1, back + 2), interiorTo = n - 2 - fwd;
            double sum = _sum;
            for (; k < end && k < interiorFrom; k++) { sum += A(x, k + fwd) - A(x, k - 1 - back); destination[o++] = sum * _inv; }
            int stop = Math.Min(end - 1, interiorTo);
            for (; k <= stop; k++)
            {
                int a = k + fwd, b = k - 1 - back;
                sum += Math.Abs((x[a + 1] - x[a - 1]) * 0.5) - Math.Abs((x[b + 1] - x[b - 1]) * 0.5);
                destination[o++] = sum * _inv;
            }
            for (; k < end; k++) { sum += A(x, k + fwd) - A(x, k - 1 - back); destination[o++] = sum * _inv; }
            _sum = sum;
            Next = end;
        }
    }

    /// <summary>A sliding window over a produced series: holds [First, Produced), refilled a block at a time.</summary>
    private sealed class SmoothWindow(AbsGradientSmoother source, int span) : IDisposable
    {
        private const int Block = 4096;
        public double[] Values { get; } = Scratch.Rent(span + Block);
        public int First { get; private set; }
        public int Produced => source.Next;
        public double this[int j] => Values[j - First];

        /// <summary>Makes index <paramref name="j"/> available, dropping values before <paramref name="keepFrom"/> if room is needed.</summary>
        public void EnsureThrough(ReadOnlySpan<double> x, int j, int keepFrom)
        {
            while (j >= Produced)
            {
                int held = Produced - First;
                if (held + Block > Values.Length)
                {
                    int drop = Math.Min(Math.Max(0, keepFrom - First), held);
                    Array.Copy(Values, drop, Values, 0, held - drop);
                    First += drop; held -= drop;
                }
                int count = Math.Min(Math.Min(Block, Values.Length - held), x.Length - Produced);
                source.Fill(x, Values.AsSpan(held, count));
            }
        }

        public void Dispose() => Scratch.Return(Values);
    }

    private static int[] PanTompkins(ReadOnlySpan<double> cleaned, SampleRate rate)
    {
        double fs = rate.Hertz;
        int n = cleaned.Length;
        if (n < 3) return Array.Empty<int>();
        // Five-point derivative (Pan & Tompkins eq. 5), squaring, moving-window integration (120 ms).
        var sq = new double[n];
        for (int i = 2; i < n - 2; i++)
        {
            double d = (2 * cleaned[i + 2] + cleaned[i + 1] - cleaned[i - 1] - 2 * cleaned[i - 2]) * (fs / 8);
            sq[i] = d * d;
        }
        int w = Math.Max(1, (int)(0.12 * fs));
        var mwi = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            s += sq[i];
            if (i >= w) s -= sq[i - w];
            mwi[i] = s / w;
        }
        // Ignore the first 200 ms (filter start-up).
        int skip = Math.Min(n, (int)(0.2 * fs));
        for (int i = 0; i < skip; i++) mwi[i] = 0;

        // Maxima of the integrated signal: 45-85 ms after the R wave (NeuroKit2 returns these).
        return AdaptiveThreshold(mwi, fs).ToArray();
    }

    /// <summary>
    /// Moves each detection to the R wave: the largest deflection of the zero-phase cleaned ECG within
    /// <paramref name="searchBackSeconds"/> before it, with the lead's polarity decided once per record
    /// (median of the largest positive vs negative deflections).
    /// </summary>
    public static int[] RefineToR(ReadOnlySpan<double> cleanedZeroPhase, IReadOnlyList<int> detections, SampleRate rate, double searchBackSeconds = 0.15)
    {
        int n = cleanedZeroPhase.Length;
        int back = (int)Math.Round(searchBackSeconds * rate.Hertz), minDelay = (int)Math.Round(0.2 * rate.Hertz);
        var pos = new List<double>(); var neg = new List<double>();
        foreach (var d in detections)
        {
            double mx = double.NegativeInfinity, mn = double.PositiveInfinity;
            for (int i = Math.Max(0, d - back); i <= Math.Min(n - 1, d); i++) { mx = Math.Max(mx, cleanedZeroPhase[i]); mn = Math.Min(mn, cleanedZeroPhase[i]); }
            pos.Add(mx); neg.Add(-mn);
        }
        pos.Sort(); neg.Sort();
        double sign = pos.Count == 0 || pos[pos.Count / 2] >= neg[neg.Count / 2] ? 1 : -1;
        var refined = new List<int>(detections.Count);
        foreach (var d in detections)
        {
            int from = Math.Max(0, d - back), to = Math.Min(n - 1, d);
            int best = from; double bestV = double.NegativeInfinity;
            for (int i = from; i <= to; i++)
            {
                double v = sign * cleanedZeroPhase[i];
                if (v > bestV) { bestV = v; best = i; }
            }
            if (refined.Count == 0 || best - refined[^1] > minDelay) refined.Add(best);
        }
        return refined.ToArray();
    }

    /// <summary>Pan-Tompkins dual thresholds on the integrated signal with search-back for missed beats.</summary>
    private static List<int> AdaptiveThreshold(double[] mwi, double fs)
    {
        int minDistance = (int)(0.25 * fs);
        double refractory = 0.3 * fs;
        var signalPeaks = new List<int> { 0 };
        var candidates = new List<int>();
        var candidateIndexOfSignal = new List<int>();
        // Learning phase (Pan & Tompkins 1985, sec. III): initialise the signal and noise levels from the
        // first 2 s so that start-up transients are not taken for beats.
        int learn = Math.Min(mwi.Length, (int)(2 * fs));
        double maxL = 0, meanL = 0;
        for (int i = 0; i < learn; i++) { maxL = Math.Max(maxL, mwi[i]); meanL += mwi[i]; }
        meanL /= Math.Max(1, learn);
        double spki = 0.25 * maxL, npki = 0.5 * meanL;
        double thr1 = npki + 0.25 * (spki - npki), thr2 = 0.5 * thr1;
        int rrMissed = 0;
        int index = 0;
        for (int i = 1; i < mwi.Length - 1; i++)
        {
            if (!(mwi[i - 1] < mwi[i] && mwi[i + 1] < mwi[i])) continue;
            int peak = i;
            candidates.Add(peak);
            if (mwi[peak] > thr1 && peak - signalPeaks[^1] > refractory)
            {
                signalPeaks.Add(peak);
                candidateIndexOfSignal.Add(index);
                spki = 0.125 * mwi[peak] + 0.875 * spki;
                if (rrMissed != 0 && signalPeaks.Count >= 3 && signalPeaks[^1] - signalPeaks[^2] > rrMissed && candidateIndexOfSignal.Count >= 2)
                {
                    // Search back between the last two beats for the largest candidate above the lower threshold.
                    int from = candidateIndexOfSignal[^2] + 1, to = candidateIndexOfSignal[^1];
                    int best = -1; double bestV = double.NegativeInfinity;
                    for (int c = from; c < to; c++)
                    {
                        int m = candidates[c];
                        if (m - signalPeaks[^2] > minDistance && signalPeaks[^1] - m > minDistance && mwi[m] > thr2 && mwi[m] > bestV)
                        { bestV = mwi[m]; best = m; }
                    }
                    if (best >= 0)
                    {
                        int lastBeat = signalPeaks[^1];
                        signalPeaks[^1] = best;
                        signalPeaks.Add(lastBeat);
                    }
                }
            }
            else
            {
                npki = 0.125 * mwi[peak] + 0.875 * npki;
            }
            thr1 = npki + 0.25 * (spki - npki);
            thr2 = 0.5 * thr1;
            if (signalPeaks.Count > 8)
            {
                double sum = 0;
                for (int k = signalPeaks.Count - 8; k < signalPeaks.Count; k++) sum += signalPeaks[k] - signalPeaks[k - 1];
                rrMissed = (int)(1.66 * (sum / 8));
            }
            index++;
        }
        signalPeaks.RemoveAt(0);
        return signalPeaks;
    }
}
