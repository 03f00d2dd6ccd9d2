using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;

namespace OpenVret.Server.Security;

/// <summary>
/// Server-side logins. The auth cookie names a <see cref="LoginSession"/> (by a random token whose hash is the
/// row's key); each cookie request and each console-hub call checks the row, so a revoked, idle or expired login
/// stops working at once, even with a copied cookie. Revoking also closes the login's console connections on this node.
/// </summary>
public sealed class LoginSessions(DbFactory db, ServerOptions options, TimeProvider clock)
{
    public const string Claim = "openvret:login";
    /// <summary>Last-seen is written at most this often per login (30 s, or a quarter of a shorter idle limit).</summary>
    private TimeSpan TouchEvery => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, Idle.Ticks / 4));

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubCallerContext>> _hubs = new(StringComparer.Ordinal);

    public TimeSpan Idle => TimeSpan.FromMinutes(options.LoginIdleMinutes);
    public TimeSpan Absolute => TimeSpan.FromHours(options.LoginAbsoluteHours);

    /// <summary>Starts a login for the user; returns the token the cookie carries.</summary>
    public async Task<string> CreateAsync(int userId)
    {
        var token = Secrets.NewToken();
        var now = clock.GetUtcNow();
        await using var ctx = db.Create();
        ctx.LoginSessions.Add(new LoginSession { Id = Secrets.Hash(token), UserId = userId, CreatedAt = now, LastSeenAt = now, ExpiresAt = now + Absolute });
        await ctx.SaveChangesAsync();
        return token;
    }

    public static string? Token(ClaimsPrincipal? user) => user?.FindFirstValue(Claim);

    /// <summary>True while the login is neither revoked nor idle nor past its absolute end; notes the activity.</summary>
    public async Task<bool> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100) return false;
        var now = clock.GetUtcNow();
        await using var ctx = db.Create();
        var row = await ctx.LoginSessions.FindAsync(Secrets.Hash(token));
        if (row is null || row.RevokedAt is not null || now >= row.ExpiresAt || now - row.LastSeenAt >= Idle) return false;
        if (now - row.LastSeenAt >= TouchEvery)
        {
            row.LastSeenAt = now;
            await ctx.SaveChangesAsync();
        }
        return true;
    }

    public async Task RevokeAsync(string? token, string reason)
    {
        if (string.IsNullOrEmpty(token)) return;
        string id = Secrets.Hash(token);
        await using (var ctx = db.Create())
        {
            var row = await ctx.LoginSessions.FindAsync(id);
            if (row is not null && row.RevokedAt is null)
            {
                row.RevokedAt = clock.GetUtcNow();
                row.RevokedReason = reason;
                await ctx.SaveChangesAsync();
            }
        }
        CloseHubs(id);
    }

    /// <summary>Ends every login of the user except the one with <paramref name="keepToken"/>; returns how many.</summary>
    public async Task<int> RevokeAllAsync(int userId, string reason, string? keepToken = null)
    {
        string? keep = keepToken is null ? null : Secrets.Hash(keepToken);
        var now = clock.GetUtcNow();
        await using var ctx = db.Create();
        var rows = await ctx.LoginSessions.Where(l => l.UserId == userId && l.RevokedAt == null && l.Id != keep).ToListAsync();
        foreach (var row in rows) { row.RevokedAt = now; row.RevokedReason = reason; }
        await ctx.SaveChangesAsync();
        foreach (var row in rows) CloseHubs(row.Id);
        return rows.Count;
    }

    internal void HubConnected(HubCallerContext c)
    {
        if (Token(c.User) is not { } token) return;
        _hubs.GetOrAdd(Secrets.Hash(token), _ => new(StringComparer.Ordinal))[c.ConnectionId] = c;
    }

    internal void HubDisconnected(HubCallerContext c)
    {
        if (Token(c.User) is not { } token) return;
        if (_hubs.TryGetValue(Secrets.Hash(token), out var set))
        {
            set.TryRemove(c.ConnectionId, out _);
            if (set.IsEmpty) _hubs.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, HubCallerContext>>(Secrets.Hash(token), set));
        }
    }

    private void CloseHubs(string id)
    {
        if (_hubs.TryRemove(id, out var set))
            foreach (var c in set.Values) c.Abort();
    }
}

/// <summary>
/// Console-hub calls of a login that has ended are refused (and the connection closed): a hub connection
/// authenticates once, at connect, so without this a connection opened before logout would go on working.
/// </summary>
public sealed class LoginSessionHubFilter(LoginSessions sessions) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (LoginSessions.Token(context.Context.User) is { } token && !await sessions.ValidateAsync(token))
        {
            context.Context.Abort();
            throw new HubException("login: this login has ended (logged out, password changed, or timed out); log in again");
        }
        return await next(context);
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        sessions.HubConnected(context.Context);
        return next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        sessions.HubDisconnected(context.Context);
        return next(context, exception);
    }
}
