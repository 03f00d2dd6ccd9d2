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

    public void BatchProcessed(double milliseconds, int samples, BatchStatus status)
    {
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
