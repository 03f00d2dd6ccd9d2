using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;

namespace OpenVret.Server.Security;

/// <summary>
/// Site is a first-class attribute of patients (and so of their sessions) and of therapist accounts. A therapist
/// with a site sees, runs and exports only that site's patients and sessions; an administrator, or a therapist
/// without a site (a single-clinic deployment), sees every site.
/// </summary>
public sealed class SiteAccess(DbFactory db)
{
    public const string Claim = "openvret:site";
    private readonly ConcurrentDictionary<string, string> _sessionSite = new(StringComparer.Ordinal);

    /// <summary>The one site this user may reach, or null for every site.</summary>
    public static string? Scope(ClaimsPrincipal u) => u.IsInRole(Roles.Admin) ? null : u.FindFirstValue(Claim);

    public static bool Allows(ClaimsPrincipal u, string site) => Scope(u) is not { } s || string.Equals(s, site, StringComparison.Ordinal);

    public async Task<string?> PatientSiteAsync(string patientId)
    {
        await using var ctx = db.Create();
        return await ctx.Patients.AsNoTracking().Where(p => p.Id == patientId).Select(p => p.Site).FirstOrDefaultAsync();
    }

    public async Task<string?> SessionSiteAsync(string sessionId)
    {
        if (_sessionSite.TryGetValue(sessionId, out var cached)) return cached;
        await using var ctx = db.Create();
        var site = await ctx.Sessions.AsNoTracking().Where(s => s.Id == sessionId)
            .Join(ctx.Patients, s => s.PatientId, p => p.Id, (s, p) => p.Site).FirstOrDefaultAsync();
        if (site is not null) _sessionSite[sessionId] = site;
        return site;
    }

    /// <summary>True when the session is unknown (the endpoint reports that) or belongs to a site the user may reach.</summary>
    public async Task<bool> CanReachSessionAsync(ClaimsPrincipal u, string sessionId) =>
        Scope(u) is null || await SessionSiteAsync(sessionId) is not { } site || Allows(u, site);

    public async Task<bool> CanReachPatientAsync(ClaimsPrincipal u, string patientId) =>
        Scope(u) is null || await PatientSiteAsync(patientId) is not { } site || Allows(u, site);

    /// <summary>
    /// A pooled dataset's patient id: HMAC-SHA256 of site and pseudonym under the deployment's export key
    /// (configuration, never code). Stable across exports with the same key; unlinkable to the clinic's
    /// pseudonyms without it.
    /// </summary>
    public static string PoolPseudonym(string key, string site, string patientId)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(site + "\n" + patientId));
        return "X-" + Convert.ToHexStringLower(mac)[..16];
    }
}
