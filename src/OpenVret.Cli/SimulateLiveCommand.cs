using System.CommandLine;
using System.Globalization;
using OpenVret.Client;
using OpenVret.Exposure.Domain;
using OpenVret.Protocol;
using OpenVret.Server.Demo;
using OpenVret.Simulation;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret simulate-live</c>: a virtual patient as a real device. It pairs with a session by its code, says
/// hello with ECG, BVP, EDA, skin temperature and accelerometer channels, streams 100 ms batches in real time
/// (or faster with --speed) through the device hub, follows the scene commands it receives (its fear responds
/// to the stimulus the engine sets, pauses and calm scenes) and reports SUDS and expectancy ratings. The
/// connection, acknowledgements and resends after a reconnect are the client SDK's (<see cref="DeviceClient"/>).
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
        PairingResult pairing;
        try { pairing = await DeviceClient.PairAsync(new Uri(server), code, $"simulated patient (seed {seed})", DeviceRole.SensorAndVr, ct); }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException) { Console.Error.WriteLine($"error: code = {code}: {e.Message}"); return 2; }
        var patient = patientStream ?? new PatientStream(seed);
        var channels = SimulatedDeviceChannels.Declare(patient.Rates);
        var scene = sceneState ?? new SceneState();
        await using var device = new DeviceClient(new Uri(server), pairing, channels, "openvret simulate-live");
        device.CommandReceived += c => { lock (scene) scene.Apply(c); output.WriteLine($"scene: {c.Kind} {c.ScenarioId} ({c.Reason})"); };
        device.NoticeReceived += n => output.WriteLine($"notice: {n.Text}");
        device.Rejected += e => Console.Error.WriteLine($"rejected: {e}");
        await device.ConnectAsync(ct);
        if (device.Phase == SessionPhase.Paused) lock (scene) scene.Apply(new SceneCommand(0, SceneCommandKind.Pause, null, null, null, null, "paused"));
        output.WriteLine($"paired with session {pairing.SessionId} as {pairing.DeviceId}; streaming at {speed}x real time");

        var sent = new long[channels.Count];
        double clockStart = 10_000 + seed;   // the device's own clock
        var started = System.Diagnostics.Stopwatch.StartNew();
        double nextLog = 0;
        int tick = 0;
        while (device.Phase != SessionPhase.Ended && !ct.IsCancellationRequested && (seconds <= 0 || patient.Time < seconds))
        {
            tick++;
            var wait = TimeSpan.FromSeconds(tick * 0.1 / speed) - started.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            double intensity; ExposureContext context; bool exposed;
            lock (scene) { intensity = scene.Intensity; context = scene.Context; exposed = scene.Exposed; }
            var (chunk, reports) = patient.Next(0.1, intensity, context, exposed);
            var data = SimulatedDeviceChannels.Samples(chunk);
            for (int c = 0; c < channels.Count; c++)
            {
                if (data[c].Length == 0) continue;
                device.Enqueue(channels[c].Name, clockStart + sent[c] / channels[c].RateHz, data[c].Select(v => (float)v).ToArray());
                sent[c] += data[c].Length;
            }
            foreach (var rep in reports) device.Report(SimulatedDeviceChannels.EventKind(rep), clockStart + patient.Time, rep.Value);
            int reconnects = device.Reconnects;
            await device.FlushAsync(ct);
            if (device.Reconnects > reconnects) output.WriteLine($"reconnected ({device.Reconnects} so far); {device.PendingBatches} batch(es) still queued");
            if (patient.Time >= nextLog)
            {
                nextLog += 10;
                lock (scene) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t={patient.Time:0} s: {scene.Describe}; arousal {patient.Arousal:0.00}"));
            }
        }
        return 0;
    }
}
