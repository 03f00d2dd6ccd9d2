using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Exposure.Domain;
using OpenVret.Protocol;
using OpenVret.Simulation;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret simulate-live</c>: a virtual patient as a real device. It pairs with a session by its code, says
/// hello with ECG, BVP, EDA, skin temperature and accelerometer channels, streams 100 ms batches in real time
/// (or faster with --speed) through the device hub, follows the scene commands it receives (its fear responds
/// to the stimulus the engine sets, pauses and calm scenes), reports SUDS and expectancy ratings, and keeps
/// every unacknowledged batch to resend after a reconnect.
/// </summary>
public static class SimulateLiveCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "server address", DefaultValueFactory = _ => "http://localhost:5080" };
        var code = new Option<string>("--code") { Description = "the session's pairing code (shown in the console)", Required = true };
        var seed = new Option<int>("--seed") { Description = "virtual patient and noise seed", DefaultValueFactory = _ => 1 };
        var seconds = new Option<double>("--seconds") { Description = "stop after this many seconds of data (0 = until the session ends)", DefaultValueFactory = _ => 0 };
        var speed = new Option<double>("--speed") { Description = "1 = real time; 2 = twice as fast, ...", DefaultValueFactory = _ => 1 };
        var cmd = new Command("simulate-live", "Stream a virtual patient to a running server as a device, responding to the scene commands it receives");
        foreach (var o in new Option[] { server, code, seed, seconds, speed }) cmd.Options.Add(o);
        cmd.SetAction((parse, ct) => RunAsync(parse.GetValue(server)!, parse.GetValue(code)!, parse.GetValue(seed), parse.GetValue(seconds), parse.GetValue(speed), Console.Out, ct));
        return cmd;
    }

    /// <summary>The stimulus the patient sees, as the scene commands set it.</summary>
    public sealed class SceneState
    {
        public double Intensity { get; private set; }
        public ExposureContext Context { get; private set; } = new();
        public bool Showing { get; private set; }
        public bool Paused { get; private set; }
        public bool Exposed => Showing && !Paused;
        public string Describe => !Showing ? "calm scene" : Paused ? "paused" : $"intensity {Intensity:0.00} in {Context}";

        public void Apply(SceneCommand c)
        {
            switch (c.Kind)
            {
                case SceneCommandKind.SetScene when c.ScenarioId is not null:
                    var scenario = ScenarioCatalog.Get(c.ScenarioId);
                    Intensity = scenario.Intensity(c.Parameters ?? new Dictionary<string, double>());
                    if (c.Context is { } x)
                        Context = new ExposureContext(x.GetValueOrDefault("room", Context.Room), x.GetValueOrDefault("lighting", Context.Lighting),
                            x.GetValueOrDefault("timeOfDay", Context.TimeOfDay), x.GetValueOrDefault("sound", Context.Sound));
                    Showing = true; Paused = false;
                    break;
                case SceneCommandKind.CalmScene: Showing = false; Paused = false; break;
                case SceneCommandKind.Pause: Paused = true; break;
                case SceneCommandKind.Resume: Paused = false; break;
            }
        }
    }

    public static async Task<int> RunAsync(string server, string code, int seed, double seconds, double speed, TextWriter output, CancellationToken ct,
        SceneState? sceneState = null, PatientStream? patientStream = null)
    {
        if (!(speed > 0 && speed <= 100)) { Console.Error.WriteLine($"error: speed = {speed}: between 0 and 100"); return 2; }
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        using var http = new HttpClient { BaseAddress = new Uri(server) };
        var r = await http.PostAsJsonAsync("/api/pair", new PairingRequest(code, $"simulated patient (seed {seed})", DeviceRole.SensorAndVr), json, ct);
        if (!r.IsSuccessStatusCode) { Console.Error.WriteLine($"error: code = {code}: pairing refused ({(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)})"); return 2; }
        var pairing = (await r.Content.ReadFromJsonAsync<PairingResult>(json, ct))!;
        var patient = patientStream ?? new PatientStream(seed);
        var rates = patient.Rates;
        var channels = new List<ChannelDeclaration>
        {
            new("ecg", ChannelKind.Ecg, rates.Ecg, "mV"), new("bvp", ChannelKind.Ppg, rates.Ppg, "a.u."), new("eda", ChannelKind.Eda, rates.Eda, "uS"),
            new("temp", ChannelKind.SkinTemperature, rates.Temperature, "degC"), new("acc", ChannelKind.Accelerometer, rates.Accelerometer, "g"),
        };
        var scene = sceneState ?? new SceneState();
        bool ended = false;
        HubConnection? hub = null;
        async Task Connect()
        {
            hub = new HubConnectionBuilder().WithUrl(new Uri(new Uri(server), ProtocolVersion.DeviceHubPath), o => o.AccessTokenProvider = () => Task.FromResult<string?>(pairing.DeviceToken))
                .AddMessagePackProtocol().Build();
            hub.On<SceneCommand>(DeviceClientMethods.Command, c => { lock (scene) scene.Apply(c); output.WriteLine($"scene: {c.Kind} {c.ScenarioId} ({c.Reason})"); });
            hub.On<DeviceNotice>(DeviceClientMethods.Notice, n => { if (n.Code == "session_ended") ended = true; output.WriteLine($"notice: {n.Text}"); });
            await hub.StartAsync(ct);
            var ack = await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "openvret simulate-live", channels), ct);
            if (ack.CurrentScene is { } current) lock (scene) scene.Apply(current);
            if (ack.Phase == SessionPhase.Paused) lock (scene) scene.Apply(new SceneCommand(0, SceneCommandKind.Pause, null, null, null, null, "paused"));
        }
        await Connect();
        output.WriteLine($"paired with session {pairing.SessionId} as {pairing.DeviceId}; streaming at {speed}x real time");

        var seq = new long[channels.Count];
        var sent = new long[channels.Count];
        double clockStart = 10_000 + seed;   // the device's own clock
        long eventSeq = 0;
        var pending = new List<SampleBatch>();
        var pendingEvents = new List<ClientEvent>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        double nextLog = 0;
        int tick = 0;
        while (!ended && !ct.IsCancellationRequested && (seconds <= 0 || patient.Time < seconds))
        {
            tick++;
            var wait = TimeSpan.FromSeconds(tick * 0.1 / speed) - started.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            double intensity; ExposureContext context; bool exposed;
            lock (scene) { intensity = scene.Intensity; context = scene.Context; exposed = scene.Exposed; }
            var (chunk, reports) = patient.Next(0.1, intensity, context, exposed);
            var data = new[] { chunk.Ecg, chunk.Ppg, chunk.Eda, chunk.Temperature, PatientStream.AccelerometerMagnitude(chunk) };
            for (int c = 0; c < channels.Count; c++)
            {
                if (data[c].Length == 0) continue;
                pending.Add(new SampleBatch(channels[c].Name, seq[c]++, clockStart + sent[c] / channels[c].RateHz, data[c].Select(v => (float)v).ToArray()));
                sent[c] += data[c].Length;
            }
            foreach (var rep in reports)
                pendingEvents.Add(new ClientEvent(eventSeq++, clockStart + patient.Time,
                    rep.Kind switch { "suds" => ClientEventKind.Suds, "expectancy" => ClientEventKind.ExpectancyBefore, _ => ClientEventKind.OutcomeAfter }, rep.Value, null, null));
            try
            {
                while (pending.Count > 0)
                {
                    var batch = pending.Take(16).ToArray();
                    var acks = await hub!.InvokeAsync<BatchAck[]>("SamplesMany", batch, ct);
                    var rejected = acks.Where(a => a.Status == BatchStatus.Rejected).ToList();
                    foreach (var a in rejected.Where(a => !(a.Error ?? "").StartsWith("rate", StringComparison.Ordinal)))
                        Console.Error.WriteLine($"rejected: {a.Channel} #{a.Sequence}: {a.Error}");
                    pending.RemoveRange(0, batch.Length);
                    if (rejected.Any(a => (a.Error ?? "").StartsWith("rate", StringComparison.Ordinal) || (a.Error ?? "").StartsWith("storage", StringComparison.Ordinal)))
                    {
                        pending.InsertRange(0, batch.Where((b, i) => acks[i].Status == BatchStatus.Rejected));
                        break;
                    }
                }
                while (pendingEvents.Count > 0)
                {
                    await hub!.InvokeAsync<EventAck>("Event", pendingEvents[0], ct);
                    pendingEvents.RemoveAt(0);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                output.WriteLine($"connection lost ({e.GetBaseException().Message}); reconnecting, {pending.Count} batch(es) kept");
                try { await hub!.DisposeAsync(); } catch { }
                while (!ct.IsCancellationRequested)
                {
                    try { await Connect(); break; }
                    catch (Exception) { await Task.Delay(1000, ct); }
                }
            }
            if (patient.Time >= nextLog)
            {
                nextLog += 10;
                lock (scene) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t={patient.Time:0} s: {scene.Describe}; arousal {patient.Arousal:0.00}"));
            }
        }
        if (hub is not null) await hub.DisposeAsync();
        return 0;
    }
}
