using System.Collections.Concurrent;
using System.Net;

namespace OpenVret.Server.Security;

/// <summary>
/// Progressive delay instead of a lockout an attacker could trigger. Failures are counted under three keys:
/// (user name, address), the address alone, and the user name alone. From a key's last free failure on, each
/// failure blocks that key for a doubling interval (first <see cref="ServerOptions.LoginDelayFirstSeconds"/>),
/// capped; attempts while blocked are refused without checking the password and do not count. The user-name
/// keys are the same whether the account exists or not, so throttling says nothing about which accounts exist.
/// The account-wide key has a short cap, so someone guessing from many addresses cannot keep the real user out
/// for long; from their own address the real user is not blocked by someone else's failures at all.
/// State is per node and in memory (a restart forgets it).
/// </summary>
public sealed class LoginThrottle(ServerOptions options, TimeProvider clock)
{
    private sealed class Entry
    {
        public int Failures;
        public DateTimeOffset LastFailure;
        public DateTimeOffset BlockedUntil;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);
    private const int MaxEntries = 200_000;

    private static string Account(string userName) => "u:" + Secrets.Hash("login:" + userName);
    private static string Address(IPAddress? address) => "a:" + (address?.ToString() ?? "?");
    private static string Pair(string userName, IPAddress? address) => "p:" + Secrets.Hash("login:" + userName) + ":" + (address?.ToString() ?? "?");

    private IEnumerable<(string Key, int Free, TimeSpan Cap)> Keys(string userName, IPAddress? address)
    {
        yield return (Pair(userName, address), options.LoginFreeFailuresPerAccountAndAddress, TimeSpan.FromSeconds(options.LoginDelayCapSeconds));
        yield return (Address(address), options.LoginFreeFailuresPerAddress, TimeSpan.FromSeconds(options.LoginDelayCapSeconds));
        yield return (Account(userName), options.LoginFreeFailuresPerAccount, TimeSpan.FromSeconds(options.LoginAccountDelayCapSeconds));
    }

    /// <summary>How long this attempt must wait (zero = go ahead).</summary>
    public TimeSpan RetryAfter(string userName, IPAddress? address)
    {
        var now = clock.GetUtcNow();
        var wait = TimeSpan.Zero;
        foreach (var (key, _, _) in Keys(userName, address))
            if (_entries.TryGetValue(key, out var e))
                lock (e)
                    if (e.BlockedUntil > now && e.BlockedUntil - now > wait) wait = e.BlockedUntil - now;
        return wait;
    }

    public void Failure(string userName, IPAddress? address)
    {
        var now = clock.GetUtcNow();
        if (_entries.Count > MaxEntries) Prune(now);
        foreach (var (key, free, cap) in Keys(userName, address))
        {
            var e = _entries.GetOrAdd(key, _ => new Entry());
            lock (e)
            {
                if (now - e.LastFailure > ForgetAfter && e.BlockedUntil < now) e.Failures = 0;
                e.Failures++;
                e.LastFailure = now;
                // The free-th failure already delays the next attempt: 5 free means the 6th attempt waits.
                int over = e.Failures - free;
                if (over >= 0)
                {
                    double seconds = options.LoginDelayFirstSeconds * Math.Pow(2, Math.Min(over, 30));
                    e.BlockedUntil = now + TimeSpan.FromSeconds(Math.Min(seconds, cap.TotalSeconds));
                }
            }
        }
    }

    /// <summary>A successful login clears its user's keys (not the address's: one good account must not reset an address's count).</summary>
    public void Success(string userName, IPAddress? address)
    {
        _entries.TryRemove(Pair(userName, address), out _);
        _entries.TryRemove(Account(userName), out _);
    }

    /// <summary>An administrator's unlock: forgets every failure counted against this user name, from any address.</summary>
    public int Forget(string userName)
    {
        string prefix = "p:" + Secrets.Hash("login:" + userName) + ":";
        int removed = _entries.TryRemove(Account(userName), out _) ? 1 : 0;
        foreach (var key in _entries.Keys)
            if (key.StartsWith(prefix, StringComparison.Ordinal) && _entries.TryRemove(key, out _)) removed++;
        return removed;
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, e) in _entries)
            lock (e)
                if (e.BlockedUntil < now && now - e.LastFailure > TimeSpan.FromMinutes(1)) _entries.TryRemove(key, out _);
    }
}
