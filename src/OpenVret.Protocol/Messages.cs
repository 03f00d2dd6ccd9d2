using System.Collections.Generic;

namespace OpenVret.Protocol
{
    /// <summary>Version of the device/VR protocol. A client sends it in <see cref="DeviceHello"/>; the server refuses other majors.</summary>
    public static class ProtocolVersion
    {
        public const int Current = 1;
        public const string DeviceHubPath = "/hubs/device";
        public const string ConsoleHubPath = "/hubs/console";
    }

    /// <summary>What a channel measures (mirrors the signal layer's modalities; the server maps it).</summary>
    public enum ChannelKind { Ecg, Ppg, Eda, Respiration, SkinTemperature, Accelerometer, Eeg, HeadMovement }

    /// <summary>A channel the device will stream: a name unique within the device, its kind, rate (Hz) and unit text.</summary>
    public sealed record ChannelDeclaration(string Name, ChannelKind Kind, double RateHz, string Unit);

    /// <summary>Response to <c>POST /api/pair</c>: the token the device presents on the hub (bearer), limited to one session.</summary>
    public sealed record PairingResult(string SessionId, string DeviceId, string DeviceToken, int ProtocolVersion);

    /// <summary>Request body of <c>POST /api/pair</c>.</summary>
    public sealed record PairingRequest(string Code, string DeviceName, DeviceRole Role);

    public enum DeviceRole { Sensor, VrClient, SensorAndVr }

    /// <summary>First message on the device hub: the protocol version and the channels (empty for a VR client without sensors).</summary>
    public sealed record DeviceHello(int Version, string Software, IReadOnlyList<ChannelDeclaration> Channels);

    /// <summary>
    /// Answer to the hello: the session, and for each channel the last sequence number the server holds durably
    /// (-1 if none), so a device that reconnects resends from there.
    /// </summary>
    public sealed record HelloAck(string SessionId, string DeviceId, IReadOnlyDictionary<string, long> LastSequence, SessionPhase Phase, SceneCommand? CurrentScene);

    public enum SessionPhase { Waiting, Baseline, Exposure, Paused, Ended }

    /// <summary>
    /// One batch of samples of one channel. <see cref="Sequence"/> increases by one per batch per channel from 0;
    /// <see cref="DeviceTime"/> is the device clock (seconds) at the first sample. NaN marks a missing sample.
    /// </summary>
    public sealed record SampleBatch(string Channel, long Sequence, double DeviceTime, float[] Samples);

    public enum BatchStatus
    {
        /// <summary>Stored durably and fed to the live pipeline.</summary>
        Accepted,
        /// <summary>Already held (a resend): nothing changed.</summary>
        Duplicate,
        /// <summary>Stored durably but arrived after later batches, so only the recording has it (not the live features).</summary>
        AcceptedLate,
        /// <summary>Not stored: see <see cref="BatchAck.Error"/>. Nothing accepted before it is affected.</summary>
        Rejected,
    }

    /// <summary>The server's answer to a batch: returned only after the batch is durable when Accepted/AcceptedLate.</summary>
    public sealed record BatchAck(string Channel, long Sequence, BatchStatus Status, string? Error);

    public enum ClientEventKind
    {
        /// <summary>Subjective units of distress, 0-100.</summary>
        Suds,
        /// <summary>Expectancy rating before a trial: how likely the feared outcome is, 0-100.</summary>
        ExpectancyBefore,
        /// <summary>After the trial: how much of the feared outcome happened, 0-100.</summary>
        OutcomeAfter,
        TrialEnded,
        /// <summary>Head pose: <see cref="ClientEvent.Pose"/>; the server derives time looking away from the stimulus.</summary>
        HeadPose,
        /// <summary>The scene finished applying a command (<see cref="ClientEvent.Text"/> = the command sequence).</summary>
        SceneApplied,
        Interaction,
        /// <summary>The patient asked to stop (a button or a spoken request).</summary>
        StopRequest,
        /// <summary>
        /// The patient said something (speech recognition or typed): <see cref="ClientEvent.Text"/> is the text,
        /// <see cref="ClientEvent.Value"/> the seconds spoken, <see cref="ClientEvent.LatencySeconds"/> the seconds
        /// from the agent's last line to the start of speech. Every utterance is screened for crisis content.
        /// </summary>
        Utterance,
    }

    /// <summary>Yaw/pitch (degrees) of the head relative to the stimulus direction, and whether the stimulus is in view.</summary>
    public sealed record HeadPose(double YawDegrees, double PitchDegrees, bool StimulusInView);

    /// <summary>An event from a VR client or a device. <see cref="Sequence"/> increases per device; duplicates are ignored.</summary>
    public sealed record ClientEvent(long Sequence, double DeviceTime, ClientEventKind Kind, double? Value, string? Text, HeadPose? Pose, double? LatencySeconds = null);

    public sealed record EventAck(long Sequence, BatchStatus Status, string? Error);

    /// <summary>
    /// What a command asks of the scene. <see cref="Biofeedback"/>: the therapist turned the overlay on or off;
    /// its <see cref="SceneCommand.Parameters"/> hold "breathing" (1 = show the breathing guide), "gauge" (1 = show
    /// the arousal gauge) and, while the gauge is on, "arousal" (the calibrated probability, 0-1), re-sent as it changes.
    /// </summary>
    /// <summary>
    /// <see cref="AgentSay"/>: a virtual human speaks <see cref="SceneCommand.Prompt"/> (show it as a caption and
    /// speak it with speech synthesis); <see cref="SceneCommand.Context"/> holds "persona" (its id), "name" and
    /// "source" (disclosure, scripted, llm, therapist, fallback, safety_script, support, refer).
    /// </summary>
    public enum SceneCommandKind { SetScene, Pause, Resume, ShowPrompt, CalmScene, Biofeedback, AgentSay }

    /// <summary>
    /// A command to the VR scene. <see cref="Parameters"/> follow the scenario schema of the exposure engine;
    /// <see cref="Context"/> keys are room, lighting, timeOfDay, sound. <see cref="Reason"/> is what the therapist saw.
    /// </summary>
    public sealed record SceneCommand(long Sequence, SceneCommandKind Kind, string? ScenarioId, IReadOnlyDictionary<string, double>? Parameters,
        IReadOnlyDictionary<string, string>? Context, string? Prompt, string Reason);

    /// <summary>Names of the server-to-client methods on the device hub (SignalR client handlers).</summary>
    public static class DeviceClientMethods
    {
        public const string Command = "Command";
        public const string Notice = "Notice";
    }

    /// <summary>A message to the device (e.g. the session ended, or the device's data was flagged).</summary>
    public sealed record DeviceNotice(string Code, string Text);
}

namespace System.Runtime.CompilerServices
{
    /// <summary>Lets netstandard2.1 compile records (init accessors).</summary>
    internal static class IsExternalInit { }
}
