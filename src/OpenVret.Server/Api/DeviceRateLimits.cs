using System.Collections.Concurrent;

namespace OpenVret.Server.Api;

/// <summary>
/// The ingest budget of each device: a token bucket of one second at OpenVret:MaxSamplesPerSecondPerDevice, shared by
/// all of the device's connections (a second connection or a reconnect does not bring a fresh budget).
/// </summary>
public sealed class DeviceRateLimits(ServerOptions options, TimeProvider clock)
{
    private sealed class Bucket { public double Tokens, Last; }
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public bool TryTake(string deviceId, int samples)
    {
        double cap = options.MaxSamplesPerSecondPerDevice;
        double now = clock.GetTimestamp() / (double)clock.TimestampFrequency;
        var b = _buckets.GetOrAdd(deviceId, _ => new Bucket { Tokens = cap, Last = now });
        lock (b)
        {
            b.Tokens = Math.Min(cap, b.Tokens + (now - b.Last) * cap);
            b.Last = now;
            if (b.Tokens < samples) return false;
            b.Tokens -= samples;
            return true;
        }
    }

}
