using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenVret.Protocol;
using Xunit;

namespace OpenVret.Server.Tests.Support;

/// <summary>
/// A real server for a test: Kestrel on 127.0.0.1 (random port), a real SQLite file in a fresh folder (or a
/// fresh PostgreSQL database), the real hubs and REST API. <see cref="RestartAsync"/> stops it and starts a new
/// process-equivalent on the same store.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AdminUser = "admin", AdminPassword = "test-server-passphrase-1";   // meets the password policy (no user name in it)
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private WebApplication? _app;
    private readonly Dictionary<string, string?> _settings;
    private readonly TimeProvider? _clock;
    public string DataFolder { get; }
    public string? Postgres { get; }
    public string BaseUrl { get; private set; } = "";
    public IServiceProvider Services => _app!.Services;
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    private TestServer(string dataFolder, string? postgres, Dictionary<string, string?> settings, TimeProvider? clock)
    {
        DataFolder = dataFolder; Postgres = postgres; _settings = settings; _clock = clock;
    }

    /// <param name="clock">The server's clock (e.g. a FakeTimeProvider the test advances); the system clock when null.</param>
    public static async Task<TestServer> StartAsync(string? postgres = null, Dictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "openvret-test-" + Guid.NewGuid().ToString("N")[..10]);
        var s = new Dictionary<string, string?>
        {
            ["OpenVret:DataFolder"] = folder,
            ["OpenVret:Demo"] = "false",
            ["OpenVret:AdminUser"] = AdminUser,
            ["OpenVret:AdminPassword"] = AdminPassword,
            ["OpenVret:TickMilliseconds"] = "100",
            ["OpenVret:LiveLogSeconds"] = "0",
            ["OpenVret:PostgresConnection"] = postgres,
        };
        foreach (var kv in settings ?? new()) s[kv.Key] = kv.Value;
        var server = new TestServer(folder, postgres, s, clock);
        await server.StartAppAsync();
        return server;
    }

    private async Task StartAppAsync()
    {
        // A restart listens on the same port, as a real server would, so clients can reconnect.
        string url = BaseUrl.Length > 0 ? BaseUrl : "http://127.0.0.1:0";
        _app = ServerApp.Build(Array.Empty<string>(), b =>
        {
            b.WebHost.UseUrls(url);
            b.Configuration.AddInMemoryCollection(_settings);
            if (_clock is not null) b.Services.AddSingleton(_clock);
            b.Logging.ClearProviders();
            if (Environment.GetEnvironmentVariable("OPENVRET_TEST_SERVER_LOG") == "1") b.Logging.AddConsole();
        });
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    /// <summary>Stops the server (as a crash would, without ending sessions) and starts a new one on the same store.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAgainAsync();
    }

    /// <summary>Stops the server (as a crash would, without ending sessions); <see cref="StartAgainAsync"/> brings it back.</summary>
    public async Task StopAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>Starts the server stopped by <see cref="StopAsync"/> again, on the same store and port.</summary>
    public Task StartAgainAsync() => StartAppAsync();

    public HttpClient Client(CookieContainer? cookies = null) =>
        new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), UseCookies = true }) { BaseAddress = new Uri(BaseUrl) };

    public sealed record Therapist(HttpClient Http, CookieContainer Cookies);

    public async Task<Therapist> LoginAsync(string user = AdminUser, string password = AdminPassword)
    {
        var cookies = new CookieContainer();
        var http = Client(cookies);
        var r = await http.PostAsJsonAsync("/api/auth/login", new { userName = user, password });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return new Therapist(http, cookies);
    }

    public static readonly object DemoHierarchy = JsonSerializer.Deserialize<JsonElement>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "demo", "heights-hierarchy.json")),
        new JsonSerializerOptions { ReadCommentHandling = JsonCommentHandling.Skip });

    public sealed record CreatedSession(string SessionId, string Code);

    /// <summary>Creates a patient and a session, starts it, and returns the pairing code.</summary>
    public async Task<CreatedSession> CreateSessionAsync(Therapist t, string mode = "suggest", double baseline = 60, bool start = true, string? patientId = null, string site = "test")
    {
        patientId ??= "P-" + Guid.NewGuid().ToString("N")[..8];
        var p = await t.Http.PostAsJsonAsync("/api/patients", new { id = patientId, site, hierarchy = DemoHierarchy });
        Assert.Equal(HttpStatusCode.Created, p.StatusCode);
        var r = await t.Http.PostAsJsonAsync("/api/sessions", new { patientId, scheduler = "inhibitory", mode, baselineSeconds = baseline, seed = 3 });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        string id = body.GetProperty("session").GetProperty("id").GetString()!;
        string code = body.GetProperty("pairing").GetProperty("code").GetString()!;
        if (start) Assert.Equal(HttpStatusCode.OK, (await t.Http.PostAsync($"/api/sessions/{id}/start", null)).StatusCode);
        return new CreatedSession(id, code);
    }

    public async Task<PairingResult> PairAsync(string code, DeviceRole role = DeviceRole.SensorAndVr, string name = "test device")
    {
        var r = await Client().PostAsJsonAsync("/api/pair", new PairingRequest(code, name, role), Json);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<PairingResult>(Json))!;
    }

    public async Task<HubConnection> DeviceConnectionAsync(string token, bool messagePack = false)
    {
        var b = new HubConnectionBuilder().WithUrl(BaseUrl + ProtocolVersion.DeviceHubPath, o => o.AccessTokenProvider = () => Task.FromResult<string?>(token));
        if (messagePack) b.AddMessagePackProtocol();
        else b.AddJsonProtocol(o => { o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()); o.PayloadSerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals; });
        var c = b.Build();
        await c.StartAsync();
        return c;
    }

    public async Task<HubConnection> ConsoleConnectionAsync(Therapist t)
    {
        var c = new HubConnectionBuilder()
            .WithUrl(BaseUrl + ProtocolVersion.ConsoleHubPath, o => o.Cookies = t.Cookies)
            .AddJsonProtocol(o => { o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()); o.PayloadSerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals; })
            .Build();
        await c.StartAsync();
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Postgres is not null) await TestPostgres.DropDatabaseAsync(Postgres);
        try { Directory.Delete(DataFolder, true); } catch (IOException) { }
    }
}

/// <summary>PostgreSQL for the same suite: OPENVRET_TEST_POSTGRES names a server (`.ci/run` starts Debian's); each test gets a fresh database.</summary>
public static class TestPostgres
{
    public static string? Admin => Environment.GetEnvironmentVariable("OPENVRET_TEST_POSTGRES");

    private static readonly Lazy<string?> Unreachable = new(() =>
    {
        if (string.IsNullOrEmpty(Admin)) return "OPENVRET_TEST_POSTGRES is not set (`.ci/run` sets it after starting PostgreSQL)";
        try
        {
            // A generous connect timeout: on a busy 2-core machine a reachable server can take seconds to answer,
            // and a timeout here silently skips every PostgreSQL test of the run.
            using var c = new NpgsqlConnection(Admin + ";Timeout=30");
            c.Open();
            return null;
        }
        catch (Exception e) { return $"PostgreSQL at OPENVRET_TEST_POSTGRES is not reachable: {e.Message}"; }
    });

    public static string? SkipReason => Unreachable.Value;

    public static async Task DropDatabaseAsync(string connection)
    {
        NpgsqlConnection.ClearAllPools();
        string name = new NpgsqlConnectionStringBuilder(connection).Database!;
        await using var c = new NpgsqlConnection(Admin);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c);
        for (int attempt = 1; ; attempt++)
        {
            try { await cmd.ExecuteNonQueryAsync(); return; }
            // FORCE cannot end a backend of another role: an autovacuum worker busy on the database after a test
            // that wrote a lot. It finishes within moments.
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 20) { await Task.Delay(250); }
        }
    }

    public static async Task<string> NewDatabaseAsync()
    {
        string name = "openvret_test_" + Guid.NewGuid().ToString("N")[..10];
        await using var c = new NpgsqlConnection(Admin);
        await c.OpenAsync();
        await using (var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c)) await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(Admin) { Database = name }.ToString();
    }
}

public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestPostgres.SkipReason is { } why) Skip = why;
    }
}
