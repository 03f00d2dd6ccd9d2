using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Protocol;
using OpenVret.Simulation;

// Load tool for the session server (issue #6 benchmarks). Starts the real server as a separate process on a fresh
// SQLite store (or PostgreSQL with --postgres), creates N sessions, pairs one simulated wearable per session and
// streams ECG 250 Hz + BVP 64 Hz + EDA 4 Hz + ACC 32 Hz in 100 ms batches in real time for --seconds.
// Reports: whether every device kept real time, acked vs stored samples (lost = acked but not stored), client ack
// latency (includes the durable commit), the server's processing latency (arrival -> features, estimate, engine,
// proposals), and the server process's CPU. --restart kills the server (SIGKILL) mid-run and starts it again.
//
//   dotnet run -c Release --project bench/OpenVret.Load -- --sessions 200 --seconds 60 [--restart] [--protocol json|msgpack] [--postgres CONN [--nodes N]] [--connect-wave N]

var opts = Options.Parse(args);
var root = Repo.Root();
var serverDll = Path.Combine(root, "src", "OpenVret.Server", "bin", "Release", "net10.0", "OpenVret.Server.dll");
if (!File.Exists(serverDll)) { Console.Error.WriteLine($"error: server = '{serverDll}': build it first (dotnet build -c Release src/OpenVret.Server)"); return 2; }
var data = Path.Combine(Path.GetTempPath(), "openvret-load-" + Guid.NewGuid().ToString("N")[..8]);
const string admin = "load-admin", password = "load-bench-passphrase-1";
int port = opts.Port;
string url = $"http://127.0.0.1:{port}";
if (opts.Nodes > 0 && opts.Postgres is null) { Console.Error.WriteLine("error: --nodes = " + opts.Nodes + ": cluster mode needs --postgres CONN"); return 2; }
// Cluster mode (--nodes N): N server processes, each a node of one cluster; devices are dealt to the nodes in turn.
var nodeUrls = opts.Nodes > 0 ? Enumerable.Range(0, opts.Nodes).Select(i => $"http://127.0.0.1:{port + i}").ToArray() : new[] { url };
var extraNodes = new List<Process>();

Process StartServer() => StartNode(0);

Process StartNode(int node)
{
    var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in new[] { serverDll, $"--urls={nodeUrls[node]}", $"--OpenVret:DataFolder={data}", "--OpenVret:Demo=false", $"--OpenVret:AdminUser={admin}",
        $"--OpenVret:AdminPassword={password}", "--OpenVret:LiveLogSeconds=0", "--OpenVret:LoginAttemptsPerMinute=100000", $"--OpenVret:BaselineSeconds=60",
        "--Logging:LogLevel:Default=Warning" })
        psi.ArgumentList.Add(a);
    if (opts.Postgres is not null) psi.ArgumentList.Add($"--OpenVret:PostgresConnection={opts.Postgres}");
    if (opts.Nodes > 0)
        foreach (var a in new[] { "--OpenVret:Hosting=cluster", $"--OpenVret:SiloPort={21111 + node}", $"--OpenVret:GatewayPort={31111 + node}" }) psi.ArgumentList.Add(a);
    var p = Process.Start(psi)!;
    p.OutputDataReceived += (_, e) => { if (e.Data is not null && opts.Verbose) Console.WriteLine("[server] " + e.Data); };
    p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine("[server] " + e.Data); };
    p.BeginOutputReadLine(); p.BeginErrorReadLine();
    if (opts.Verbose) Console.WriteLine($"server pid {p.Id}");
    return p;
}

async Task WaitHealthy(string? at = null)
{
    using var h = new HttpClient();
    for (int i = 0; i < 600; i++)
    {
        try { if ((await h.GetAsync((at ?? url) + "/health")).IsSuccessStatusCode) return; } catch (HttpRequestException) { }
        await Task.Delay(100);
    }
    throw new Exception("server did not become healthy");
}

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
var server = StartServer();
try
{
    await WaitHealthy();
    for (int n = 1; n < opts.Nodes; n++) { extraNodes.Add(StartNode(n)); await WaitHealthy(nodeUrls[n]); }
    var cookies = new CookieContainer();
    var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(url) };
    (await http.PostAsJsonAsync("/api/auth/login", new { userName = admin, password })).EnsureSuccessStatusCode();
    var hierarchy = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(root, "samples", "exposure", "heights-hierarchy.json")), new JsonSerializerOptions { ReadCommentHandling = JsonCommentHandling.Skip });

    var starters = new HttpClient[nodeUrls.Length];
    for (int n = 0; n < nodeUrls.Length; n++)
    {
        starters[n] = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(nodeUrls[n]) };
        (await starters[n].PostAsJsonAsync("/api/auth/login", new { userName = admin, password })).EnsureSuccessStatusCode();
    }
    Console.WriteLine($"setting up {opts.Sessions} sessions ...");
    var templates = Templates.Make(8, opts.Seconds + 5);
    var devices = new List<Device>();
    var setupWatch = Stopwatch.StartNew();
    for (int i = 0; i < opts.Sessions; i++)
    {
        string pid = $"P-load-{i:D5}";
        (await http.PostAsJsonAsync("/api/patients", new { id = pid, site = "load", hierarchy })).EnsureSuccessStatusCode();
        var r = await http.PostAsJsonAsync("/api/sessions", new { patientId = pid, mode = "supervised-auto", baselineSeconds = 60, seed = i });
        r.EnsureSuccessStatusCode();
        var body = await r.Content.ReadFromJsonAsync<JsonElement>();
        string sid = body.GetProperty("session").GetProperty("id").GetString()!, code = body.GetProperty("pairing").GetProperty("code").GetString()!;
        // Start each session through the node its device will use: the grain starts there (prefer-local placement).
        (await starters[i % starters.Length].PostAsync($"/api/sessions/{sid}/start", null)).EnsureSuccessStatusCode();
        var pr = await http.PostAsJsonAsync("/api/pair", new PairingRequest(code, "load device", DeviceRole.Sensor), json);
        pr.EnsureSuccessStatusCode();
        var pairing = (await pr.Content.ReadFromJsonAsync<PairingResult>(json))!;
        devices.Add(new Device(sid, pairing.DeviceToken, templates[i % templates.Length], i * 0.37 % 1.0, nodeUrls[i % nodeUrls.Length], opts.MessagePack));
    }
    // All devices connect at once by default (a storm the server must queue, not refuse); --connect-wave N connects N at a time.
    foreach (var wave in devices.Chunk(opts.ConnectWave > 0 ? opts.ConnectWave : devices.Count)) await Task.WhenAll(wave.Select(d => d.ConnectAsync()));
    Console.WriteLine($"{devices.Count} sessions ready in {setupWatch.Elapsed.TotalSeconds:0.0} s; streaming {opts.Seconds} s in real time ({(opts.MessagePack ? "MessagePack" : "JSON")})");

    var cpuStart = server.TotalProcessorTime + extraNodes.Aggregate(TimeSpan.Zero, (t, p) => t + p.TotalProcessorTime);
    var wall = Stopwatch.StartNew();
    var clientCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
    await http.GetAsync("/api/stats?reset=true");
    var cts = new CancellationTokenSource();
    var runs = devices.Select(d => d.RunAsync(opts.Seconds, cts.Token)).ToList();
    TimeSpan serverCpu = TimeSpan.Zero;
    string? restartReport = null;
    if (opts.Restart)
    {
        await Task.Delay(TimeSpan.FromSeconds(opts.Seconds / 2.0));
        serverCpu += server.TotalProcessorTime - cpuStart;
        var killedAt = Stopwatch.StartNew();
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
        Console.WriteLine($"server killed (SIGKILL) at {wall.Elapsed.TotalSeconds:0.0} s; restarting ...");
        server = StartServer();
        await WaitHealthy();
        cpuStart = server.TotalProcessorTime;
        restartReport = $"server back (healthy) {killedAt.Elapsed.TotalSeconds:0.0} s after the kill";
        Console.WriteLine(restartReport);
        cookies = new CookieContainer();
        http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(url) };
        (await http.PostAsJsonAsync("/api/auth/login", new { userName = admin, password })).EnsureSuccessStatusCode();
    }
    await Task.WhenAll(runs);
    var elapsed = wall.Elapsed;
    var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpuStart;
    serverCpu += server.TotalProcessorTime + extraNodes.Aggregate(TimeSpan.Zero, (t, p) => t + p.TotalProcessorTime) - cpuStart;
    var stats = await http.GetFromJsonAsync<JsonElement>("/api/stats");

    // Lost = acknowledged by the server but not in the store.
    long acked = devices.Sum(d => d.AckedSamples), sent = devices.Sum(d => d.SentSamples);
    long stored = Store.CountSamples(data, opts.Postgres);
    var ackLat = devices.SelectMany(d => d.AckLatencies).OrderBy(x => x).ToArray();
    double P(double[] x, double q) => x.Length == 0 ? double.NaN : x[Math.Min(x.Length - 1, (int)(q * x.Length))];
    double worstLag = devices.Max(d => d.MaxLagSeconds), endLag = devices.Max(d => d.EndLagSeconds);
    long missing = devices.Sum(d => d.MissingAckedSamples(data, opts.Postgres));
    int reconnects = devices.Sum(d => d.Reconnects);
    bool realTime = endLag < 1.0;
    Console.WriteLine();
    Console.WriteLine($"sessions {opts.Sessions}, {elapsed.TotalSeconds:0.0} s: real time {(realTime ? "HELD" : "NOT held")} (device lag at end max {endLag:0.00} s, worst during run {worstLag:0.00} s)");
    Console.WriteLine($"samples sent {sent:N0}, acknowledged {acked:N0}, stored {stored:N0}, acknowledged but not stored {missing:N0}; reconnects {reconnects}");
    Console.WriteLine($"ack latency (client, includes durable commit) p50 {P(ackLat, 0.5):0.0} ms, p99 {P(ackLat, 0.99):0.0} ms, max {ackLat.LastOrDefault():0.0} ms");
    Console.WriteLine($"server processing latency (arrival -> proposal) p50 {stats.GetProperty("latencyP50Ms").GetDouble():0.00} ms, p99 {stats.GetProperty("latencyP99Ms").GetDouble():0.00} ms, max {stats.GetProperty("latencyMaxMs").GetDouble():0.0} ms (last {stats.GetProperty("latencyWindow").GetInt32()} batches)");
    if (opts.Nodes > 0) Console.WriteLine($"cluster mode: {opts.Nodes} node(s); CPU summed over the nodes; processing latency from node 1");
    Console.WriteLine($"server CPU {serverCpu.TotalSeconds:0.0} s over {elapsed.TotalSeconds:0.0} s = {serverCpu.TotalSeconds / elapsed.TotalSeconds * 100:0}% of one core; {serverCpu.TotalMilliseconds / elapsed.TotalSeconds / opts.Sessions:0.00} ms CPU per session-second; store commits {stats.GetProperty("storeCommits").GetInt64():N0}");
    Console.WriteLine($"load generator CPU (same machine) {clientCpu.TotalSeconds:0.0} s = {clientCpu.TotalSeconds / elapsed.TotalSeconds * 100:0}% of one core; {clientCpu.TotalMilliseconds / elapsed.TotalSeconds / opts.Sessions:0.00} ms per session-second");
    if (restartReport is not null) Console.WriteLine(restartReport);
    cts.Cancel();
    foreach (var d in devices) await d.DisposeAsync();
    return realTime && missing == 0 ? 0 : 1;
}
finally
{
    if (!server.HasExited) { server.Kill(true); await server.WaitForExitAsync(); }
    foreach (var n in extraNodes) if (!n.HasExited) { n.Kill(true); await n.WaitForExitAsync(); }
    SqliteConnection.ClearAllPools();
    try { Directory.Delete(data, true); } catch (IOException) { }
}

sealed record Options(int Sessions, int Seconds, bool Restart, bool MessagePack, int Port, string? Postgres, bool Verbose, int Nodes, int ConnectWave)
{
    public static Options Parse(string[] a)
    {
        string? Get(string name) { int i = Array.IndexOf(a, name); return i >= 0 && i + 1 < a.Length ? a[i + 1] : null; }
        return new Options(int.Parse(Get("--sessions") ?? "100", CultureInfo.InvariantCulture), int.Parse(Get("--seconds") ?? "60", CultureInfo.InvariantCulture),
            a.Contains("--restart"), (Get("--protocol") ?? "msgpack") == "msgpack", int.Parse(Get("--port") ?? "5099", CultureInfo.InvariantCulture), Get("--postgres"), a.Contains("--verbose"),
            int.Parse(Get("--nodes") ?? "0", CultureInfo.InvariantCulture), int.Parse(Get("--connect-wave") ?? "0", CultureInfo.InvariantCulture));
    }
}

static class Repo
{
    public static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "OpenVret.slnx"))) return d.FullName;
        throw new Exception("repository root (OpenVret.slnx) not found");
    }
}

/// <summary>Pre-generated physiology (a few virtual patients) that the devices loop over: generating 1,000 live would load the client, not the server.</summary>
static class Templates
{
    public sealed record Template(float[] Ecg, float[] Bvp, float[] Eda, float[] Acc);

    public static Template[] Make(int count, int seconds)
    {
        var profiles = Cohort.Draw(count, 21);
        return profiles.AsParallel().AsOrdered().Select((p, i) =>
        {
            var g = new SignalGenerator(p, 100 + i);
            var c = g.Next(seconds, t => 0.3 + 0.25 * Math.Sin(2 * Math.PI * t / 120));
            var acc = c.AccX.Select((x, k) => (float)Math.Sqrt(x * x + c.AccY[k] * c.AccY[k] + c.AccZ[k] * c.AccZ[k])).ToArray();
            return new Template(c.Ecg.Select(v => (float)v).ToArray(), c.Ppg.Select(v => (float)v).ToArray(), c.Eda.Select(v => (float)v).ToArray(), acc);
        }).ToArray();
    }
}

sealed class Device(string sessionId, string token, Templates.Template data, double phase, string url, bool messagePack) : IAsyncDisposable
{
    private static readonly (string Name, ChannelKind Kind, double Rate)[] Spec = { ("ecg", ChannelKind.Ecg, 250), ("bvp", ChannelKind.Ppg, 64), ("eda", ChannelKind.Eda, 4), ("acc", ChannelKind.Accelerometer, 32) };
    private HubConnection? _hub;
    private readonly long[] _seq = new long[4];
    private readonly long[] _pos = new long[4];
    private readonly List<(string Channel, long Seq, int Count)> _acked = new();
    public long SentSamples, AckedSamples;
    public int Reconnects;
    public double MaxLagSeconds, EndLagSeconds;
    public ConcurrentBag<double> AckLatencies { get; } = new();

    public async Task ConnectAsync()
    {
        var b = new HubConnectionBuilder().WithUrl(url + ProtocolVersion.DeviceHubPath, o => o.AccessTokenProvider = () => Task.FromResult<string?>(token));
        if (messagePack) b.AddMessagePackProtocol();
        else b.AddJsonProtocol(o => { o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()); o.PayloadSerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals; });
        _hub = b.Build();
        _hub.ServerTimeout = TimeSpan.FromSeconds(60);
        await _hub.StartAsync();
        await _hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "openvret-load", Spec.Select(s => new ChannelDeclaration(s.Name, s.Kind, s.Rate, "")).ToList()));
    }

    private float[] Slice(int k, long from, int n)
    {
        var src = k switch { 0 => data.Ecg, 1 => data.Bvp, 2 => data.Eda, _ => data.Acc };
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = src[(int)((from + i) % src.Length)];
        return x;
    }

    public async Task RunAsync(int seconds, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(phase * 0.1), ct);   // spread the devices over the 100 ms tick
        var clock = Stopwatch.StartNew();
        double deviceStart = 1000 + phase * 50;
        var pending = new Queue<SampleBatch>();
        for (int tick = 1; tick <= seconds * 10; tick++)
        {
            var due = TimeSpan.FromMilliseconds(100 * tick);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            double lag = (clock.Elapsed - due).TotalSeconds;
            MaxLagSeconds = Math.Max(MaxLagSeconds, lag);
            for (int k = 0; k < 4; k++)
            {
                long upTo = (long)Math.Floor(tick * 0.1 * Spec[k].Rate);
                int n = (int)(upTo - _pos[k]);
                if (n <= 0) continue;
                pending.Enqueue(new SampleBatch(Spec[k].Name, _seq[k]++, deviceStart + _pos[k] / Spec[k].Rate, Slice(k, _pos[k], n)));
                _pos[k] = upTo;
                SentSamples += n;
            }
            while (pending.Count > 0)
            {
                // Every channel of the tick in one message (SamplesMany); each batch keeps its own ack.
                var send = pending.Take(16).ToArray();
                var t0 = Stopwatch.GetTimestamp();
                BatchAck[] acks;
                try { acks = await _hub!.InvokeAsync<BatchAck[]>("SamplesMany", send, ct); }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    // Connection lost (e.g. the server was killed): keep the batches, reconnect, say hello, resend.
                    await ReconnectAsync(ct);
                    continue;
                }
                AckLatencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                bool retryLater = false;
                for (int i = 0; i < send.Length; i++)
                {
                    var (b, ack) = (send[i], acks[i]);
                    if (ack.Status is BatchStatus.Accepted or BatchStatus.AcceptedLate or BatchStatus.Duplicate)
                    {
                        if (ack.Status != BatchStatus.Duplicate) { AckedSamples += b.Samples.Length; _acked.Add((b.Channel, b.Sequence, b.Samples.Length)); }
                    }
                    else if (ack.Error?.StartsWith("rate", StringComparison.Ordinal) == true || ack.Error?.StartsWith("storage", StringComparison.Ordinal) == true) retryLater = true;
                    else throw new Exception($"rejected: {ack.Error}");
                }
                // Keep what was not acknowledged (in order) and resend it.
                var keep = send.Where((b, i) => acks[i].Status == BatchStatus.Rejected).Concat(pending.Skip(send.Length)).ToList();
                pending = new Queue<SampleBatch>(keep);
                if (retryLater) await Task.Delay(100, ct);
            }
        }
        EndLagSeconds = Math.Max(0, (clock.Elapsed - TimeSpan.FromSeconds(seconds)).TotalSeconds);
    }

    private async Task ReconnectAsync(CancellationToken ct)
    {
        Reconnects++;
        if (_hub is not null) { try { await _hub.DisposeAsync(); } catch { } }
        while (!ct.IsCancellationRequested)
        {
            try { await ConnectAsync(); return; }
            catch (Exception) { await Task.Delay(250, ct); }
        }
    }

    /// <summary>Acknowledged batches not found in the store (must be 0).</summary>
    public long MissingAckedSamples(string dataFolder, string? postgres)
    {
        var stored = Store.Sequences(dataFolder, postgres, sessionId);
        return _acked.Where(a => !stored.Contains((a.Channel, a.Seq))).Sum(a => (long)a.Count);
    }

    public async ValueTask DisposeAsync()
    {
        if (_hub is not null) await _hub.DisposeAsync();
    }
}

static class Store
{
    private static System.Data.Common.DbConnection Open(string dataFolder, string? postgres)
    {
        System.Data.Common.DbConnection c = postgres is null
            ? new SqliteConnection($"Data Source={Path.Combine(dataFolder, "openvret.db")};Mode=ReadOnly")
            : new Npgsql.NpgsqlConnection(postgres);
        c.Open();
        return c;
    }

    public static long CountSamples(string dataFolder, string? postgres)
    {
        using var c = Open(dataFolder, postgres);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(SUM(\"Count\"), 0) FROM \"SampleBlocks\"";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, HashSet<(string, long)>>? _cache;

    public static HashSet<(string, long)> Sequences(string dataFolder, string? postgres, string sessionId)
    {
        if (_cache is null)
        {
            _cache = new();
            using var c = Open(dataFolder, postgres);
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT \"Id\", \"SessionId\", \"DeviceId\", \"Data\" FROM \"SampleBlocks\"";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var block = new OpenVret.Server.Data.SampleBlock { Id = r.GetInt64(0), SessionId = r.GetString(1), DeviceId = r.GetString(2), Data = (byte[])r.GetValue(3) };
                if (!_cache.TryGetValue(block.SessionId, out var set)) _cache[block.SessionId] = set = new();
                foreach (var (channel, sequence, _) in OpenVret.Server.Data.SampleBlockCodec.Heads(block)) set.Add((channel, sequence));
            }
        }
        return _cache.TryGetValue(sessionId, out var s) ? s : new();
    }
}
