using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Data;
using OpenVret.Server.Security;

namespace OpenVret.Server.Api;

public sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);
public sealed record PasswordResetRequest(string? Password);
public sealed record UserListItem(int Id, string UserName, string Role, string? Site, DateTimeOffset CreatedAt, DateTimeOffset? PasswordChangedAt);

/// <summary>
/// Accounts and logins (docs/security.md, "Accounts, login and browser security"): login with a progressive delay
/// instead of a lockout, server-side login sessions, logout, password change, and the administrator's user
/// management (create, list, reset a password, unlock).
/// </summary>
public static class AuthApi
{
    /// <summary>Largest login or password request body (bytes); a 1 MB password is refused before it is read.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    // One answer for an unknown user name, a wrong password and an over-long password: same status, same bytes.
    private static readonly byte[] FailedBody = Encoding.UTF8.GetBytes(
        """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.2","title":"userName, password: login failed","status":401,"detail":"userName, password: unknown user name or wrong password","field":"password","value":"(hidden)"}""");
    // One answer for any throttled attempt, whether or not the user name exists.
    private static readonly byte[] ThrottledBody = Encoding.UTF8.GetBytes(
        """{"type":"https://tools.ietf.org/html/rfc6585#section-4","title":"userName: too many failed logins","status":429,"detail":"userName: too many failed logins for this user name or from this address; try again after the seconds in Retry-After","field":"userName","value":"(hidden)"}""");

    private static readonly Lazy<(UserAccount User, string Hash)> Dummy = new(() =>
    {
        var u = new UserAccount { UserName = "", PasswordHash = "" };
        return (u, new PasswordHasher<UserAccount>().HashPassword(u, Secrets.NewToken()));
    });

    private sealed class FixedProblem(int status, byte[] body, TimeSpan? retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/problem+json";
            http.Response.Headers.CacheControl = "no-store";
            if (retryAfter is { } wait) http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return http.Response.Body.WriteAsync(body).AsTask();
        }
    }

    private static IResult Failed() => new FixedProblem(401, FailedBody, null);
    private static IResult Throttled(TimeSpan wait) => new FixedProblem(429, ThrottledBody, wait);

    private static int UserId(ClaimsPrincipal u) => int.Parse(u.FindFirstValue(ClaimTypes.NameIdentifier)!, CultureInfo.InvariantCulture);
    private static string Actor(ClaimsPrincipal u) => "user:" + u.FindFirstValue(ClaimTypes.NameIdentifier);
    private static string AddressPseudonym(HttpContext http) => Secrets.Pseudonym("address", http.Connection.RemoteIpAddress?.ToString() ?? "?");

    public static void Map(RouteGroupBuilder api)
    {
        var admin = api.MapGroup("").RequireAuthorization(Policies.Admin);
        var sizeLimit = new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxBodyBytes);

        api.MapPost("/auth/login", async (LoginRequest req, HttpContext http, DbFactory db, StoreWriter store, LoginThrottle throttle, LoginSessions sessions, TimeProvider clock) =>
        {
            if (req is null || string.IsNullOrEmpty(req.UserName)) return RestApi.Problem("userName", "", "user name and password are required");
            if (string.IsNullOrEmpty(req.Password)) return RestApi.Problem("password", "", "user name and password are required");
            if (req.UserName.Length > 100) return RestApi.Problem("userName", req.UserName[..40] + "...", "at most 100 characters");
            var address = http.Connection.RemoteIpAddress;
            var wait = throttle.RetryAfter(req.UserName, address);
            if (wait > TimeSpan.Zero)
            {
                await store.Audit("anonymous", "login_throttled", null, $"{Secrets.Pseudonym("user", req.UserName)} from {AddressPseudonym(http)}, {Math.Ceiling(wait.TotalSeconds)} s to wait");
                return Throttled(wait);
            }
            await using var ctx = db.Create();
            var user = await ctx.Users.FirstOrDefaultAsync(u => u.UserName == req.UserName);
            bool tooLong = req.Password.Length > PasswordPolicy.MaxLength;
            var hasher = new PasswordHasher<UserAccount>();
            var result = PasswordVerificationResult.Failed;
            // An unknown user or an over-long password is checked against a dummy hash: the same work, the same time.
            if (user is null || tooLong) hasher.VerifyHashedPassword(Dummy.Value.User, Dummy.Value.Hash, tooLong ? req.Password[..PasswordPolicy.MaxLength] : req.Password);
            else result = hasher.VerifyHashedPassword(user, user.PasswordHash, req.Password);
            if (result == PasswordVerificationResult.Failed)
            {
                throttle.Failure(req.UserName, address);
                await store.Audit(user is null ? "anonymous" : $"user:{user.Id}", "login_failed", null,
                    (user is null ? $"unknown user {Secrets.Pseudonym("user", req.UserName)}" : tooLong ? "password longer than allowed" : "wrong password") + $" from {AddressPseudonym(http)}");
                return Failed();
            }
            if (result == PasswordVerificationResult.SuccessRehashNeeded)
            {
                user!.PasswordHash = hasher.HashPassword(user, req.Password);
                await ctx.SaveChangesAsync();
            }
            throttle.Success(req.UserName, address);
            var role = user!.Role == UserRole.Admin ? Roles.Admin : Roles.Therapist;
            var token = await sessions.CreateAsync(user.Id);
            var claims = new List<Claim>
            {
                new(ClaimTypes.NameIdentifier, user.Id.ToString(CultureInfo.InvariantCulture)), new(ClaimTypes.Name, user.UserName), new(ClaimTypes.Role, role),
                new(LoginSessions.Claim, token),
            };
            if (user.Site is not null) claims.Add(new Claim(SiteAccess.Claim, user.Site));
            var identity = new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity),
                new AuthenticationProperties { IsPersistent = false, AllowRefresh = false, ExpiresUtc = clock.GetUtcNow() + sessions.Absolute });
            await store.Audit($"user:{user.Id}", "login", null, $"{role} from {AddressPseudonym(http)}");
            return Results.Ok(new UserInfo(user.Id, user.UserName, role));
        }).AllowAnonymous().RequireRateLimiting("login").WithMetadata(sizeLimit);

        api.MapPost("/auth/logout", async (HttpContext http, StoreWriter store, LoginSessions sessions) =>
        {
            await sessions.RevokeAsync(LoginSessions.Token(http.User), "logout");
            await store.Audit(Actor(http.User), "logout", null, "");
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.NoContent();
        }).RequireAuthorization(Policies.Therapist).NoSiteResource("ends the caller's own login");

        // Who is logged in (anonymous callers get authenticated = false, not an error: the console asks on load).
        api.MapGet("/auth/me", (ClaimsPrincipal u) => u.IsInRole(Roles.Therapist) || u.IsInRole(Roles.Admin)
            ? Results.Ok(new { authenticated = true, id = UserId(u), userName = u.FindFirstValue(ClaimTypes.Name), role = u.FindFirstValue(ClaimTypes.Role) })
            : Results.Ok(new { authenticated = false })).AllowAnonymous();

        // Change one's own password: the current one is checked (and throttled like a login), the new one meets the
        // policy, and every other login of the user ends.
        api.MapPost("/auth/password", async (PasswordChangeRequest req, HttpContext http, DbFactory db, StoreWriter store, LoginThrottle throttle, LoginSessions sessions, TimeProvider clock) =>
        {
            var address = http.Connection.RemoteIpAddress;
            string userName = http.User.FindFirstValue(ClaimTypes.Name) ?? "";
            var wait = throttle.RetryAfter(userName, address);
            if (wait > TimeSpan.Zero) return Throttled(wait);
            if (string.IsNullOrEmpty(req?.CurrentPassword)) return RestApi.Problem("currentPassword", "", "your current password is required");
            if (string.IsNullOrEmpty(req.NewPassword)) return RestApi.Problem("newPassword", "", "the new password is required");
            await using var ctx = db.Create();
            var user = await ctx.Users.FindAsync(UserId(http.User));
            if (user is null) return Results.Unauthorized();
            var hasher = new PasswordHasher<UserAccount>();
            if (req.CurrentPassword.Length > PasswordPolicy.MaxLength || hasher.VerifyHashedPassword(user, user.PasswordHash, req.CurrentPassword) == PasswordVerificationResult.Failed)
            {
                throttle.Failure(userName, address);
                await store.Audit(Actor(http.User), "password_change_failed", null, "wrong current password");
                return RestApi.Problem("currentPassword", "(hidden)", "is not your current password", 403);
            }
            if (PasswordPolicy.Check(req.NewPassword, user.UserName) is { } why) return RestApi.Problem("newPassword", "(hidden)", why);
            if (req.NewPassword == req.CurrentPassword) return RestApi.Problem("newPassword", "(hidden)", "must differ from the current password");
            user.PasswordHash = hasher.HashPassword(user, req.NewPassword);
            user.PasswordChangedAt = clock.GetUtcNow();
            await ctx.SaveChangesAsync();
            int ended = await sessions.RevokeAllAsync(user.Id, "password_changed", keepToken: LoginSessions.Token(http.User));
            await store.Audit(Actor(http.User), "password_changed", null, $"{ended} other logins ended");
            return Results.NoContent();
        }).RequireAuthorization(Policies.Therapist).NoSiteResource("changes the caller's own password").RequireRateLimiting("login").WithMetadata(sizeLimit);

        admin.MapGet("/users", async (DbFactory db) =>
        {
            await using var ctx = db.Create();
            var users = await ctx.Users.AsNoTracking().OrderBy(u => u.Id).ToListAsync();
            return Results.Ok(users.Select(u => new UserListItem(u.Id, u.UserName, u.Role == UserRole.Admin ? Roles.Admin : Roles.Therapist, u.Site, u.CreatedAt, u.PasswordChangedAt)));
        });

        admin.MapPost("/users", async (CreateUserRequest req, ClaimsPrincipal u, DbFactory db, StoreWriter store, TimeProvider clock) =>
        {
            if (req.UserName is null || !Regex.IsMatch(req.UserName, "^[A-Za-z0-9._-]{3,40}$")) return RestApi.Problem("userName", req.UserName ?? "", "3-40 letters, digits, '.', '_' or '-'");
            if (PasswordPolicy.Check(req.Password, req.UserName) is { } why) return RestApi.Problem("password", "(hidden)", why);
            if (req.Role is not (Roles.Therapist or Roles.Admin)) return RestApi.Problem("role", req.Role ?? "", "therapist or admin");
            await using var ctx = db.Create();
            if (await ctx.Users.AnyAsync(x => x.UserName == req.UserName)) return RestApi.Problem("userName", req.UserName, "already exists", 409);
            if (req.Site is { } userSite && !Regex.IsMatch(userSite, "^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$")) return RestApi.Problem("site", userSite, "3-40 letters, digits, '_' or '-'");
            var user = new UserAccount { UserName = req.UserName, PasswordHash = "", Role = req.Role == Roles.Admin ? UserRole.Admin : UserRole.Therapist, CreatedAt = clock.GetUtcNow(), Site = req.Site };
            user.PasswordHash = new PasswordHasher<UserAccount>().HashPassword(user, req.Password!);
            ctx.Users.Add(user);
            await ctx.SaveChangesAsync();
            await store.Audit(Actor(u), "user_created", null, $"user:{user.Id} {req.Role}{(req.Site is null ? "" : " site " + req.Site)}");
            return Results.Created($"/api/users/{user.Id}", new UserInfo(user.Id, user.UserName, req.Role));
        }).WithMetadata(sizeLimit);

        // An administrator sets another user's password (policy-checked); every login of that user ends.
        admin.MapPost("/users/{id}/password", async (string id, PasswordResetRequest req, HttpContext http, DbFactory db, StoreWriter store, LoginSessions sessions, TimeProvider clock) =>
        {
            if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int userId)) return RestApi.Problem("id", id, "a user id (a number, see GET /api/users)");
            await using var ctx = db.Create();
            var user = await ctx.Users.FindAsync(userId);
            if (user is null) return RestApi.Problem("id", id, "no such user", 404);
            if (PasswordPolicy.Check(req?.Password, user.UserName) is { } why) return RestApi.Problem("password", "(hidden)", why);
            user.PasswordHash = new PasswordHasher<UserAccount>().HashPassword(user, req!.Password!);
            user.PasswordChangedAt = clock.GetUtcNow();
            await ctx.SaveChangesAsync();
            // The administrator's own current login survives a reset of their own password.
            int ended = await sessions.RevokeAllAsync(user.Id, "password_reset", keepToken: user.Id == UserId(http.User) ? LoginSessions.Token(http.User) : null);
            await store.Audit(Actor(http.User), "password_reset", null, $"user:{user.Id}, {ended} logins ended");
            return Results.NoContent();
        }).WithMetadata(sizeLimit);

        // An administrator lifts the login delay of a user name (failures from every address are forgotten).
        admin.MapPost("/users/{id}/unlock", async (string id, ClaimsPrincipal u, DbFactory db, StoreWriter store, LoginThrottle throttle) =>
        {
            if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int userId)) return RestApi.Problem("id", id, "a user id (a number, see GET /api/users)");
            await using var ctx = db.Create();
            var user = await ctx.Users.AsNoTracking().FirstOrDefaultAsync(x => x.Id == userId);
            if (user is null) return RestApi.Problem("id", id, "no such user", 404);
            int cleared = throttle.Forget(user.UserName);
            await store.Audit(Actor(u), "login_unlocked", null, $"user:{user.Id}, {cleared} delay counters cleared");
            return Results.NoContent();
        });
    }
}
