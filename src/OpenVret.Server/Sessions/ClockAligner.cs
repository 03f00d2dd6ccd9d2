namespace OpenVret.Server.Sessions;

/// <summary>
/// Maps one device's clock onto session time. Each batch gives a pair (device time of its last sample, session
/// time of its arrival); arrival - device time overestimates the true offset by the network and buffering delay,
/// which is never negative, so the lower envelope of those offsets is the offset. The envelope is kept as the
/// minimum per bucket of <see cref="BucketSeconds"/>, and a least-squares line through the bucket minima gives
/// offset and drift (clock rate error). A point that departs from the prediction by more than
/// <see cref="JumpSeconds"/> is a clock jump (the device's clock was set): the estimate restarts from it.
/// </summary>
public sealed class ClockAligner
{
    public const double BucketSeconds = 5;
    public const int Buckets = 36;           // three minutes of history
    public const double JumpSeconds = 2;

    private readonly List<(long Bucket, double Device, double Offset)> _minima = new(Buckets + 1);
    private double _a, _b;                    // offset(d) = _a + _b * (d - _d0)
    private double _d0 = double.NaN;

    public int Jumps { get; private set; }
    public bool HasEstimate => !double.IsNaN(_d0);
    /// <summary>Offset (s) to add to a device time at device time <paramref name="device"/>.</summary>
    public double Offset(double device) => HasEstimate ? _a + _b * (device - _d0) : 0;
    /// <summary>Estimated drift of the device clock in parts per million (positive: device clock runs slow).</summary>
    public double DriftPpm => _b * 1e6;

    public double ToSession(double device) => device + Offset(device);

    /// <summary>Adds one observation. Returns true if it was a clock jump (the estimate was reset).</summary>
    public bool Observe(double deviceTime, double arrivalSessionTime)
    {
        if (!double.IsFinite(deviceTime) || !double.IsFinite(arrivalSessionTime)) return false;
        double offset = arrivalSessionTime - deviceTime;
        bool jump = false;
        if (HasEstimate)
        {
            double predicted = Offset(deviceTime);
            // Network delay makes the offset larger than predicted by up to a few seconds at worst; a smaller
            // offset (time travel) or a much larger one means the clock was set.
            if (offset < predicted - JumpSeconds || offset > predicted + JumpSeconds * 5)
            {
                _minima.Clear();
                Jumps++;
                jump = true;
            }
        }
        long bucket = (long)Math.Floor(arrivalSessionTime / BucketSeconds);
        // Arrivals are not strictly ordered (delays vary): one that falls before the newest bucket joins it.
        if (_minima.Count > 0 && bucket <= _minima[^1].Bucket)
        {
            if (offset < _minima[^1].Offset) _minima[^1] = (_minima[^1].Bucket, deviceTime, offset);
        }
        else
        {
            _minima.Add((bucket, deviceTime, offset));
            if (_minima.Count > Buckets) _minima.RemoveAt(0);
        }
        Fit();
        return jump;
    }

    private void Fit()
    {
        // The bucket still filling has seen few arrivals, so its minimum sits high: fit the complete buckets only.
        var done = _minima.Take(_minima.Count - 1).ToList();
        _d0 = _minima[0].Device;
        if (done.Count < 3)
        {
            _a = _minima.Min(m => m.Offset);
            _b = 0;
            return;
        }
        int n = done.Count;
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        foreach (var (_, d, o) in done) { double x = d - _d0; sx += x; sy += o; sxx += x * x; sxy += x * o; }
        double den = n * sxx - sx * sx;
        _b = den > 1e-9 ? (n * sxy - sx * sy) / den : 0;
        // Drift beyond 1000 ppm is not a clock but a bad estimate (too little spread): ignore it.
        if (Math.Abs(_b) > 1e-3) _b = 0;
        _a = (sy - _b * sx) / n;
        // Keep the line on or under every minimum, the filling bucket's included (lower envelope).
        double worst = double.PositiveInfinity;
        foreach (var (_, d, o) in _minima) worst = Math.Min(worst, o - (_a + _b * (d - _d0)));
        _a += Math.Min(0, worst);
    }
}
