namespace OpenVret.Signals.Filters;

/// <summary>
/// Streaming causal moving average (the forward half of <see cref="MovingAverage.FilterZeroPhase(ReadOnlySpan{double}, int)"/>):
/// starts at the steady state of its first sample; chunks of any size give the same output as one call.
/// </summary>
public sealed class CausalBoxcar(int width)
{
    private readonly double[] _history = new double[Math.Max(1, width)];
    private int _next;
    private double _sum;
    private bool _started;

    public void Reset() { _started = false; _next = 0; _sum = 0; }

    public void Process(Span<double> x)
    {
        int w = _history.Length;
        for (int i = 0; i < x.Length; i++)
        {
            if (!_started) { Array.Fill(_history, x[i]); _sum = x[i] * w; _started = true; }
            _sum += x[i] - _history[_next];
            _history[_next] = x[i];
            if (++_next == w) { _next = 0; _sum = 0; foreach (var v in _history) _sum += v; } // exact re-sum each turn: no drift
            x[i] = _sum / w;
        }
    }
}
