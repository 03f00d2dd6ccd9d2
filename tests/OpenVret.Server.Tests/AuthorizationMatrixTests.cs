using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Protocol;
using OpenVret.Server.Security;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// Authorization decided on the resource, for every endpoint the app maps (read from its endpoint list, so an endpoint
/// added later is in the matrix without anyone listing it) × every kind of caller × letter-case variants of the path.
/// </summary>
public class AuthorizationMatrixTests
{
    private sealed record Caller(string Name, HttpClient Http);

    private static readonly (string Name, Func<string, string> Case)[] CaseVariants =
    [
        ("as mapped", s => s),
        ("upper case", s => s.ToUpperInvariant()),
        ("title case", s => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..]),
    ];

    /// <summary>The concrete paths of a route: each route value replaced by <paramref name="value"/>, literals cased.</summary>
    private static string PathOf(RoutePattern pattern, string value, Func<string, string> casing)
    {
        var sb = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            sb.Append('/');
            foreach (var part in segment.Parts)
                sb.Append(part switch
                {
                    RoutePatternLiteralPart l => casing(l.Content),
                    RoutePatternParameterPart => Uri.EscapeDataString(value),
                    RoutePatternSeparatorPart sep => sep.Content,
                    _ => throw new InvalidOperationException(part.ToString()),
                });
        }
        return sb.ToString();
    }

    /// <summary>An empty body of a type the endpoint accepts (routing answers 415 to any other before authorization runs).</summary>
    private static HttpRequestMessage Request(Endpoint e, string method, string path)
    {
        var r = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
            r.Content = e.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.Any(t => t.StartsWith("multipart/", StringComparison.Ordinal)) == true
                ? new MultipartFormDataContent { { new StringContent("x"), "rate" } }
                : new StringContent("{}", Encoding.UTF8, "application/json");
        return r;
    }

    /// <summary>The endpoint's HTTP methods; GET for one that takes any (hubs, health).</summary>
    internal static IReadOnlyList<string> Methods(Endpoint e) => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m : ["GET"];

    [Fact]
    public async Task Every_endpoint_refuses_every_caller_it_should_in_every_letter_case()
    {
        await using var s = await TestServer.StartAsync();
        var admin = await s.LoginAsync();
        foreach (var (user, site) in new[] { ("therapist.a", "site-a"), ("therapist.b", "site-b") })
            Assert.Equal(HttpStatusCode.Created, (await admin.Http.PostAsJsonAsync("/api/users", new { userName = user, password = "a-long-password-1", role = "therapist", site })).StatusCode);
        var a = await s.CreateSessionAsync(admin, patientId: "PA-1", site: "site-a");
        var device = await s.PairAsync(a.Code);
        var deviceHttp = s.Client();
        deviceHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", device.DeviceToken);

        var anonymous = new Caller("anonymous", s.Client());
        var asDevice = new Caller("device of site A's session", deviceHttp);
        var siteB = new Caller("therapist of site B", (await s.LoginAsync("therapist.b", "a-long-password-1")).Http);
        var siteA = new Caller("therapist of site A", (await s.LoginAsync("therapist.a", "a-long-password-1")).Http);
        var asAdmin = new Caller("admin", admin.Http);

        var endpoints = s.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText!.StartsWith("/hubs/", StringComparison.Ordinal));
        Assert.True(endpoints.Count(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal)) >= 25, "the endpoint list looks incomplete");

        var failures = new List<string>();
        int requests = 0;
        async Task<HttpStatusCode> Send(Caller c, Endpoint e, string method, string path)
        {
            requests++;
            using var r = await c.Http.SendAsync(Request(e, method, path));
            if ((int)r.StatusCode >= 500) failures.Add($"{c.Name} {method} {path}: {(int)r.StatusCode}");
            return r.StatusCode;
        }
        static bool Ok(HttpStatusCode c) => (int)c is >= 200 and < 300;

        // Phase 1: callers who must be refused (nothing they send may change anything).
        foreach (var e in endpoints)
        {
            bool anonymousAllowed = e.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(x => x.Policy).ToHashSet();
            bool adminOnly = policies.Contains(Api.Policies.Admin);
            bool therapistOnly = policies.Contains(Api.Policies.Therapist);
            bool hasRouteValues = e.RoutePattern.Parameters.Count > 0;
            foreach (var method in Methods(e))
            foreach (var (caseName, casing) in CaseVariants)
            foreach (var value in hasRouteValues ? new[] { a.SessionId, "PA-1" } : new[] { "" })
            {
                string path = PathOf(e.RoutePattern, value, casing);
                string where = $"{method} {path} ({caseName})";
                if (anonymousAllowed) { await Send(anonymous, e, method, path); continue; }
                var anon = await Send(anonymous, e, method, path);
                if (anon != HttpStatusCode.Unauthorized) failures.Add($"anonymous {where}: {(int)anon}, expected 401");
                if (adminOnly || therapistOnly)
                {
                    var dev = await Send(asDevice, e, method, path);
                    if (dev is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)) failures.Add($"device {where}: {(int)dev}, expected 401/403");
                }
                if (adminOnly)
                {
                    var b = await Send(siteB, e, method, path);
                    if (b != HttpStatusCode.Forbidden) failures.Add($"site-B therapist {where}: {(int)b}, expected 403 (admin only)");
                }
                else if (therapistOnly && hasRouteValues)
                {
                    // A site-A record through any route: never a success for site B.
                    var b = await Send(siteB, e, method, path);
                    if (Ok(b)) failures.Add($"site-B therapist {where}: {(int)b} on site A's record");
                    bool namesThisKind = (value == a.SessionId && e.RoutePattern.RawText!.StartsWith("/api/sessions/", StringComparison.Ordinal))
                        || (value == "PA-1" && e.RoutePattern.RawText!.StartsWith("/api/patients/", StringComparison.Ordinal));
                    if (namesThisKind && b != HttpStatusCode.Forbidden) failures.Add($"site-B therapist {where}: {(int)b}, expected 403");
                }
            }
        }

        // Site A's session is untouched by all of that.
        var view = await siteA.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{a.SessionId}");
        Assert.Equal("Running", view.GetProperty("state").GetString());

        // Phase 2: callers who must get through (their requests may change things: ending a session, a new code).
        foreach (var e in endpoints)
        {
            if (e.Metadata.GetMetadata<IAllowAnonymous>() is not null) continue;
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(x => x.Policy).ToHashSet();
            if (!policies.Contains(Api.Policies.Therapist) && !policies.Contains(Api.Policies.Admin)) continue;
            string raw = e.RoutePattern.RawText!;
            if (raw.StartsWith("/api/auth/", StringComparison.Ordinal)) continue;   // logging out here would end the callers' logins
            string value = raw.StartsWith("/api/patients/", StringComparison.Ordinal) ? "PA-1" : a.SessionId;
            foreach (var method in Methods(e))
            foreach (var (caseName, casing) in CaseVariants)
            {
                string path = PathOf(e.RoutePattern, value, casing);
                var ad = await Send(asAdmin, e, method, path);
                if (ad is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) failures.Add($"admin {method} {path} ({caseName}): {(int)ad}");
                var ta = await Send(siteA, e, method, path);
                bool adminOnly = policies.Contains(Api.Policies.Admin);
                if (adminOnly ? ta != HttpStatusCode.Forbidden : ta is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    failures.Add($"site-A therapist {method} {path} ({caseName}): {(int)ta}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests answered wrongly:\n" + string.Join("\n", failures.Take(60)));
    }

    [Fact]
    public void A_therapist_endpoint_without_a_site_scope_declaration_stops_the_server()
    {
        RouteEndpoint Endpoint(string route, params object[] metadata) =>
            new(_ => Task.CompletedTask, RoutePatternFactory.Parse(route), 0, new EndpointMetadataCollection(metadata), route);
        var therapist = new AuthorizeAttribute(Api.Policies.Therapist);

        var undeclared = new DefaultEndpointDataSource(Endpoint("/api/things/{id}", therapist));
        var e = Assert.Throws<InvalidOperationException>(() => SiteScopeEndpoints.Validate([undeclared]));
        Assert.Contains("/api/things/{id}", e.Message);

        var wrongValue = new DefaultEndpointDataSource(Endpoint("/api/things/{thing}", therapist, new SiteResource(SiteResourceKind.Session)));
        Assert.Contains("route value 'id'", Assert.Throws<InvalidOperationException>(() => SiteScopeEndpoints.Validate([wrongValue])).Message);

        var exemptWithId = new DefaultEndpointDataSource(Endpoint("/api/things/{id}", therapist, new SiteScopeExempt("lists")));
        Assert.Throws<InvalidOperationException>(() => SiteScopeEndpoints.Validate([exemptWithId]));

        SiteScopeEndpoints.Validate([new DefaultEndpointDataSource(
            Endpoint("/api/sessions/{id}/x", therapist, new SiteResource(SiteResourceKind.Session)),
            Endpoint("/api/list", therapist, new SiteScopeExempt("a filtered list")),
            Endpoint("/api/admin-thing/{id}", new AuthorizeAttribute(Api.Policies.Admin)))]);
    }
}

/// <summary>docs/security.md's table of endpoints is the app's endpoint list: an endpoint added, removed or re-scoped without the doc fails here.</summary>
public class SecurityDocTests
{
    internal static string Who(Endpoint e)
    {
        if (e.Metadata.GetMetadata<IAllowAnonymous>() is not null) return "anyone";
        var data = e.Metadata.GetOrderedMetadata<IAuthorizeData>();
        if (data.Any(d => d.Policy == Api.Policies.Admin)) return "admin";
        if (data.Any(d => d.Policy == Api.Policies.Therapist)) return "therapist, admin";
        var roles = data.Select(d => d.Roles).FirstOrDefault(r => !string.IsNullOrEmpty(r));
        return roles is not null ? string.Join(", ", roles.Split(',')) : "any authenticated caller";
    }

    internal static string Scope(Endpoint e) =>
        e.Metadata.GetMetadata<SiteResource>() is { } r ? $"{r.Kind.ToString().ToLowerInvariant()} in {{{r.RouteValue}}}"
        : e.Metadata.GetMetadata<SiteScopeExempt>() is not null ? "none (see below)"
        : "-";

    [Fact]
    public async Task The_endpoint_table_in_docs_security_md_matches_the_app()
    {
        await using var s = await TestServer.StartAsync();
        var rows = s.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => $"| {(e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? string.Join(", ", m) : "any")} | `{e.RoutePattern.RawText}` | {Who(e)} | {Scope(e)} |")
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "security.md"));
        int begin = doc.IndexOf("<!-- endpoints:begin -->", StringComparison.Ordinal), end = doc.IndexOf("<!-- endpoints:end -->", StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, "docs/security.md lacks the <!-- endpoints:begin/end --> table");
        var documented = doc[begin..end].Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| Methods", StringComparison.Ordinal)).ToList();
        Assert.True(rows.SequenceEqual(documented), "docs/security.md's endpoint table differs from the app; the table should read:\n" + string.Join("\n", rows));
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "OpenVret.slnx"))) return d.FullName;
        throw new InvalidOperationException("repository root (OpenVret.slnx) not found above " + AppContext.BaseDirectory);
    }
}
