using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Client;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>The netstandard2.1 client SDK against the real server: pairing, hello, streaming, ratings, and a server restart in the middle.</summary>
public class ClientSdkTests
{
    [Fact]
    public async Task The_SDK_streams_reports_and_survives_a_server_restart_without_loss()
    {
        await using var s = await TestServer.StartAsync();
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var server = new Uri(s.BaseUrl);
        await Assert.ThrowsAsync<InvalidOperationException>(() => DeviceClient.PairAsync(server, "WRONG234", "x", DeviceRole.Sensor));
        var pairing = await DeviceClient.PairAsync(server, session.Code, "sdk test", DeviceRole.SensorAndVr);
        await using var client = new DeviceClient(server, pairing, SimDevice.Channels, "sdk-test");
        var commands = new List<SceneCommand>();
        client.CommandReceived += c => { lock (commands) commands.Add(c); };
        var rejected = new List<string>();
        client.Rejected += e => rejected.Add(e);
        await client.ConnectAsync();
        Assert.Equal(SceneCommandKind.CalmScene, client.CurrentScene!.Kind);
        Assert.Equal(SessionPhase.Baseline, client.Phase);
        Assert.Throws<ArgumentException>(() => client.Enqueue("gsr", 0, new float[1]));

        var sim = new SimDevice();
        long enqueued = 0;
        async Task Stream(int ticks)
        {
            for (int i = 0; i < ticks; i++)
            {
                foreach (var b in sim.Next()) { client.Enqueue(b.Channel, b.DeviceTime, b.Samples); enqueued += b.Samples.Length; }
                await client.FlushAsync();
            }
        }
        await Stream(20);
        client.Report(ClientEventKind.Suds, sim.DeviceClock(sim.DataTime), 35);
        client.Say("I think they will notice my hands shaking", sim.DeviceClock(sim.DataTime), 4.5, 1.2);
        await client.FlushAsync();
        // Batches queued while the server is down are kept and sent after the reconnect.
        await s.RestartAsync();
        foreach (var b in sim.Next()) { client.Enqueue(b.Channel, b.DeviceTime, b.Samples); enqueued += b.Samples.Length; }
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30))) await client.FlushAsync(cts.Token);
        Assert.True(client.Reconnects >= 1);
        await Stream(10);
        Assert.Empty(rejected);
        Assert.Equal(0, client.PendingBatches);

        await using var db = s.Services.GetRequiredService<DbFactory>().Create();
        long stored = await Stored.SampleCountAsync(db, session.SessionId);
        Assert.Equal(enqueued, stored);
        Assert.Equal(enqueued, client.AcknowledgedSamples);
        Assert.True(await db.Entries.AnyAsync(e => e.SessionId == session.SessionId && e.Kind == EntryKind.Rating && e.Name == "Suds"));
        var said = await db.Entries.Where(e => e.SessionId == session.SessionId && e.Kind == EntryKind.Transcript && e.Name == "patient").Select(e => e.Json).SingleAsync();
        Assert.Contains("notice my hands shaking", said);
        Assert.Contains("4.5", said);
    }

    [Fact]
    public async Task A_recording_replays_to_a_session_as_a_device()
    {
        var gen = new OpenVret.Simulation.SignalGenerator(OpenVret.Simulation.Cohort.Draw(1, 8)[0], 8);
        var c = gen.Next(5, _ => 0.2);
        var rec = new OpenVret.Signals.Recording(new[]
        {
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.Ecg, new OpenVret.Signals.Signal(c.Ecg, new(250), 0, OpenVret.Signals.SignalUnit.Millivolt, "ECG")),
            new OpenVret.Signals.ChannelSignal(OpenVret.Signals.Modality.Eda, new OpenVret.Signals.Signal(c.Eda, new(4), 0, OpenVret.Signals.SignalUnit.Microsiemens, "EDA")),
        });
        var edf = Path.Combine(Path.GetTempPath(), $"device-replay-{Guid.NewGuid():N}.edf");
        OpenVret.Signals.Readers.Edf.Write(edf, rec, patientCode: "P-x");
        try
        {
            await using var s = await TestServer.StartAsync();
            var t = await s.LoginAsync();
            var session = await s.CreateSessionAsync(t);
            var output = new StringWriter();
            Assert.Equal(0, await OpenVret.Cli.DeviceReplayCommand.RunAsync(s.BaseUrl, session.Code, edf, null, 10, output, CancellationToken.None));
            Assert.Contains("done", output.ToString());
            await using var db = s.Services.GetRequiredService<DbFactory>().Create();
            long stored = await Stored.SampleCountAsync(db, session.SessionId);
            Assert.Equal(5 * 250 + 5 * 4, stored);
            Assert.Equal(2, OpenVret.Cli.DeviceReplayCommand.RunAsync(s.BaseUrl, "BADCODE2", edf, null, 10, TextWriter.Null, CancellationToken.None).Result);
        }
        finally { File.Delete(edf); }
    }
}
