using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Connections;
using OpenTelemetry.Metrics;
using OpenVret.Protocol;
using OpenVret.Server.Api;
using OpenVret.Server.Audit;
using OpenVret.Server.Data;
using OpenVret.Server.Demo;
using OpenVret.Server.Security;
using OpenVret.Server.Sessions;

namespace OpenVret.Server;

/// <summary>Builds the session server (used by Program, the CLI's serve command and the integration tests).</summary>
public static class ServerApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
            builder.WebHost.UseUrls("http://localhost:5080");
        configure?.Invoke(builder);
        var options = builder.Configuration.GetSection("OpenVret").Get<ServerOptions>() ?? new ServerOptions();
        if (!Path.IsPathRooted(options.DataFolder)) options.DataFolder = Path.GetFullPath(options.DataFolder, Directory.GetCurrentDirectory());
        options.ValidateLogin();
        // Configured first passwords meet the same policy as every other (the problem never repeats the password).
        if (!string.IsNullOrEmpty(options.AdminUser) && !string.IsNullOrEmpty(options.AdminPassword) && PasswordPolicy.Check(options.AdminPassword, options.AdminUser) is { } adminWhy)
            throw new InvalidOperationException($"OpenVret:AdminPassword: {adminWhy} (password policy, docs/security.md)");
        if (options.Demo && !string.IsNullOrEmpty(options.DemoPassword) && PasswordPolicy.Check(options.DemoPassword, options.DemoUser) is { } demoWhy)
            throw new InvalidOperationException($"OpenVret:DemoPassword: {demoWhy} (password policy, docs/security.md)");
        // No Server header: it only tells a prober what to try.
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        bool tls = HttpsConfigured(builder.Configuration);

        var s = builder.Services;
        s.AddSingleton(options);
        // The clock of the whole server; a test may register its own in the configure callback (a fake it advances).
        if (!s.Any(d => d.ServiceType == typeof(TimeProvider))) s.AddSingleton(TimeProvider.System);
        s.AddSingleton<DbFactory>();
        s.AddSingleton(sp => AuditKeys.LoadOrCreate(options, path =>
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("OpenVret.Audit").LogWarning("created audit key file {Path} (keep it, and keep it out of the database's reach)", path)));
        s.AddSingleton(sp => new StoreWriter(sp.GetRequiredService<DbFactory>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StoreWriter>>(),
            TimeSpan.FromMilliseconds(sp.GetRequiredService<ServerOptions>().StoreCommitIntervalMs),
            new AuditSeal(sp.GetRequiredService<AuditKeys>(), AuditCheckpointFiles.FileOf(options), sp.GetRequiredService<TimeProvider>(),
                TimeSpan.FromSeconds(options.AuditCheckpointSeconds), message => sp.GetRequiredService<ILoggerFactory>().CreateLogger("OpenVret.Audit").LogWarning("{Message}", message))));
        s.AddSingleton<ServerMetrics>();
        s.AddSingleton<Api.DeviceRateLimits>();
        s.AddSingleton<OpenVret.Server.Dialogue.PatientSpeech>();
        s.AddSingleton<ISessionSink, SignalRSink>();
        s.AddSingleton<SessionHost>();
        if (options.IsCluster)
        {
            if (string.IsNullOrWhiteSpace(options.PostgresConnection))
                throw new InvalidOperationException("OpenVret:Hosting = cluster needs OpenVret:PostgresConnection (membership and store are PostgreSQL)");
            OpenVret.Server.Cluster.ClusterHosting.Configure(builder, options);
        }
        else
        {
            if (!string.Equals(options.Hosting, "single", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"OpenVret:Hosting = '{options.Hosting}': use single or cluster");
            s.AddSingleton<ISessionDirectory>(sp => sp.GetRequiredService<SessionHost>());
        }
        s.AddSingleton<OpenVret.Server.Security.SiteAccess>();
        s.AddSingleton<LoginSessions>();
        s.AddSingleton<LoginThrottle>();
        s.AddSingleton<LoginSessionHubFilter>();
        s.AddSingleton<OpenVret.Server.Dialogue.AgentService>();
        // In a cluster one node at a time runs the demo (see DemoService); clinics set OpenVret:Demo=false.
        if (options.Demo) s.AddHostedService<DemoService>();
        s.AddHostedService(sp => sp.GetRequiredService<SessionHost>());

        s.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = BrowserSecurity.LoginCookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                // The cookie names a server-side login (Security/LoginSessions.cs) checked on every request: logout,
                // a password change or reset, the idle limit and the absolute limit end it whatever the cookie says.
                o.ExpireTimeSpan = TimeSpan.FromHours(options.LoginAbsoluteHours);
                o.SlidingExpiration = false;
                o.Events.OnValidatePrincipal = async ctx =>
                {
                    var sessions = ctx.HttpContext.RequestServices.GetRequiredService<LoginSessions>();
                    if (!await sessions.ValidateAsync(LoginSessions.Token(ctx.Principal)))
                    {
                        ctx.RejectPrincipal();
                        await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                    }
                };
                // An API answers 401/403; it never redirects to a login page.
                o.Events.OnRedirectToLogin = ctx => { ctx.Response.StatusCode = 401; return Task.CompletedTask; };
                o.Events.OnRedirectToAccessDenied = ctx => { ctx.Response.StatusCode = 403; return Task.CompletedTask; };
            })
            .AddScheme<AuthenticationSchemeOptions, DeviceAuthenticationHandler>(DeviceAuthenticationHandler.SchemeName, null);
        s.AddAuthorization(o =>
        {
            // Site scope is part of the therapist policy, so it is decided before the endpoint runs or binds its body,
            // on the record the route names (SiteScope.cs); every therapist endpoint declares how it applies.
            o.AddPolicy(Policies.Therapist, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Therapist, Roles.Admin)
                .AddRequirements(new SiteScopeRequirement()));
            o.AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin));
            // Every endpoint needs an authenticated caller unless it says otherwise (login, pairing, health, OpenAPI).
            o.FallbackPolicy = new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme, DeviceAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser().Build();
        });
        s.AddSingleton<IAuthorizationHandler, SiteScopeHandler>();
        s.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, SiteScopeResultHandler>();
        s.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = 429;
            o.AddPolicy("login", ctx => RateLimitPartition.GetFixedWindowLimiter(ctx.Connection.RemoteIpAddress?.ToString() ?? "?",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.LoginAttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            // A bucket of its own: failed logins from an address do not stop a headset there from pairing.
            o.AddPolicy("pairing", ctx => RateLimitPartition.GetFixedWindowLimiter(ctx.Connection.RemoteIpAddress?.ToString() ?? "?",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.PairingAttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });
        s.AddSingleton<Api.SessionNotRunningFilter>();   // one instance; otherwise SignalR creates the filter for every call
        s.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = options.MaxMessageBytes;
            o.MaximumParallelInvocationsPerClient = 4;
            o.EnableDetailedErrors = false;
            Microsoft.AspNetCore.SignalR.HubOptionsExtensions.AddFilter<Api.SessionNotRunningFilter>(o);
            Microsoft.AspNetCore.SignalR.HubOptionsExtensions.AddFilter<LoginSessionHubFilter>(o);
        }).AddJsonProtocol(o =>
        {
            o.PayloadSerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
            o.PayloadSerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        }).AddMessagePackProtocol();
        s.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        s.AddOpenApi();
        s.AddProblemDetails();
        s.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        // Metrics: the meter is always on (and /api/stats summarises it); an OTLP collector receives them when
        // OTEL_EXPORTER_OTLP_ENDPOINT (standard OpenTelemetry variable) is set.
        s.AddOpenTelemetry().WithMetrics(m =>
        {
            m.AddMeter(ServerMetrics.MeterName).AddAspNetCoreInstrumentation();
            if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) m.AddOtlpExporter();
        });

        var app = builder.Build();
        // The crisis screen's model (about 90 MB, 2-3 s) loads in the background; until then screens say so (issue 21).
        OpenVret.Dialogue.Guardrails.ScreenModel.Shared.StartLoading();
        long movedChunks = app.Services.GetRequiredService<DbFactory>().MigrateAsync().GetAwaiter().GetResult();
        if (movedChunks > 0)
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenVret.Store").LogInformation("moved {Count} per-channel sample rows of an older store into sample blocks", movedChunks);
        // A cluster node makes sure the membership schema of Orleans' ADO.NET provider is in the database before its silo starts.
        if (options.IsCluster) Cluster.OrleansSchema.EnsureAsync(options.PostgresConnection!).GetAwaiter().GetResult();
        BootstrapAdmin(app.Services.GetRequiredService<DbFactory>(), options, app.Services.GetRequiredService<TimeProvider>());

        // Security headers on every response (errors and static files too); HSTS and HTTPS only with TLS configured.
        app.UseSecurityHeaders();
        if (tls)
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // The console's static files (no data in them) are served before authentication.
        app.UseStaticFiles();
        // Cross-origin state changes and console-hub connections are refused before anything else looks at them.
        app.UseSameOriginCheck(options);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapOpenApi().AllowAnonymous();
        app.MapHealthChecks("/health").AllowAnonymous();
        app.MapGet("/", () => Results.Redirect("/console/")).AllowAnonymous();
        app.MapGet("/console/", (IWebHostEnvironment env) => Results.File(Path.Combine(env.WebRootPath, "console", "index.html"), "text/html")).AllowAnonymous();
        // The WebXR scenes (pair with a code, then a device token; the page itself holds no data).
        app.MapGet("/vr/", (IWebHostEnvironment env) => Results.File(Path.Combine(env.WebRootPath, "vr", "index.html"), "text/html")).AllowAnonymous();
        RestApi.Map(app);
        app.MapHub<DeviceHub>(ProtocolVersion.DeviceHubPath, o => o.Transports = HttpTransportType.WebSockets | HttpTransportType.LongPolling);
        app.MapHub<ConsoleHub>(ProtocolVersion.ConsoleHubPath);
        SiteScopeEndpoints.Validate(((IEndpointRouteBuilder)app).DataSources);
        return app;
    }

    private static void BootstrapAdmin(DbFactory db, ServerOptions options, TimeProvider clock)
    {
        if (string.IsNullOrEmpty(options.AdminUser) || string.IsNullOrEmpty(options.AdminPassword)) return;   // policy-checked in Build
        using var ctx = db.Create();
        if (ctx.Users.Any()) return;
        var user = new UserAccount { UserName = options.AdminUser, PasswordHash = "", Role = UserRole.Admin, CreatedAt = clock.GetUtcNow() };
        user.PasswordHash = new Microsoft.AspNetCore.Identity.PasswordHasher<UserAccount>().HashPassword(user, options.AdminPassword);
        ctx.Users.Add(user);
        ctx.SaveChanges();
    }

    /// <summary>True when Kestrel gets an HTTPS endpoint (urls, ASPNETCORE_URLS, or Kestrel:Endpoints in the configuration).</summary>
    private static bool HttpsConfigured(IConfiguration c)
    {
        var urls = string.Join(';', c["urls"], c["ASPNETCORE_URLS"], Environment.GetEnvironmentVariable("ASPNETCORE_URLS"), c["ASPNETCORE_HTTPS_PORTS"], c["HTTPS_PORTS"]);
        if (urls.Contains("https://", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrEmpty(c["ASPNETCORE_HTTPS_PORTS"]) || !string.IsNullOrEmpty(c["HTTPS_PORTS"])) return true;
        return c.GetSection("Kestrel:Endpoints").GetChildren().Any(e => (e["Url"] ?? "").StartsWith("https://", StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>/health: the store answers and the writer keeps up.</summary>
public sealed class StoreHealthCheck(DbFactory db, StoreWriter writer) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken ct = default)
    {
        await using var ctx = db.Create();
        if (!await ctx.Database.CanConnectAsync(ct)) return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy($"{db.Description}: cannot connect");
        int queued = writer.Queued;
        return queued > 50_000
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Degraded($"{queued} writes queued")
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy($"{db.Provider}; {queued} writes queued");
    }
}
