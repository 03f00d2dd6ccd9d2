using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using OpenVret.Exposure;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using OpenVret.Server.Dialogue;
using OpenVret.Server.Security;
using OpenVret.Server.Sessions;

namespace OpenVret.Server.Api;

/// <summary>
/// A hub call that reaches a session which has just ended (on another node, say) answers with the reason, as a call to a
/// session that is not running does, instead of SignalR's generic "unexpected error".
/// </summary>
public sealed class SessionNotRunningFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try { return await next(context); }
        catch (SessionNotRunningException e) { throw new HubException(e.Message); }
    }
}

/// <summary>
/// Devices and VR clients (role device, token from pairing). A device only ever reaches its own session:
/// the session comes from its token, never from a message.
/// </summary>
[Authorize(Roles = Roles.Device, AuthenticationSchemes = DeviceAuthenticationHandler.SchemeName)]
public sealed class DeviceHub(ISessionDirectory sessions, StoreWriter store, ServerOptions options, TimeProvider clock, IHostApplicationLifetime lifetime, DeviceRateLimits limits) : Hub
{
    private string SessionId => Context.User!.FindFirstValue(Roles.SessionClaim)!;
    private string DeviceId => Context.User!.FindFirstValue(Roles.DeviceClaim)!;

    public static string SceneGroup(string sessionId) => "scene:" + sessionId;
    public static string DeviceGroup(string deviceId) => "device:" + deviceId;

    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, DeviceGroup(DeviceId));
        if (Context.User!.FindFirstValue(Roles.DeviceRoleClaim) is nameof(DeviceRole.VrClient) or nameof(DeviceRole.SensorAndVr))
            await Groups.AddToGroupAsync(Context.ConnectionId, SceneGroup(SessionId));
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        // A server shutting down (a restart, a cluster node drained) drops every connection; the device has not gone
        // away and reconnects (here after a restart, which raises its own alert and hold, or to another node).
        if (!lifetime.ApplicationStopping.IsCancellationRequested && await sessions.FindAsync(SessionId) is { } a)
            await a.DeviceDisconnectedAsync(DeviceId);
        await base.OnDisconnectedAsync(exception);
    }

    private async Task<ISessionHandle> Actor() => await sessions.FindAsync(SessionId)
        ?? throw new HubException($"session: {SessionId} is not running (start it from the console first, then send hello again)");

    public async Task<HelloAck> Hello(DeviceHello hello)
    {
        if (hello is null) throw new HubException("hello: missing");
        if (hello.Version != ProtocolVersion.Current)
            throw new HubException($"version: {hello.Version} is not supported; this server speaks protocol version {ProtocolVersion.Current}");
        if (hello.Channels is null || hello.Channels.Count > 32) throw new HubException($"channels: expected 0-32 channel declarations, got {hello.Channels?.Count.ToString() ?? "none"}");
        for (int i = 0; i < hello.Channels.Count; i++)
        {
            var c = hello.Channels[i];
            if (c is null) throw new HubException($"channels[{i}]: missing (null); every entry declares a channel");
            if (c.Unit is { Length: > 32 }) throw new HubException($"channels[{i}].unit: at most 32 characters");
        }
        if (hello.Software is { Length: > 200 }) throw new HubException($"software: at most 200 characters, got {hello.Software.Length}");
        var actor = await Actor();
        string device = DeviceId;
        try
        {
            var ack = await actor.HelloAsync(device, hello);
            string json = JsonSerializer.Serialize(hello.Channels, SessionActor.Json);
            _ = store.Run(async d =>
            {
                var r = await d.Devices.FindAsync(device);
                if (r is not null) { r.ChannelsJson = json; await d.SaveChangesAsync(); }
            });
            return ack;
        }
        catch (ProtocolException e) { throw new HubException(e.Message); }
        catch (OpenVret.Signals.SignalInputException e) { throw new HubException(e.Message); }
    }

    public async Task<BatchAck> Samples(SampleBatch batch)
    {
        if (!RateLimit(batch?.Samples?.Length ?? 0))
            return new BatchAck(batch?.Channel ?? "", batch?.Sequence ?? -1, BatchStatus.Rejected,
                $"rate: more than {options.MaxSamplesPerSecondPerDevice} samples/s from this device; slow down and resend");
        return (await (await Actor()).SamplesAsync(DeviceId, [batch!]))[0];
    }

    /// <summary>Several batches in one message (e.g. every channel of one tick): one answer per batch, in order.</summary>
    public async Task<BatchAck[]> SamplesMany(SampleBatch[] batches)
    {
        if (batches is null || batches.Length == 0 || batches.Length > 64)
            throw new HubException($"batches: expected 1-64 batches, got {batches?.Length.ToString() ?? "none"}");
        if (!RateLimit(batches.Sum(b => b?.Samples?.Length ?? 0)))
            return batches.Select(b => new BatchAck(b?.Channel ?? "", b?.Sequence ?? -1, BatchStatus.Rejected,
                $"rate: more than {options.MaxSamplesPerSecondPerDevice} samples/s from this device; slow down and resend")).ToArray();
        return await (await Actor()).SamplesAsync(DeviceId, batches);
    }

    public async Task<EventAck> Event(ClientEvent e)
    {
        string device = DeviceId;
        var actor = await Actor();
        var ack = await actor.EventAsync(device, e);
        if (ack.Status == BatchStatus.Accepted && e.Kind != ClientEventKind.HeadPose)
            await store.Run(async d =>
            {
                var r = await d.Devices.FindAsync(device);
                if (r is not null && r.LastEventSequence < e.Sequence) { r.LastEventSequence = e.Sequence; await d.SaveChangesAsync(); }
            });
        return ack;
    }

    /// <summary>The device's budget, shared by all of its connections (DeviceRateLimits).</summary>
    private bool RateLimit(int samples) => limits.TryTake(DeviceId, samples);
}

/// <summary>The therapist console: watch a session, decide on proposals, stop everything. Every call is audited.</summary>
[Authorize(Roles = Roles.Therapist + "," + Roles.Admin, AuthenticationSchemes = "Cookies")]
public sealed class ConsoleHub(ISessionDirectory host, AgentService agents, SiteAccess access) : Hub
{
    public static string Group(string sessionId) => "console:" + sessionId;
    private string Actor => "user:" + Context.User!.FindFirstValue(ClaimTypes.NameIdentifier);

    /// <summary>The server's confirmation of an emergency stop: the session's phase once it is applied, and when (session seconds).</summary>
    public sealed record EmergencyStopAck(string SessionId, SessionPhase Phase, bool Stopped, double At);

    public sealed record WatchResult(LiveView View, IReadOnlyList<Alert> OpenAlerts, IReadOnlyList<EngineEvent> RecentEvents, IReadOnlyList<TranscriptItem> Transcript, AgentStatus? Agent);

    public async Task<WatchResult> Watch(string sessionId)
    {
        await Reach(sessionId);
        var a = await Find(sessionId);
        if (Context.Items.TryGetValue("watching", out var w) && w is string previous)
        {
            if (previous == sessionId) return await Snapshot(a);
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(previous));
            await host.ConsolesChangedAsync(previous, -1);
        }
        Context.Items["watching"] = sessionId;
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(sessionId));
        await host.ConsolesChangedAsync(sessionId, +1);
        return await Snapshot(a);
    }

    private async Task<WatchResult> Snapshot(ISessionHandle a)
    {
        var s = await a.SnapshotAsync();
        return new WatchResult(s.View, s.OpenAlerts, s.RecentEvents, s.Transcript, agents.TryStatus(a.SessionId));
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue("watching", out var w) && w is string sessionId) await host.ConsolesChangedAsync(sessionId, -1);
        await base.OnDisconnectedAsync(exception);
    }

    private async Task<ISessionHandle> Find(string sessionId) => await host.FindAsync(sessionId ?? "") ?? throw new HubException($"sessionId: '{sessionId}' is not a running session");

    /// <summary>A therapist bound to a site reaches only that site's sessions.</summary>
    private async Task Reach(string sessionId)
    {
        Id(sessionId, "sessionId");   // every console method names its session: the same length check for all of them
        if (!await access.CanReachSessionAsync(Context.User!, sessionId ?? ""))
            throw new HubException($"sessionId: '{sessionId}' belongs to another site than yours");
    }

    /// <summary>Longest reason (why) a therapist may give: it goes onto the audit trail.</summary>
    public const int MaxWhyLength = 2000, MaxIdLength = 64, MaxAgentLineLength = 1000;

    /// <summary>Refuses a missing or overlong identifier argument, naming it (never a raw exception from deeper down).</summary>
    private static string Id(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new HubException($"{field}: missing")
        : value.Length > MaxIdLength ? throw new HubException($"{field}: at most {MaxIdLength} characters, got {value.Length}") : value;

    private static string? Why(string? why) =>
        why is { Length: > MaxWhyLength } ? throw new HubException($"why: at most {MaxWhyLength} characters, got {why.Length} (it is kept on the audit trail)") : why;

    private static void Parameters(IReadOnlyDictionary<string, double>? parameters, string field)
    {
        if (parameters is null) return;
        if (parameters.Count > 32) throw new HubException($"{field}: at most 32 parameters, got {parameters.Count}");
        foreach (var (name, value) in parameters)
        {
            if (name.Length > MaxIdLength) throw new HubException($"{field}: a parameter name of at most {MaxIdLength} characters");
            if (!double.IsFinite(value)) throw new HubException($"{field}.{name}: {value} is not a finite number");
        }
    }

    private static void CheckContext(ExposureContext? context)
    {
        if (context is null) return;
        void One(string? v, string key, string[] allowed)
        {
            if (v is null || !allowed.Contains(v)) throw new HubException($"context.{key}: '{RestApi.Cut(v)}' is not one of {string.Join(", ", allowed)}");
        }
        One(context.Room, "room", ExposureContext.Rooms);
        One(context.Lighting, "lighting", ExposureContext.Lightings);
        One(context.TimeOfDay, "timeOfDay", ExposureContext.TimesOfDay);
        One(context.Sound, "sound", ExposureContext.Sounds);
    }

    private static double? Intensity(double? intensity) =>
        intensity is double i && !(i >= 0 && i <= 1) ? throw new HubException($"intensity: {i.ToString(System.Globalization.CultureInfo.InvariantCulture)} is outside 0-1 (leave it empty to follow the exposure)") : intensity;

    private async Task Do(string sessionId, TherapistCommand command)
    {
        Id(sessionId, "sessionId");
        await Reach(sessionId);
        try { await (await Find(sessionId)).CommandAsync(command); }   // acknowledged once it is on the audit trail
        catch (ExposureInputException e) { throw new HubException(e.Message); }
        catch (ProtocolException e) { throw new HubException(e.Message); }
    }

    public Task Approve(string sessionId, string proposalId, Dictionary<string, double>? editedParameters)
    {
        Parameters(editedParameters, "editedParameters");
        return Do(sessionId, new TherapistCommand(TherapistCommandKind.Approve, Actor, ProposalId: Id(proposalId, "proposalId"), Parameters: editedParameters));
    }
    public Task Reject(string sessionId, string proposalId, string? why) =>
        Do(sessionId, new TherapistCommand(TherapistCommandKind.Reject, Actor, ProposalId: Id(proposalId, "proposalId"), Why: Why(why)));
    public Task Veto(string sessionId, string proposalId) => Do(sessionId, new TherapistCommand(TherapistCommandKind.Veto, Actor, ProposalId: Id(proposalId, "proposalId")));
    public Task Override(string sessionId, string itemId, Dictionary<string, double>? parameters, ExposureContext? context, string? why)
    {
        Parameters(parameters, "parameters");
        CheckContext(context);
        return Do(sessionId, new TherapistCommand(TherapistCommandKind.Override, Actor, ItemId: Id(itemId, "itemId"), Parameters: parameters, Context: context, Why: Why(why)));
    }
    /// <summary>
    /// The emergency stop. Its answer is the server's confirmation: it comes only once the stop is applied and on the audit
    /// trail, with the session's phase after it. The console shows "delivered" only on this answer, and retries until it comes.
    /// </summary>
    public async Task<EmergencyStopAck> EmergencyStop(string sessionId, string? why)
    {
        await Do(sessionId, new TherapistCommand(TherapistCommandKind.EmergencyStop, Actor, Why: Why(why)));
        var view = await (await Find(sessionId)).ViewAsync();
        return new EmergencyStopAck(sessionId, view.Phase, view.Stopped, view.Elapsed);
    }
    public Task Resume(string sessionId, string why) => Do(sessionId, new TherapistCommand(TherapistCommandKind.Resume, Actor, Why: Why(why) ?? ""));
    public Task ReleaseHold(string sessionId, string why) => Do(sessionId, new TherapistCommand(TherapistCommandKind.ReleaseHold, Actor, Why: Why(why) ?? ""));
    public Task SetBiofeedback(string sessionId, bool breathingGuide, bool arousalGauge) =>
        Do(sessionId, new TherapistCommand(TherapistCommandKind.Biofeedback, Actor, BreathingGuide: breathingGuide, ArousalGauge: arousalGauge));
    public Task AcknowledgeAlert(string sessionId, string alertId) => Do(sessionId, new TherapistCommand(TherapistCommandKind.AcknowledgeAlert, Actor, AlertId: Id(alertId, "alertId")));
    public Task RemoveDevice(string sessionId, string deviceId, string? why) =>
        Do(sessionId, new TherapistCommand(TherapistCommandKind.RemoveDevice, Actor, DeviceId: Id(deviceId, "deviceId"), Why: Why(why) ?? ""));

    // Virtual humans: every call is on the audit trail (through the session actor).
    private async Task<T> Agent<T>(string sessionId, Func<Task<T>> work)
    {
        Id(sessionId, "sessionId");
        await Reach(sessionId);
        try { return await work(); }
        catch (OpenVret.Dialogue.Personas.DialogueInputException e) { throw new HubException(e.Message); }
        catch (InvalidOperationException e) { throw new HubException(e.Message); }
    }

    // Arguments are checked here, before the agent service, so a null or out-of-range value is refused by name (an
    // intensity of 5 is refused, not clamped to 1).
    public Task<AgentStatus> StartAgent(string sessionId, string persona, string mode, bool useLlm, double? intensity)
    {
        Id(persona, "persona"); Id(mode, "mode"); Intensity(intensity);
        return Agent(sessionId, () => agents.StartAsync(sessionId, persona, mode, useLlm, intensity, Actor));
    }
    public Task<AgentStatus> AgentSelect(string sessionId, string nodeId)
    {
        Id(nodeId, "nodeId");
        return Agent(sessionId, () => agents.SelectAsync(sessionId, nodeId, Actor));
    }
    public Task<AgentStatus> AgentSay(string sessionId, string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new HubException("text: missing; the agent needs a line to say");
        if (text.Length > MaxAgentLineLength) throw new HubException($"text: at most {MaxAgentLineLength} characters, got {text.Length}");
        return Agent(sessionId, () => agents.SayAsync(sessionId, text, Actor));
    }
    public Task<AgentStatus> AgentResume(string sessionId, string note) =>
        Agent(sessionId, () => agents.ResumeAsync(sessionId, (note is { Length: > MaxWhyLength } ? throw new HubException($"note: at most {MaxWhyLength} characters, got {note.Length}") : note) ?? "", Actor));
    public Task<AgentStatus> AgentIntensity(string sessionId, double? intensity)
    {
        Intensity(intensity);
        return Agent(sessionId, () => agents.SetIntensityAsync(sessionId, intensity, Actor));
    }
    public Task<AgentStatus?> AgentStatus(string sessionId) => Agent(sessionId, () => Task.FromResult(agents.TryStatus(sessionId)));
    public Task<bool> StopAgent(string sessionId) => Agent(sessionId, async () => { await agents.StopAsync(sessionId, Actor); return true; });
}

/// <summary>Names of the server-to-console methods.</summary>
public static class ConsoleClientMethods
{
    public const string Live = "Live";
    public const string EngineEvent = "EngineEvent";
    public const string Alert = "Alert";
    public const string Transcript = "Transcript";
}

/// <summary>Delivers session output over SignalR.</summary>
public sealed class SignalRSink(IHubContext<DeviceHub> devices, IHubContext<ConsoleHub> consoles, Dialogue.PatientSpeech speech) : ISessionSink
{
    public void ToScene(string sessionId, SceneCommand command) =>
        _ = devices.Clients.Group(DeviceHub.SceneGroup(sessionId)).SendAsync(DeviceClientMethods.Command, command);
    public void ToDevice(string deviceId, DeviceNotice notice) =>
        _ = devices.Clients.Group(DeviceHub.DeviceGroup(deviceId)).SendAsync(DeviceClientMethods.Notice, notice);
    public void ToConsole(string sessionId, EngineEvent e) =>
        _ = consoles.Clients.Group(ConsoleHub.Group(sessionId)).SendAsync(ConsoleClientMethods.EngineEvent, e);
    public void ToConsole(string sessionId, Alert alert) =>
        _ = consoles.Clients.Group(ConsoleHub.Group(sessionId)).SendAsync(ConsoleClientMethods.Alert, alert);
    public void ToConsole(string sessionId, LiveView view) =>
        _ = consoles.Clients.Group(ConsoleHub.Group(sessionId)).SendAsync(ConsoleClientMethods.Live, view);
    public void ToConsole(string sessionId, TranscriptItem line)
    {
        _ = consoles.Clients.Group(ConsoleHub.Group(sessionId)).SendAsync(ConsoleClientMethods.Transcript, line);
        speech.Delivered(sessionId, line);      // the session's virtual human, if it runs on this node, answers
    }
}
