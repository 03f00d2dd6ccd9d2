using System.Diagnostics.Metrics;
using OpenVret.Protocol;

namespace OpenVret.Server;

/// <summary>OpenTelemetry metrics of the session server (meter "OpenVret.Server").</summary>
public sealed class ServerMetrics
{
    public const string MeterName = "OpenVret.Server";
    private readonly Counter<long> _samples, _batches, _rejected, _storeFailures;
    private readonly Histogram<double> _latency;
    private long _activeSessions;
    private readonly ILogger<ServerMetrics> _log;

    public ServerMetrics(IMeterFactory meters, ILogger<ServerMetrics> log)
    {
        _log = log;
        var m = meters.Create(MeterName);
        _samples = m.CreateCounter<long>("openvret.samples", "{sample}", "samples accepted");
        _batches = m.CreateCounter<long>("openvret.batches", "{batch}", "sample batches received");
        _rejected = m.CreateCounter<long>("openvret.batches.rejected", "{batch}", "sample batches rejected");
        _storeFailures = m.CreateCounter<long>("openvret.store.failures", "{write}", "writes the store could not complete");
        _latency = m.CreateHistogram<double>("openvret.batch.latency", "ms", "from a batch's arrival to the end of its processing (features, estimate, engine, proposals)");
        m.CreateObservableGauge("openvret.sessions.active", () => Interlocked.Read(ref _activeSessions), "{session}", "live sessions");
    }

    // A ring of recent processing latencies for /api/stats percentiles (OpenTelemetry keeps the histogram).
    private readonly double[] _recent = new double[65536];
    private long _recentCount, _samplesTotal, _batchesTotal, _rejectedTotal;

    public sealed record Stats(long ActiveSessions, long Batches, long Samples, long Rejected, int LatencyWindow,
        double LatencyP50Ms, double LatencyP95Ms, double LatencyP99Ms, double LatencyMaxMs, long StoreCommits, long StoreItems, int StoreQueued);

    public Stats Snapshot(Data.StoreWriter store)
    {
        long n = Interlocked.Read(ref _recentCount);
        int m = (int)Math.Min(n, _recent.Length);
        var x = new double[m];
        Array.Copy(_recent, x, m);
        Array.Sort(x);
        double P(double q) => m == 0 ? double.NaN : x[Math.Min(m - 1, (int)Math.Floor(q * m))];
        return new Stats(Interlocked.Read(ref _activeSessions), Interlocked.Read(ref _batchesTotal), Interlocked.Read(ref _samplesTotal), Interlocked.Read(ref _rejectedTotal),
            m, P(0.5), P(0.95), P(0.99), m == 0 ? double.NaN : x[^1], store.Commits, store.ItemsWritten, store.Queued);
    }

    public void ResetLatency() => Interlocked.Exchange(ref _recentCount, 0);

    public void BatchProcessed(double milliseconds, int samples, BatchStatus status)
    {
        long i = Interlocked.Increment(ref _recentCount) - 1;
        _recent[i % _recent.Length] = milliseconds;
        Interlocked.Increment(ref _batchesTotal);
        if (status is BatchStatus.Accepted or BatchStatus.AcceptedLate) Interlocked.Add(ref _samplesTotal, samples);
        if (status == BatchStatus.Rejected) Interlocked.Increment(ref _rejectedTotal);
        _batches.Add(1);
        _latency.Record(milliseconds);
        if (status is BatchStatus.Accepted or BatchStatus.AcceptedLate) _samples.Add(samples);
        if (status == BatchStatus.Rejected) _rejected.Add(1);
    }

    public void SessionStarted() => Interlocked.Increment(ref _activeSessions);
    public void SessionStopped() => Interlocked.Decrement(ref _activeSessions);

    public void StoreFailed(Exception e)
    {
        _storeFailures.Add(1);
        _log.LogError("a session record could not be stored: {Error}", e.GetBaseException().Message);
    }
}
