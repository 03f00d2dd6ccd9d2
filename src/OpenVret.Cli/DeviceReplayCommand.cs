using System.CommandLine;
using OpenVret.Client;
using OpenVret.Protocol;
using OpenVret.Signals;
using OpenVret.Signals.Readers;

namespace OpenVret.Cli;

/// <summary>
/// <c>openvret device-replay</c>: the sample device of the client SDK. It replays an E4 folder, EDF/EDF+ file,
/// WFDB record or CSV to a running session through the device protocol, in real time (or faster), exactly as
/// a wearable would: pairing code, hello with one channel per signal, 100 ms batches, resend after a drop.
/// </summary>
public static class DeviceReplayCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "server address", DefaultValueFactory = _ => "http://localhost:5080" };
        var code = new Option<string>("--code") { Description = "the session's pairing code", Required = true };
        var input = new Option<string>("--input") { Description = "E4 folder, .edf, .hea (WFDB) or .csv (with --rate)", Required = true };
        var rate = new Option<double?>("--rate") { Description = "sample rate of a CSV input (Hz)" };
        var speed = new Option<double>("--speed") { Description = "1 = real time", DefaultValueFactory = _ => 1 };
        var cmd = new Command("device-replay", "Replay a recording to a running session as a device (the client SDK's sample)");
        foreach (var o in new Option[] { server, code, input, rate, speed }) cmd.Options.Add(o);
        cmd.SetAction((parse, ct) => RunAsync(parse.GetValue(server)!, parse.GetValue(code)!, parse.GetValue(input)!, parse.GetValue(rate), parse.GetValue(speed), Console.Out, ct));
        return cmd;
    }

    public static async Task<int> RunAsync(string server, string code, string input, double? rate, double speed, TextWriter output, CancellationToken ct)
    {
        Recording rec;
        try { rec = RecordingLoader.Load(input, rate, out var notes); foreach (var n in notes) output.WriteLine($"note: {n}"); }
        catch (SignalInputException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        var (usable, channels) = OpenVret.Server.Sessions.ChannelKinds.Declare(rec);
        if (channels.Count == 0) { Console.Error.WriteLine($"error: input = {input}: no channel a session can use"); return 2; }
        PairingResult pairing;
        try { pairing = await DeviceClient.PairAsync(new Uri(server), code, "recording: " + Path.GetFileName(input.TrimEnd('/')), DeviceRole.Sensor, ct); }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException) { Console.Error.WriteLine($"error: code = {code}: {e.Message}"); return 2; }
        await using var device = new DeviceClient(new Uri(server), pairing, channels, "openvret device-replay");
        device.Rejected += e => Console.Error.WriteLine($"rejected: {e}");
        await device.ConnectAsync(ct);
        var cursor = new RecordingCursor(usable);
        double t0 = cursor.StartSeconds;
        output.WriteLine($"replaying {cursor.EndSeconds - t0:0} s of {channels.Count} channel(s) to session {pairing.SessionId} at {speed}x");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (double t = t0 + 0.1; t < cursor.EndSeconds + 0.1 && device.Phase != SessionPhase.Ended && !ct.IsCancellationRequested; t += 0.1)
        {
            var wait = TimeSpan.FromSeconds((t - t0) / speed) - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            foreach (var stretch in cursor.Until(t))
                device.Enqueue(channels[stretch.Channel].Name, stretch.StartSeconds, OpenVret.Server.Sessions.ChannelKinds.Samples(stretch));
            await device.FlushAsync(ct);
        }
        output.WriteLine($"done: {device.AcknowledgedSamples} samples acknowledged, {device.Reconnects} reconnect(s)");
        return 0;
    }
}
