using OpenVret.Exposure;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Signals;

namespace OpenVret.Server.Sessions;

/// <summary>
/// Replaying a recording through a created session, in either hosting: what the session declares, how its record
/// says so, and the driver that feeds it. A server-side device delivers every channel in order of time, and the
/// session's clock is the recording's time (each step sets it), so baseline, veto windows and proposals happen at
/// the same recording times at any speed. Real-time replays are paced like a live device; otherwise the replay
/// runs as fast as the pipeline and the store allow.
/// </summary>
public static class Replay
{
    /// <summary>One step of the session: set its clock to <c>seconds</c> into the recording, ingest, tick. Null when the session no longer runs.</summary>
    public delegate Task<BatchAck[]?> Step(double seconds, SampleBatch[] batches);

    /// <summary>The recording's channels the pipeline can use, as a device declares them; refuses a recording with none.</summary>
    public static (Recording Usable, IReadOnlyList<ChannelDeclaration> Channels) Declare(Recording recording)
    {
        var (usable, channels) = ChannelKinds.Declare(recording);
        if (channels.Count == 0) throw new ExposureInputException("recording", recording.Source, "no channel the pipeline can use");
        return (usable, channels);
    }

    /// <summary>The session's record becomes a running replay with its server-side device; the start is audited.</summary>
    private static async Task MarkStartedAsync(StoreWriter store, string sessionId, DateTimeOffset started, string deviceId, string source,
        IReadOnlyList<ChannelDeclaration> channels, bool realTime, string actor)
    {
        await store.Run(async d =>
        {
            var rec = await d.Sessions.FindAsync(sessionId);
            rec!.State = SessionState.Running;
            rec.StartedAt = started;
            rec.Source = "replay";
            d.Devices.Add(new DeviceRecord { Id = deviceId, SessionId = sessionId, Name = "replay: " + source, Role = "Sensor",
                TokenHash = Security.Secrets.Hash(Security.Secrets.NewToken()), CreatedAt = started, ChannelsJson = System.Text.Json.JsonSerializer.Serialize(channels, SessionActor.Json) });
            await d.SaveChangesAsync();
        });
        await store.Audit(actor, "replay_start", sessionId, $"{source}, {channels.Count} channels, {(realTime ? "real time" : "as fast as possible")}");
    }

    /// <summary>
    /// A running replay whose driver is gone (its server restarted, or the node driving it died): the session ends,
    /// and the trail says to replay the recording again.
    /// </summary>
    public static async Task MarkInterruptedAsync(StoreWriter store, string sessionId, DateTimeOffset at, string why)
    {
        await SessionLoader.MarkEndedAsync(store, sessionId, at);
        await store.Audit("server", "replay_interrupted", sessionId, why + "; replay the recording again");
    }

    /// <summary>
    /// Drives a replay in the background: the whole recording through <paramref name="step"/>, then
    /// <paramref name="end"/> once it reached the end (not when the session stopped first). Rejected batches are
    /// logged; a failure is logged and audited.
    /// </summary>
    public static void DriveInBackground(string sessionId, Recording usable, IReadOnlyList<ChannelDeclaration> channels, bool realTime, Step step,
        Func<Task> end, StoreWriter store, ILogger log)
    {
        string who = Security.Secrets.Pseudonym("session", sessionId);
        _ = Task.Run(async () =>
        {
            try
            {
                if (await RunAsync(usable, channels, realTime, step, error => log.LogWarning("replay of {Session}: batch rejected: {Error}", who, error))) await end();
            }
            catch (Exception e)
            {
                log.LogError(e, "replay of {Session} failed", who);
                await store.Audit("server", "replay_failed", sessionId, e.Message);
            }
        });
    }

    /// <summary>
    /// Feeds the whole recording (1 s steps, or 100 ms steps in real time). Returns true when it reached the end,
    /// false when the session stopped running first (ended by the therapist).
    /// </summary>
    private static async Task<bool> RunAsync(Recording usable, IReadOnlyList<ChannelDeclaration> channels, bool realTime, Step step, Action<string> rejected)
    {
        double dt = realTime ? 0.1 : 1.0;
        var cursor = new RecordingCursor(usable);
        double t0 = cursor.StartSeconds;
        var seq = new long[channels.Count];
        var wall = System.Diagnostics.Stopwatch.StartNew();
        for (double t = t0 + dt; t < cursor.EndSeconds + dt; t += dt)
        {
            if (realTime && (t - t0) > wall.Elapsed.TotalSeconds) await Task.Delay(TimeSpan.FromSeconds(t - t0 - wall.Elapsed.TotalSeconds));
            var batches = cursor.Until(t).Select(x => new SampleBatch(channels[x.Channel].Name, seq[x.Channel]++, x.StartSeconds - t0, ChannelKinds.Samples(x))).ToArray();
            var acks = await step(t - t0, batches);
            if (acks is null) return false;
            foreach (var ack in acks.Where(k => k.Status == BatchStatus.Rejected)) rejected(ack.Error ?? "rejected");
        }
        return true;
    }

    /// <summary>
    /// A session actor replaying a recording, in either hosting: the actor runs on a <see cref="ManualTimeProvider"/>
    /// that each step sets to the recording's time, and a server-side device of its own delivers the samples.
    /// </summary>
    public sealed class Run
    {
        private readonly ManualTimeProvider _clock;
        private readonly DateTimeOffset _started;
        public SessionActor Actor { get; }
        public string DeviceId { get; } = "D-replay-" + Security.Secrets.NewToken()[..6];

        /// <param name="actor">Creates the session's actor on the replay's clock, started at <paramref name="started"/>.</param>
        public Run(DateTimeOffset started, Func<TimeProvider, DateTimeOffset, SessionActor> actor)
        {
            _started = started;
            _clock = new ManualTimeProvider(started);
            Actor = actor(_clock, started);
        }

        /// <summary>The record becomes a running replay (audited), the replay device joins, and the session counts at least one console: nobody needs to veto a recording.</summary>
        public async Task BeginAsync(StoreWriter store, string source, IReadOnlyList<ChannelDeclaration> channels, bool realTime, string actor, int consoles)
        {
            await MarkStartedAsync(store, Actor.SessionId, _started, DeviceId, source, channels, realTime, actor);
            await Actor.Ask((p, o) => p.DeclareDevice(DeviceId, channels, -1, new Dictionary<string, long>(), o));
            await Actor.Ask((p, o) => p.ConsoleCount(Math.Max(1, consoles), o));
        }

        /// <summary>The session's clock moves to <paramref name="seconds"/> into the recording; the batches are ingested and the session ticks.</summary>
        public async Task<BatchAck[]> StepAsync(double seconds, SampleBatch[] batches)
        {
            _clock.SetUtcNow(_started.AddSeconds(seconds));
            var acks = batches.Length > 0 ? await Actor.IngestAsync(DeviceId, batches) : [];
            await Actor.Tick();
            return acks;
        }
    }
}
