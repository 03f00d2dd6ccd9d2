using OpenVret.Protocol;
using OpenVret.Server.Api;

namespace OpenVret.Server.Security;

/// <summary>
/// What a browser needs told: security headers on every response, and a same-origin check on every request that
/// a cookie could authenticate and that changes something (docs/security.md, "Accounts, login and browser security").
/// </summary>
public static class BrowserSecurity
{
    /// <summary>
    /// The console and the VR scene load scripts, styles and images only from the server itself, and talk only to
    /// it (fetch, SignalR over WebSocket). No inline script, no framing, no plugins.
    /// </summary>
    public static string ContentSecurityPolicy(HttpRequest request) =>
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; " +
        $"connect-src 'self' ws://{request.Host} wss://{request.Host}; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
        "form-action 'self'; frame-ancestors 'none'";

    /// <summary>Adds the headers to every response, including errors and static files (set when the response starts).</summary>
    /// <summary>The therapist login cookie's name.</summary>
    public const string LoginCookieName = "openvret.auth";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(static state =>
        {
            var h = (HttpContext)state;
            var headers = h.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy(h.Request);
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers.Remove("Server");
            // API answers carry health data: no browser or proxy cache keeps them.
            if (h.Request.Path.StartsWithSegments("/api") && !headers.ContainsKey("Cache-Control")) headers.CacheControl = "no-store";
            return Task.CompletedTask;
        }, http);
        return next(http);
    });

    /// <summary>
    /// Refuses (403, field "Origin") a state change (POST, PUT, PATCH, DELETE) that a browser sent from another origin,
    /// and any console-hub request (negotiate or WebSocket upgrade) from another origin. Requests with a device token
    /// (Authorization: Bearer) are not cookie-authenticated and pass; so do requests without any browser origin
    /// information (Origin, Sec-Fetch-Site, Referer), which only non-browser clients send.
    /// </summary>
    public static IApplicationBuilder UseSameOriginCheck(this IApplicationBuilder app, ServerOptions options)
    {
        var allowed = options.AllowedOrigins.Select(Normalize).Where(o => o is not null).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return app.Use(async (http, next) =>
        {
            var request = http.Request;
            bool hub = request.Path.StartsWithSegments(ProtocolVersion.ConsoleHubPath);
            bool unsafeMethod = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method));
            // A device token exempts a request only when no login cookie comes with it: a Bearer header beside the cookie
            // (which is then what authenticates) must not switch the check off.
            bool bearerOnly = request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                && !request.Cookies.ContainsKey(LoginCookieName);
            if ((hub || (unsafeMethod && !bearerOnly)) && Refusal(request, allowed) is { } refusal)
            {
                await refusal.ExecuteAsync(http);
                return;
            }
            await next(http);
        });
    }

    private static IResult? Refusal(HttpRequest request, HashSet<string> allowed)
    {
        string? own = Normalize($"{request.Scheme}://{request.Host}");
        bool Allowed(string? origin) => origin is not null && (string.Equals(origin, own, StringComparison.Ordinal) || allowed.Contains(origin));
        const string Why = "not this server's origin nor one in OpenVret:AllowedOrigins; a page on another origin may not act with your login";

        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
            return Allowed(Normalize(origin)) ? null : RestApi.Problem("Origin", Clip(origin), Why, 403);
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
            return site is "same-origin" or "none" ? null : RestApi.Problem("Sec-Fetch-Site", Clip(site), "the request came from another origin; " + Why, 403);
        var referer = request.Headers.Referer.ToString();
        if (referer.Length > 0)
            return Allowed(Normalize(referer)) ? null : RestApi.Problem("Referer", Clip(Normalize(referer) ?? referer), Why, 403);
        return null;
    }

    /// <summary>scheme://host[:port] of a URL (default ports left out), or null when it is none.</summary>
    private static string? Normalize(string url) =>
        Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u.GetLeftPart(UriPartial.Authority).ToLowerInvariant() : null;

    private static string Clip(string s) => s.Length <= 200 ? s : s[..200] + "...";
}
