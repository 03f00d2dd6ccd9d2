using OpenVret.Dialogue;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;

namespace OpenVret.Server.Sessions;

/// <summary>What the console sees when it starts watching: the live view, open alerts, the engine's recent record and the conversation.</summary>
public sealed record WatchSnapshot(LiveView View, IReadOnlyList<Alert> OpenAlerts, IReadOnlyList<EngineEvent> RecentEvents, IReadOnlyList<TranscriptItem> Transcript);

public enum TherapistCommandKind { Approve, Reject, Veto, Override, EmergencyStop, Resume, ReleaseHold, Biofeedback, AcknowledgeAlert, RemoveDevice }

/// <summary>A therapist's decision on a live session, as data (it crosses nodes in cluster mode); audited by the pipeline.</summary>
public sealed record TherapistCommand(TherapistCommandKind Kind, string Actor, string? ProposalId = null, string? ItemId = null,
    IReadOnlyDictionary<string, double>? Parameters = null, ExposureContext? Context = null, string? Why = null,
    bool BreathingGuide = false, bool ArousalGauge = false, string? AlertId = null, string? DeviceId = null);

/// <summary>
/// The operations the hubs, the REST API and the agents perform on a live session, with typed, serialisable
/// arguments: one interface over both hostings (the in-process <see cref="SessionActor"/>, or an Orleans grain).
/// </summary>
public interface ISessionHandle
{
    string SessionId { get; }
    Task<double> NowAsync();
    Task<HelloAck> HelloAsync(string deviceId, DeviceHello hello);
    Task<BatchAck[]> SamplesAsync(string deviceId, SampleBatch[] batches);
    Task<EventAck> EventAsync(string deviceId, ClientEvent e);
    Task DeviceDisconnectedAsync(string deviceId);
    Task<LiveView> ViewAsync();
    Task<WatchSnapshot> SnapshotAsync();
    /// <summary>Completes once the decision is on the audit trail.</summary>
    Task CommandAsync(TherapistCommand command);
    Task AgentSpokeAsync(string personaId, string personaName, AgentTurn[] lines, string actor);
    Task DialogueNoteAsync(string actor, string action, string text);
}

/// <summary>Where live sessions are: in this process (single mode) or in the cluster.</summary>
public interface ISessionDirectory
{
    Task<ISessionHandle?> FindAsync(string sessionId);
    Task StartAsync(string sessionId, string actor);
    Task EndAsync(string sessionId, string actor);
    /// <summary>Replays a recording through a created session (see <see cref="Replay"/>); returns once it is live, ends it when the recording ends.</summary>
    Task StartReplayAsync(string sessionId, OpenVret.Signals.Recording recording, bool realTime, string actor);
    int ConsolesWatching(string sessionId);
    Task ConsolesChangedAsync(string sessionId, int delta);
    /// <summary>A session ended (in a cluster, wherever it ran); may be raised more than once for one session.</summary>
    event Action<string>? Ended;
}

/// <summary>A call reached a session that is not (or no longer) running, e.g. one that ended a moment ago on another node.</summary>
public sealed class SessionNotRunningException(string sessionId) : InvalidOperationException($"session {sessionId} is not running (it has ended, or has not been started)")
{
    public string SessionId { get; } = sessionId;
}
