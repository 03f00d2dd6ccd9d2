using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Routing;

namespace OpenVret.Server.Security;

/// <summary>The kinds of record that belong to a site.</summary>
public enum SiteResourceKind { Session, Patient }

/// <summary>
/// Endpoint metadata: the route value <see cref="RouteValue"/> names a <see cref="Kind"/> record, and a therapist bound to
/// a site reaches the endpoint only when that record is at their site. Decided on the resolved record, never on the path.
/// </summary>
public sealed record SiteResource(SiteResourceKind Kind, string RouteValue = "id");

/// <summary>
/// Endpoint metadata: the endpoint reaches no single site's record through its route (a list filtered by the caller's
/// site, a body checked by the endpoint itself, or data of no site). <see cref="Why"/> says which, for docs/security.md.
/// </summary>
public sealed record SiteScopeExempt(string Why);

public static class SiteScopeEndpoints
{
    public static TBuilder ForSession<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new SiteResource(SiteResourceKind.Session));

    public static TBuilder ForPatient<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new SiteResource(SiteResourceKind.Patient));

    public static TBuilder NoSiteResource<TBuilder>(this TBuilder b, string why) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new SiteScopeExempt(why));

    /// <summary>
    /// Every therapist endpoint must say how site scope applies to it (checked at start-up: an endpoint added without a
    /// declaration stops the server, so it cannot slip through unscoped), and a declared route value must be in its route.
    /// </summary>
    public static void Validate(IEnumerable<EndpointDataSource> sources)
    {
        var problems = new List<string>();
        foreach (var e in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            bool therapist = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == Api.Policies.Therapist);
            var resource = e.Metadata.GetMetadata<SiteResource>();
            bool exempt = e.Metadata.GetMetadata<SiteScopeExempt>() is not null;
            string name = e.RoutePattern.RawText ?? e.DisplayName ?? "?";
            if (therapist && resource is null && !exempt)
                problems.Add($"{name}: a therapist endpoint must declare its site scope (ForSession, ForPatient or NoSiteResource)");
            if (resource is not null && e.RoutePattern.GetParameter(resource.RouteValue) is null)
                problems.Add($"{name}: declares a {resource.Kind} in route value '{resource.RouteValue}', which the route does not have");
            if (therapist && exempt && resource is null && e.RoutePattern.Parameters.Count > 0)
                problems.Add($"{name}: has route values ({string.Join(", ", e.RoutePattern.Parameters.Select(p => p.Name))}) but declares no site resource");
        }
        if (problems.Count > 0) throw new InvalidOperationException("site scope: " + string.Join("; ", problems));
    }
}

/// <summary>Part of the therapist policy: the caller's site must be the site of the record the route names.</summary>
public sealed class SiteScopeRequirement : IAuthorizationRequirement;

/// <summary>Why a site-scope check refused: written by <see cref="SiteScopeResultHandler"/> as a problem naming the field.</summary>
public sealed class SiteScopeFailure(IAuthorizationHandler handler, string field, string value)
    : AuthorizationFailureReason(handler, $"{field} = '{value}': belongs to another site than yours")
{
    public string Field { get; } = field;
    public string Value { get; } = value;
}

public sealed class SiteScopeHandler(SiteAccess access) : AuthorizationHandler<SiteScopeRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, SiteScopeRequirement requirement)
    {
        if (context.Resource is not HttpContext http) { context.Fail(); return; }   // only HTTP endpoints carry this policy
        var endpoint = http.GetEndpoint();
        var resource = endpoint?.Metadata.GetMetadata<SiteResource>();
        if (resource is null)
        {
            // Fail closed: an endpoint that declares nothing is refused (start-up validation keeps this from happening).
            if (endpoint?.Metadata.GetMetadata<SiteScopeExempt>() is not null) context.Succeed(requirement);
            else context.Fail(new AuthorizationFailureReason(this, "the endpoint declares no site scope"));
            return;
        }
        if (SiteAccess.Scope(context.User) is null) { context.Succeed(requirement); return; }
        if (http.GetRouteValue(resource.RouteValue) is not string id) { context.Fail(); return; }
        bool ok = resource.Kind switch
        {
            SiteResourceKind.Session => await access.CanReachSessionAsync(context.User, id),
            SiteResourceKind.Patient => await access.CanReachPatientAsync(context.User, id),
            _ => false,
        };
        if (ok) context.Succeed(requirement);
        else context.Fail(new SiteScopeFailure(this, resource.RouteValue, id));
    }
}

/// <summary>A site-scope refusal answers 403 with the problem (field, value); every other outcome as ASP.NET Core does.</summary>
public sealed class SiteScopeResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && result.AuthorizationFailure?.FailureReasons.OfType<SiteScopeFailure>().FirstOrDefault() is { } f)
            return Api.RestApi.Problem(f.Field, f.Value, "belongs to another site than yours", StatusCodes.Status403Forbidden).ExecuteAsync(context);
        return _default.HandleAsync(next, context, policy, result);
    }
}
