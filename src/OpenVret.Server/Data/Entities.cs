namespace OpenVret.Server.Data;

public enum UserRole { Therapist, Admin }

public sealed class UserAccount
{
    public int Id { get; set; }
    public required string UserName { get; set; }
    public required string PasswordHash { get; set; }
    public UserRole Role { get; set; }
    /// <summary>The site this therapist works at (only its patients and sessions are reachable); null = every site.</summary>
    public string? Site { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? PasswordChangedAt { get; set; }
}

/// <summary>
/// One login (docs/security.md): the cookie carries a random token, the store its hash. Every cookie request is
/// checked against it, so logout, a password change or reset, and the idle and absolute limits end it at once.
/// </summary>
public sealed class LoginSession
{
    /// <summary>SHA-256 of the token in the cookie.</summary>
    public required string Id { get; set; }
    public int UserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    /// <summary>Absolute end, whatever the activity.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    /// <summary>logout, password_changed, password_reset.</summary>
    public string? RevokedReason { get; set; }
}

/// <summary>A patient by pseudonym only; the clinic keeps the key to real identities outside OpenVRET.</summary>
public sealed class PatientRecord
{
    public required string Id { get; set; }
    public string Site { get; set; } = "default";
    /// <summary>The fear hierarchy in the exposure engine's JSON format.</summary>
    public required string HierarchyJson { get; set; }
    public string Notes { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>What the virtual humans remember across sessions (plain text the therapist can read and edit).</summary>
    public string? AgentMemory { get; set; }
    public DateTimeOffset? AgentMemoryUpdatedAt { get; set; }
    /// <summary>Clinical assessment for outcome research (entered by the therapist; all optional).</summary>
    public int? Age { get; set; }
    public string? Sex { get; set; }
    public double? BaselineSeverity { get; set; }
    public double? PostSeverity { get; set; }
    public double? FollowUpSeverity { get; set; }
}

public enum SessionState { Created, Running, Ended }

public sealed class SessionRecord
{
    public required string Id { get; set; }
    public required string PatientId { get; set; }
    public int SessionNumber { get; set; } = 1;
    public required string Scheduler { get; set; }
    public required string Mode { get; set; }
    public int Seed { get; set; }
    public double BaselineSeconds { get; set; }
    public SessionState State { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    /// <summary>SHA-256 of the current pairing code (the code itself is shown once to the therapist).</summary>
    public string? PairingCodeHash { get; set; }
    public DateTimeOffset? PairingExpiresAt { get; set; }
    /// <summary>Baseline feature medians once calibrated (JSON), so a restarted server resumes personalised.</summary>
    public string? BaselineJson { get; set; }
    public int CreatedByUserId { get; set; }
    /// <summary>The session's rule file (JSON with comments) when it is not the shipped default.</summary>
    public string? RulesText { get; set; }
    /// <summary>"live", or "replay" for a recording replayed through the pipeline (its clock is the recording's time).</summary>
    public string Source { get; set; } = "live";
}

public sealed class DeviceRecord
{
    public required string Id { get; set; }
    public required string SessionId { get; set; }
    public required string Name { get; set; }
    public required string Role { get; set; }
    /// <summary>SHA-256 of the bearer token.</summary>
    public required string TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    /// <summary>The channels from the device's hello (JSON), so a restarted server can rebuild the pipeline.</summary>
    public string? ChannelsJson { get; set; }
    public long LastEventSequence { get; set; } = -1;
}

/// <summary>
/// One accepted batch of one channel, in memory: float32 samples as little-endian bytes. The store keeps the
/// batches of one device message together in a <see cref="SampleBlock"/> (see <see cref="SampleBlockCodec"/>).
/// </summary>
public sealed class SampleChunk
{
    public required string SessionId { get; set; }
    public required string DeviceId { get; set; }
    public required string Channel { get; set; }
    public long Sequence { get; set; }
    public double DeviceTime { get; set; }
    /// <summary>Session time (s) of the first sample after clock alignment.</summary>
    public double SessionTime { get; set; }
    public double RateHz { get; set; }
    public int Count { get; set; }
    public required byte[] Data { get; set; }
    /// <summary>Arrived after later batches of its channel (only the recording has it, not the live features).</summary>
    public bool Late { get; set; }
}

/// <summary>
/// What one device message brought, as stored: every accepted channel batch of it in one compact blob
/// (<see cref="SampleBlockCodec"/>), so a 100 ms message of four channels costs one row and one index entry, not
/// four. Rows are appended in the order the session accepted the batches (the store has one writer per session
/// and enqueues inside the session's turn), which is what lets a hello find each channel's last durable sequence
/// from the newest rows. A resend is never accepted twice by a session; readers still keep only the first copy of
/// a (device, channel, sequence), so even a split-brain double write during failover cannot double a sample.
/// </summary>
public sealed class SampleBlock
{
    public long Id { get; set; }
    public required string SessionId { get; set; }
    public required string DeviceId { get; set; }
    /// <summary>Earliest session time (s) among the block's batches.</summary>
    public double SessionTime { get; set; }
    /// <summary>Samples in the block (all channels).</summary>
    public int Count { get; set; }
    public required byte[] Data { get; set; }
}

public enum EntryKind { Event, Rating, Feature, Arousal, Proposal, Decision, Override, Safety, Alert, Command, Transcript, Fault }

/// <summary>Everything else a session records, in session time: typed by <see cref="Kind"/>, payload as JSON.</summary>
public sealed class SessionEntry
{
    public long Id { get; set; }
    public required string SessionId { get; set; }
    public double SessionTime { get; set; }
    public EntryKind Kind { get; set; }
    public required string Name { get; set; }
    public required string Json { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>
/// One link of the append-only audit chain: Hash = SHA-256(PreviousHash | Sequence | At | Actor | Action |
/// SessionId | Detail). Changing, removing or reordering any row breaks every hash after it.
/// </summary>
public sealed class AuditEntry
{
    public long Sequence { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? SessionId { get; set; }
    public required string Detail { get; set; }
    public required string PreviousHash { get; set; }
    public required string Hash { get; set; }
}
