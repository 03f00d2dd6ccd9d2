using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using OpenVret.Protocol;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// Accounts, login and browser security (docs/security.md): same-origin checks, server-side logins, the progressive
/// login delay, security headers and the password policy, against a real server.
/// </summary>
public class LoginSecurityTests
{
    private const string Evil = "http://127.0.0.1:8099";
    private const string LeePassword = "correct horse battery";

    private static HttpRequestMessage Post(string path, object body, string? origin = null, string? fetchSite = null)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (origin is not null) m.Headers.Add("Origin", origin);
        if (fetchSite is not null) m.Headers.Add("Sec-Fetch-Site", fetchSite);
        return m;
    }

    /// <summary>An HTTP client whose connections come from another loopback address (another "computer" to the server).</summary>
    private static HttpClient ClientFrom(TestServer s, string localAddress, CookieContainer? cookies = null) =>
        new(new SocketsHttpHandler
        {
            CookieContainer = cookies ?? new CookieContainer(), UseCookies = true,
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                await socket.ConnectAsync(ctx.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = new Uri(s.BaseUrl) };

    private static async Task<int> CreateUserAsync(TestServer.Therapist admin, string userName = "dr-lee", string password = LeePassword)
    {
        var r = await admin.Http.PostAsJsonAsync("/api/users", new { userName, password, role = "therapist" });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    // ------------------------------------------------------------------------------------------------- 7: CSRF

    [Fact]
    public async Task A_cookie_authenticated_change_from_another_origin_is_refused_and_same_origin_passes()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var patient = new { id = "P-csrf-1", site = "test", hierarchy = TestServer.DemoHierarchy };

        // A form or fetch on http://127.0.0.1:8099 (same site, other port: SameSite=Strict does not help).
        var r = await t.Http.SendAsync(Post("/api/patients", patient, origin: Evil));
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Origin", problem.GetProperty("field").GetString());
        Assert.Equal(Evil, problem.GetProperty("value").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await t.Http.GetAsync("/api/patients/P-csrf-1")).StatusCode);

        // Without Origin, the browser's Sec-Fetch-Site or Referer decides.
        r = await t.Http.SendAsync(Post("/api/patients", patient, fetchSite: "same-site"));
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Equal("Sec-Fetch-Site", (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        var withReferer = Post("/api/patients", patient);
        withReferer.Headers.Referrer = new Uri(Evil + "/form.html");
        Assert.Equal(HttpStatusCode.Forbidden, (await t.Http.SendAsync(withReferer)).StatusCode);
        // A Bearer header does not switch the check off while the login cookie is what authenticates (outside probe).
        var withBearer = Post("/api/patients", patient, origin: Evil);
        withBearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "zzz");
        Assert.Equal(HttpStatusCode.Forbidden, (await t.Http.SendAsync(withBearer)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await t.Http.GetAsync("/api/patients/P-csrf-1")).StatusCode);
        // Health data is never cached by the browser or a proxy.
        Assert.Contains("no-store", (await t.Http.GetAsync("/api/patients")).Headers.CacheControl?.ToString() ?? "");
        // Logging in from another origin (login CSRF) is refused too.
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Client().SendAsync(Post("/api/auth/login", new { userName = TestServer.AdminUser, password = TestServer.AdminPassword }, origin: Evil))).StatusCode);

        // The console's own origin passes.
        r = await t.Http.SendAsync(Post("/api/patients", patient, origin: s.BaseUrl.TrimEnd('/'), fetchSite: "same-origin"));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        // The console hub: negotiate and the WebSocket upgrade from another origin are refused.
        var negotiate = new HttpRequestMessage(HttpMethod.Post, ProtocolVersion.ConsoleHubPath + "/negotiate?negotiateVersion=1");
        negotiate.Headers.Add("Origin", Evil);
        Assert.Equal(HttpStatusCode.Forbidden, (await t.Http.SendAsync(negotiate)).StatusCode);
        using var ws = new ClientWebSocket();
        ws.Options.Cookies = t.Cookies;
        ws.Options.SetRequestHeader("Origin", Evil);
        var wsUrl = new Uri(s.BaseUrl.Replace("http://", "ws://").TrimEnd('/') + ProtocolVersion.ConsoleHubPath);
        await Assert.ThrowsAnyAsync<WebSocketException>(() => ws.ConnectAsync(wsUrl, CancellationToken.None));
        using var sameOrigin = new ClientWebSocket();
        sameOrigin.Options.Cookies = t.Cookies;
        sameOrigin.Options.SetRequestHeader("Origin", s.BaseUrl.TrimEnd('/'));
        await sameOrigin.ConnectAsync(wsUrl, CancellationToken.None);
        Assert.Equal(WebSocketState.Open, sameOrigin.State);
    }

    [Fact]
    public async Task A_configured_origin_is_allowed_and_device_tokens_are_not_origin_checked()
    {
        await using var s = await TestServer.StartAsync(settings: new() { ["OpenVret:AllowedOrigins:0"] = "https://vret.clinic.example" });
        var t = await s.LoginAsync();
        var r = await t.Http.SendAsync(Post("/api/patients", new { id = "P-proxy-1", site = "test", hierarchy = TestServer.DemoHierarchy }, origin: "https://vret.clinic.example"));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        // A request with a device token cannot be forged by a page (no cookie authenticates it): not refused for its Origin.
        var session = await s.CreateSessionAsync(t);
        var device = await s.PairAsync(session.Code);
        var asDevice = s.Client();
        asDevice.DefaultRequestHeaders.Authorization = new("Bearer", device.DeviceToken);
        var other = await asDevice.SendAsync(Post("/api/patients", new { id = "P-dev-1", site = "test", hierarchy = TestServer.DemoHierarchy }, origin: Evil));
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);   // refused because a device is no therapist, not for its origin
        Assert.DoesNotContain("\"field\":\"Origin\"", await other.Content.ReadAsStringAsync());
    }

    // ------------------------------------------------------------------------------------------------- 8: logins

    [Fact]
    public async Task A_copied_cookie_stops_working_after_logout_and_open_console_connections_close()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var copy = new CookieContainer();
        foreach (Cookie c in t.Cookies.GetCookies(new Uri(s.BaseUrl))) copy.Add(new Uri(s.BaseUrl), new Cookie(c.Name, c.Value));
        var thief = s.Client(copy);
        Assert.Equal(HttpStatusCode.OK, (await thief.GetAsync("/api/patients")).StatusCode);
        var hub = await s.ConsoleConnectionAsync(new TestServer.Therapist(thief, copy));
        await hub.InvokeAsync<JsonElement>("Watch", session.SessionId);

        Assert.Equal(HttpStatusCode.NoContent, (await t.Http.PostAsync("/api/auth/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.GetAsync("/api/patients")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.PostAsJsonAsync($"/api/sessions/{session.SessionId}/pairing-code", new { })).StatusCode);
        // The hub connection opened with that login is closed and its calls refused.
        await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync<JsonElement>("Watch", session.SessionId));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var again = await s.ConsoleConnectionAsync(new TestServer.Therapist(thief, copy));
            await again.InvokeAsync<JsonElement>("Watch", session.SessionId);
        });
    }

    [Fact]
    public async Task A_password_change_ends_other_logins_and_an_admin_reset_ends_all()
    {
        await using var s = await TestServer.StartAsync();
        var admin = await s.LoginAsync();
        int leeId = await CreateUserAsync(admin);
        var here = await s.LoginAsync("dr-lee", LeePassword);
        var there = await s.LoginAsync("dr-lee", LeePassword);

        // Wrong current password: refused (and counted like a failed login); a weak new one: refused, not echoed.
        var wrong = await here.Http.PostAsJsonAsync("/api/auth/password", new { currentPassword = "not-my-password-x", newPassword = "amber-otter-window-51" });
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal("currentPassword", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        var weak = await here.Http.PostAsJsonAsync("/api/auth/password", new { currentPassword = LeePassword, newPassword = "Password123!" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        var weakText = await weak.Content.ReadAsStringAsync();
        Assert.Contains("newPassword", weakText);
        Assert.DoesNotContain("Password123!", weakText);

        Assert.Equal(HttpStatusCode.NoContent, (await here.Http.PostAsJsonAsync("/api/auth/password", new { currentPassword = LeePassword, newPassword = "amber-otter-window-51" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await here.Http.GetAsync("/api/patients")).StatusCode);        // this login goes on
        Assert.Equal(HttpStatusCode.Unauthorized, (await there.Http.GetAsync("/api/patients")).StatusCode);   // the other one ended
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Client().PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = LeePassword })).StatusCode);
        var again = await s.LoginAsync("dr-lee", "amber-otter-window-51");

        // The administrator resets it: every login of the user ends.
        var bad = await admin.Http.PostAsJsonAsync($"/api/users/{leeId}/password", new { password = "dr-lee-2026-spring" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("password", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.PostAsJsonAsync($"/api/users/{leeId}/password", new { password = "violet-canyon-drum-88" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await here.Http.GetAsync("/api/patients")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.Http.GetAsync("/api/patients")).StatusCode);
        await s.LoginAsync("dr-lee", "violet-canyon-drum-88");
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.Http.PostAsJsonAsync("/api/users/abc/password", new { password = "violet-canyon-drum-88" })).StatusCode);

        var audit = await admin.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        var actions = audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Contains("password_changed", actions);
        Assert.Contains("password_reset", actions);
        Assert.Contains("password_change_failed", actions);
    }

    [Fact]
    public async Task A_real_login_cookie_ends_at_a_short_configured_absolute_limit()
    {
        // 2 s absolute limit: the login works, then (polled, with a deadline) stops working although it was in use.
        await using var s = await TestServer.StartAsync(settings: new() { ["OpenVret:LoginAbsoluteHours"] = (2.0 / 3600).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var sw = Stopwatch.StartNew();
        var t = await s.LoginAsync();
        Assert.Equal(HttpStatusCode.OK, (await t.Http.GetAsync("/api/patients")).StatusCode);
        HttpStatusCode status = HttpStatusCode.OK;
        while (sw.Elapsed < TimeSpan.FromSeconds(30) && status == HttpStatusCode.OK)
        {
            await Task.Delay(100);
            status = (await t.Http.GetAsync("/api/patients")).StatusCode;
        }
        // The exact instant is LoginPolicyTests' (fake clock); here only: it worked, then it ended on a real server.
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    // ------------------------------------------------------------------------------------------------- 9: login delay

    [Fact]
    public async Task An_unknown_user_and_a_wrong_password_get_the_same_answer_in_the_same_time()
    {
        await using var s = await TestServer.StartAsync();
        var anon = s.Client();
        async Task<(HttpStatusCode Status, string Type, byte[] Body, double Ms)> Try(string user, string password)
        {
            var sw = Stopwatch.StartNew();
            var r = await anon.PostAsJsonAsync("/api/auth/login", new { userName = user, password });
            var body = await r.Content.ReadAsByteArrayAsync();
            return (r.StatusCode, r.Content.Headers.ContentType?.ToString() ?? "", body, sw.Elapsed.TotalMilliseconds);
        }
        await Try("warm-up-user", "warm-up-password");
        var unknown = new List<double>();
        var wrong = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            var u = await Try($"nobody-{i}", "some-wrong-password");
            var w = await Try(TestServer.AdminUser, "some-wrong-password");
            Assert.Equal(HttpStatusCode.Unauthorized, u.Status);
            Assert.Equal(u.Status, w.Status);
            Assert.Equal(u.Type, w.Type);
            Assert.Equal(u.Body, w.Body);
            unknown.Add(u.Ms);
            wrong.Add(w.Ms);
        }
        // Both verify a password hash (PBKDF2, ~100 ms and more): an unknown name is not answered at once.
        double mu = unknown.Order().ElementAt(1), mw = wrong.Order().ElementAt(1);
        Assert.True(mu > mw * 0.4, $"unknown user answered in {mu:F0} ms, wrong password in {mw:F0} ms");
        // A password over the limit fails the same way without being hashed as given.
        var huge = await Try(TestServer.AdminUser, new string('x', 5000));
        Assert.Equal(HttpStatusCode.Unauthorized, huge.Status);
        Assert.Equal(unknown.Count, wrong.Count);
    }

    [Fact]
    public async Task The_delay_answers_alike_for_real_and_unknown_users_spares_other_addresses_and_the_admin_can_lift_it()
    {
        // A first delay of a minute: the test does not race it on a slow machine.
        await using var s = await TestServer.StartAsync(settings: new() { ["OpenVret:LoginDelayFirstSeconds"] = "60" });
        var admin = await s.LoginAsync();
        int leeId = await CreateUserAsync(admin);
        var attacker = s.Client();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = $"guess-{i}" })).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsJsonAsync("/api/auth/login", new { userName = "dr-nobody", password = $"guess-{i}" })).StatusCode);
        }
        var real = await attacker.PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = LeePassword });
        var unknown = await attacker.PostAsJsonAsync("/api/auth/login", new { userName = "dr-nobody", password = LeePassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, real.StatusCode);
        Assert.Equal(real.StatusCode, unknown.StatusCode);
        Assert.Equal(await real.Content.ReadAsByteArrayAsync(), await unknown.Content.ReadAsByteArrayAsync());
        Assert.True(real.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.True(unknown.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // The real user, from another address, is not kept out.
        var elsewhere = ClientFrom(s, "127.0.0.2");
        Assert.Equal(HttpStatusCode.OK, (await elsewhere.PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = LeePassword })).StatusCode);
        // The administrator lifts the delay (audited): from the attacker's address too the right password works at once.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.PostAsync($"/api/users/{leeId}/unlock", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await attacker.PostAsJsonAsync("/api/auth/login", new { userName = "dr-lee", password = LeePassword })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.Http.PostAsync("/api/users/999/unlock", null)).StatusCode);
        var lee = await s.LoginAsync("dr-lee", LeePassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await lee.Http.PostAsync($"/api/users/{leeId}/unlock", null)).StatusCode);
        var audit = await admin.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=5000");
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("action").GetString() == "login_unlocked");
        Assert.DoesNotContain(audit.EnumerateArray(), a => a.GetProperty("detail").GetString()!.Contains("dr-nobody"));
    }

    [Fact]
    public async Task Twenty_failed_logins_do_not_block_pairing_from_that_address()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var anon = s.Client();
        for (int i = 0; i < 20; i++)
            Assert.NotEqual(HttpStatusCode.OK, (await anon.PostAsJsonAsync("/api/auth/login", new { userName = $"u{i}", password = "wrong-password-here" })).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await anon.PostAsJsonAsync("/api/auth/login", new { userName = "u-last", password = "wrong-password-here" })).StatusCode);
        await s.PairAsync(session.Code);
    }

    // ------------------------------------------------------------------------------------------------- 10: headers

    [Fact]
    public async Task Every_response_carries_the_security_headers_and_no_server_header()
    {
        await using var s = await TestServer.StartAsync();
        var anon = s.Client();
        foreach (var path in new[] { "/console/", "/vr/", "/console/console.js", "/lib/uPlot.min.css", "/api/auth/me", "/api/patients", "/no-such-page", "/health" })
        {
            var r = await anon.GetAsync(path);
            string Header(string name) => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : r.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : "";
            var csp = Header("Content-Security-Policy");
            Assert.True(csp.Length > 0, $"{path}: no Content-Security-Policy");
            var scriptSrc = csp.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src ", StringComparison.Ordinal));
            Assert.Equal("script-src 'self'", scriptSrc);
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("default-src 'self'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.Equal("nosniff", Header("X-Content-Type-Options"));
            Assert.Equal("no-referrer", Header("Referrer-Policy"));
            Assert.Equal("", Header("Server"));
            Assert.Equal("", Header("Strict-Transport-Security"));   // no TLS configured: no HSTS
        }
    }

    [Fact]
    public async Task With_an_HTTPS_endpoint_the_server_sends_HSTS_and_redirects_HTTP()
    {
        // A self-signed certificate made for this test, in a temporary file (never in code or the repository).
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=vret.test", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(Path.GetTempPath(), "openvret-tls-" + Guid.NewGuid().ToString("N")[..10] + ".pfx");
        var pfxPassword = Guid.NewGuid().ToString("N");
        await File.WriteAllBytesAsync(pfx, cert.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, pfxPassword));
        int httpsPort = TestPorts.Free(), httpPort = TestPorts.Free();
        try
        {
            await using var s = await TestServer.StartAsync(settings: new()
            {
                ["Kestrel:Endpoints:Https:Url"] = $"https://127.0.0.1:{httpsPort}",
                ["Kestrel:Endpoints:Https:Certificate:Path"] = pfx,
                ["Kestrel:Endpoints:Https:Certificate:Password"] = pfxPassword,
                ["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{httpPort}",
                ["https_port"] = httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            using var https = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
            var m = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{httpsPort}/api/auth/me");
            m.Headers.Host = "vret.clinic.example";   // ASP.NET Core sends no HSTS to localhost names
            var r = await https.SendAsync(m);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.StartsWith("max-age=", string.Join(",", r.Headers.GetValues("Strict-Transport-Security")));
            Assert.Contains("script-src 'self'", string.Join(",", r.Headers.GetValues("Content-Security-Policy")));
            using var plain = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            var redirect = await plain.GetAsync($"http://127.0.0.1:{httpPort}/console/");
            Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
            Assert.Equal($"https://127.0.0.1:{httpsPort}/console/", redirect.Headers.Location!.ToString());
        }
        finally { File.Delete(pfx); }
    }

    [Fact]
    public async Task The_pages_have_no_inline_script_or_handlers()
    {
        await using var s = await TestServer.StartAsync();
        var anon = s.Client();
        foreach (var path in new[] { "/console/", "/vr/" })
        {
            var html = await anon.GetStringAsync(path);
            Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"<script(?![^>]*\bsrc=)[^>]*>", System.Text.RegularExpressions.RegexOptions.IgnoreCase), html);
            Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"\son[a-z]+\s*=", System.Text.RegularExpressions.RegexOptions.IgnoreCase), html);
            Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
        }
    }

    // ------------------------------------------------------------------------------------------------- 11: passwords

    [Fact]
    public async Task User_creation_applies_the_policy_and_huge_passwords_are_refused()
    {
        await using var s = await TestServer.StartAsync();
        var admin = await s.LoginAsync();
        foreach (var (password, expected) in new[] { ("dr-kim-password", "user name"), ("Password2026!", "common"), ("zzzzzzzzzzzzzzzz", "too simple"), (new string('k', 300) + "Q1!", "at most 256") })
        {
            var r = await admin.Http.PostAsJsonAsync("/api/users", new { userName = "dr-kim", password, role = "therapist" });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var text = await r.Content.ReadAsStringAsync();
            var problem = JsonDocument.Parse(text).RootElement;
            Assert.Equal("password", problem.GetProperty("field").GetString());
            Assert.Contains(expected, problem.GetProperty("detail").GetString());
            Assert.DoesNotContain(password, text);
        }
        // A 1 MB password: the request is refused before the password is read or hashed (413; or the server closes
        // the connection while the client is still sending).
        var megabyte = new string('m', 1 << 20);
        foreach (var (client, path, body) in new (HttpClient, string, object)[]
        {
            (admin.Http, "/api/users", new { userName = "dr-kim", password = megabyte, role = "therapist" }),
            (s.Client(), "/api/auth/login", new { userName = TestServer.AdminUser, password = megabyte }),
        })
        {
            try { Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json"))).StatusCode); }
            catch (HttpRequestException) { }
        }
        var users = await admin.Http.GetFromJsonAsync<JsonElement>("/api/users");
        Assert.DoesNotContain(users.EnumerateArray(), u => u.GetProperty("userName").GetString() == "dr-kim");
    }

    [Fact]
    public async Task A_configured_first_password_that_breaks_the_policy_stops_the_server_without_showing_it()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(settings: new() { ["OpenVret:AdminPassword"] = "admin-password-2026" }));
        Assert.Contains("OpenVret:AdminPassword", e.Message);
        Assert.DoesNotContain("admin-password-2026", e.Message);
    }
}
