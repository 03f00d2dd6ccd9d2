using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Protocol;

namespace OpenVret.Client
{
    /// <summary>
    /// A device or VR client of an OpenVRET session server. Pair once with the code the therapist's console shows
    /// (<see cref="PairAsync"/>), then <see cref="ConnectAsync"/>; queue samples with <see cref="Enqueue"/> and
    /// ratings or events with <see cref="Report"/>, and call <see cref="FlushAsync"/> (e.g. every 100 ms).
    /// Nothing is dropped until the server has acknowledged it as durable: after a network drop or a server
    /// restart the client reconnects, says hello again, learns what the server already holds, and resends the rest.
    /// Scene commands arrive on <see cref="CommandReceived"/>; <see cref="CurrentScene"/> always holds the scene to
    /// show (a paused or disconnected session should show a calm scene: check <see cref="Phase"/> and <see cref="Connected"/>).
    /// Not thread-safe: call it from one loop (commands arrive on SignalR's threads).
    /// </summary>
    public sealed class DeviceClient : IAsyncDisposable
    {
        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        public const int MaxBatchesPerMessage = 16;

        private readonly Uri _server;
        private readonly PairingResult _pairing;
        private readonly IReadOnlyList<ChannelDeclaration> _channels;
        private readonly string _software;
        private readonly Dictionary<string, long> _nextSequence = new Dictionary<string, long>(StringComparer.Ordinal);
        private readonly List<SampleBatch> _pending = new List<SampleBatch>();
        private readonly List<ClientEvent> _pendingEvents = new List<ClientEvent>();
        private HubConnection? _hub;
        private long _nextEvent;

        public string SessionId => _pairing.SessionId;
        public string DeviceId => _pairing.DeviceId;
        public bool Connected => _hub != null && _hub.State == HubConnectionState.Connected;
        public SceneCommand? CurrentScene { get; private set; }
        public SessionPhase Phase { get; private set; } = SessionPhase.Waiting;
        /// <summary>Samples the server has acknowledged as durable (resends answered "duplicate" included once).</summary>
        public long AcknowledgedSamples { get; private set; }
        public int PendingBatches => _pending.Count;
        public int Reconnects { get; private set; }

        public event Action<SceneCommand>? CommandReceived;
        public event Action<DeviceNotice>? NoticeReceived;
        /// <summary>A batch or event the server refused (not a resend case): the error names the field and the value.</summary>
        public event Action<string>? Rejected;

        public DeviceClient(Uri server, PairingResult pairing, IReadOnlyList<ChannelDeclaration> channels, string software = "OpenVret.Client")
        {
            _server = server; _pairing = pairing; _channels = channels; _software = software;
            foreach (var c in channels) _nextSequence[c.Name] = 0;
        }

        /// <summary>Exchanges the pairing code for a device token limited to one session.</summary>
        public static async Task<PairingResult> PairAsync(Uri server, string code, string deviceName, DeviceRole role, CancellationToken ct = default)
        {
            using var http = new HttpClient { BaseAddress = server };
            var body = new StringContent(JsonSerializer.Serialize(new PairingRequest(code, deviceName, role), Json), Encoding.UTF8, "application/json");
            var r = await http.PostAsync("/api/pair", body, ct).ConfigureAwait(false);
            var text = await r.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"pairing refused ({(int)r.StatusCode}): {text}");
            return JsonSerializer.Deserialize<PairingResult>(text, Json)!;
        }

        public async Task ConnectAsync(CancellationToken ct = default)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(_server, ProtocolVersion.DeviceHubPath), o => o.AccessTokenProvider = () => Task.FromResult<string?>(_pairing.DeviceToken))
                .AddMessagePackProtocol()
                .Build();
            hub.On<SceneCommand>(DeviceClientMethods.Command, c =>
            {
                if (c.Kind == SceneCommandKind.SetScene || c.Kind == SceneCommandKind.CalmScene) CurrentScene = c;
                if (c.Kind == SceneCommandKind.Pause) Phase = SessionPhase.Paused;
                if (c.Kind == SceneCommandKind.Resume || c.Kind == SceneCommandKind.SetScene) Phase = SessionPhase.Exposure;
                CommandReceived?.Invoke(c);
            });
            hub.On<DeviceNotice>(DeviceClientMethods.Notice, n =>
            {
                if (n.Code == "session_ended") Phase = SessionPhase.Ended;
                NoticeReceived?.Invoke(n);
            });
            await hub.StartAsync(ct).ConfigureAwait(false);
            var ack = await hub.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, _software, _channels), ct).ConfigureAwait(false);
            _hub = hub;
            Phase = ack.Phase;
            if (ack.CurrentScene != null) { CurrentScene = ack.CurrentScene; CommandReceived?.Invoke(ack.CurrentScene); }
            // What the server holds durably (its ack may have been lost with the connection) need not be sent again.
            foreach (var b in _pending.Where(b => ack.LastSequence.TryGetValue(b.Channel, out var last) && b.Sequence <= last)) AcknowledgedSamples += b.Samples.Length;
            _pending.RemoveAll(b => ack.LastSequence.TryGetValue(b.Channel, out var last) && b.Sequence <= last);
        }

        /// <summary>Queues the next batch of a channel (sequence numbers are assigned here). NaN marks a missing sample.</summary>
        public void Enqueue(string channel, double deviceTime, float[] samples)
        {
            if (!_nextSequence.TryGetValue(channel, out var seq)) throw new ArgumentException($"channel = '{channel}': not declared", nameof(channel));
            _nextSequence[channel] = seq + 1;
            _pending.Add(new SampleBatch(channel, seq, deviceTime, samples));
        }

        /// <summary>Queues a rating or an event (SUDS, expectancy, head pose, a stop request...).</summary>
        public void Report(ClientEventKind kind, double deviceTime, double? value = null, string? text = null, HeadPose? pose = null) =>
            _pendingEvents.Add(new ClientEvent(_nextEvent++, deviceTime, kind, value, text, pose));

        /// <summary>
        /// Queues what the patient said to a virtual human: the text (speech recognition or typed), the seconds spoken,
        /// and the seconds from the agent's last line to the start of the answer. The server screens it for crisis
        /// content and the session's agent answers with an <see cref="SceneCommandKind.AgentSay"/> command.
        /// </summary>
        public void Say(string text, double deviceTime, double speakingSeconds, double? latencySeconds) =>
            _pendingEvents.Add(new ClientEvent(_nextEvent++, deviceTime, ClientEventKind.Utterance, speakingSeconds, text, null, latencySeconds));

        /// <summary>
        /// Sends what is queued. On a connection failure it reconnects (with backoff, until <paramref name="ct"/> is
        /// cancelled) and resends; batches refused for rate or storage reasons stay queued for the next flush.
        /// </summary>
        public async Task FlushAsync(CancellationToken ct = default)
        {
            while (true)
            {
                try
                {
                    await SendQueued(ct).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (!(e is OperationCanceledException) && !(e is HubException))
                {
                    await ReconnectAsync(ct).ConfigureAwait(false);
                }
            }
        }

        private async Task SendQueued(CancellationToken ct)
        {
            if (_hub == null || _hub.State != HubConnectionState.Connected) throw new InvalidOperationException("not connected");
            while (_pending.Count > 0)
            {
                var send = _pending.Take(MaxBatchesPerMessage).ToArray();
                var acks = await _hub.InvokeAsync<BatchAck[]>("SamplesMany", send, ct).ConfigureAwait(false);
                var keep = new List<SampleBatch>();
                for (int i = 0; i < send.Length; i++)
                {
                    var a = acks[i];
                    if (a.Status == BatchStatus.Rejected)
                    {
                        string err = a.Error ?? "";
                        if (err.StartsWith("rate", StringComparison.Ordinal) || err.StartsWith("storage", StringComparison.Ordinal)) keep.Add(send[i]);
                        else Rejected?.Invoke($"{a.Channel} #{a.Sequence}: {err}");
                    }
                    else AcknowledgedSamples += send[i].Samples.Length;
                }
                _pending.RemoveRange(0, send.Length);
                if (keep.Count > 0) { _pending.InsertRange(0, keep); return; }
            }
            while (_pendingEvents.Count > 0)
            {
                var ack = await _hub.InvokeAsync<EventAck>("Event", _pendingEvents[0], ct).ConfigureAwait(false);
                if (ack.Status == BatchStatus.Rejected) Rejected?.Invoke($"event #{ack.Sequence}: {ack.Error}");
                _pendingEvents.RemoveAt(0);
            }
        }

        private async Task ReconnectAsync(CancellationToken ct)
        {
            Reconnects++;
            var old = _hub;
            _hub = null;
            if (old != null) { try { await old.DisposeAsync().ConfigureAwait(false); } catch (Exception) { } }
            var delay = TimeSpan.FromMilliseconds(250);
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                try { await ConnectAsync(ct).ConfigureAwait(false); return; }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    delay = TimeSpan.FromMilliseconds(Math.Min(5000, delay.TotalMilliseconds * 2));
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_hub != null) await _hub.DisposeAsync().ConfigureAwait(false);
        }
    }
}
