using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenVret.Server.Data;

namespace OpenVret.Server.Security;

public static class Roles
{
    public const string Therapist = "therapist";
    public const string Admin = "admin";
    public const string Device = "device";
    public const string SessionClaim = "openvret:session";
    public const string DeviceClaim = "openvret:device";
    public const string DeviceRoleClaim = "openvret:device-role";
}

/// <summary>
/// Devices present the token they got at pairing as "Authorization: Bearer ..." (or, on the SignalR WebSocket,
/// the access_token query parameter). The token is stored hashed and limits the device to its one session.
/// </summary>
public sealed class DeviceAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DbFactory db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Device";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal)) token = header["Bearer ".Length..].Trim();
        else if (Request.Path.StartsWithSegments("/hubs") && Request.Query.TryGetValue("access_token", out var q)) token = q.ToString();
        if (string.IsNullOrEmpty(token)) return AuthenticateResult.NoResult();
        if (token.Length > 200) return AuthenticateResult.Fail("token: too long");
        var hash = Secrets.Hash(token);
        await using var ctx = db.Create();
        var device = await ctx.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.TokenHash == hash);
        if (device is null || device.RevokedAt is not null) return AuthenticateResult.Fail("token: unknown or revoked device token");
        // A token is good only while its session has not ended (ending revokes it too; this also covers stores written
        // before that rule, and the moment between the end and the revocation's commit).
        if (await ctx.Sessions.AsNoTracking().AnyAsync(s => s.Id == device.SessionId && s.State == SessionState.Ended))
            return AuthenticateResult.Fail("token: the device's session has ended");
        var identity = new ClaimsIdentity(new[]
        {
            new Claim(ClaimTypes.NameIdentifier, device.Id),
            new Claim(ClaimTypes.Role, Roles.Device),
            new Claim(Roles.SessionClaim, device.SessionId),
            new Claim(Roles.DeviceClaim, device.Id),
            new Claim(Roles.DeviceRoleClaim, device.Role),
        }, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
