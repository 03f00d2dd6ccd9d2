using OpenVret.Dialogue.Memory;
using OpenVret.Dialogue.Personas;

namespace OpenVret.Dialogue;

/// <summary>What the patient said: text (typed or recognised speech), how long they spoke, and how long they took to start.</summary>
public sealed record PatientTurn(string Text, double SpeakingSeconds, double ResponseLatencySeconds, double AtSeconds);

/// <summary>Who produced an agent line.</summary>
public enum LineSource { Disclosure, Scripted, Llm, Therapist, Fallback, SafetyScript, Support, Refer, Interruption, CheckIn }

/// <summary>A line the agent speaks, where it came from and why (shown to the therapist, stored in the transcript).</summary>
public sealed record AgentTurn(string Text, LineSource Source, string? NodeId, string Reason);

public enum Speaker { Patient, Agent, Therapist, System }

/// <summary>One transcript line, on the session's monotonic clock.</summary>
public sealed record TranscriptLine(Speaker Speaker, string Text, double AtSeconds, string? Detail);

/// <summary>What an engine sees: the persona at its current intensity, the recent transcript (bounded), and the patient's memory.</summary>
public sealed record DialogueContext(Persona Persona, double Intensity, IReadOnlyList<TranscriptLine> History, PatientMemory? Memory)
{
    public string Tone => Persona.Intensity.Tone(Intensity);
}

/// <summary>An engine proposes the agent's next line; guardrails, disclosure and the therapist rule live around it, in <see cref="DialogueSession"/>.</summary>
public interface IDialogueEngine
{
    string Name { get; }

    /// <summary>The agent's reply, or null when this engine has nothing to say (end of script, or the therapist picks).</summary>
    Task<AgentTurn?> RespondAsync(DialogueContext context, PatientTurn turn, CancellationToken cancellationToken);
}
