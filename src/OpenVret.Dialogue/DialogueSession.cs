using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Memory;
using OpenVret.Dialogue.Personas;
using OpenVret.Dialogue.Scripted;

namespace OpenVret.Dialogue;

/// <summary>Whether a therapist is watching: no agent speaks to a patient otherwise.</summary>
public interface ITherapistPresence
{
    bool TherapistConnected { get; }
}

public enum DialogueState { NotStarted, Talking, SafetyHold }

/// <summary>
/// The result of hearing one patient turn: what the agent says now (maybe nothing, with the reason), the screen's
/// verdict, whether the exposure must pause and the therapist be alerted, and why the script stood in for the model.
/// </summary>
public sealed record DialogueOutcome(IReadOnlyList<AgentTurn> Lines, ScreenResult Screen, bool PauseExposure, bool AlertTherapist, string? Silence, string? FallbackReason);

/// <summary>
/// One conversation between a patient and a virtual human, with the guardrails that no configuration removes:
/// the AI disclosure opens every conversation; no line is spoken unless a therapist is connected; every patient turn
/// is screened before any engine sees it (crisis: the fixed safety script, the exposure pauses, the therapist is
/// alerted, the agent stays silent until the therapist resumes); every agent line, whoever wrote it, passes the
/// output guard. The LLM engine, when configured, answers within its timeout or the script answers instead.
/// Single-threaded: the owner serialises calls (the server's session actor does).
/// </summary>
public sealed class DialogueSession
{
    private readonly ScriptedEngine _script;
    private readonly IDialogueEngine? _llm;
    private readonly ITherapistPresence _presence;
    private readonly List<TranscriptLine> _transcript = [];
    private readonly RiskScreen _screen;
    private double _intensity;

    /// <summary>How many earlier turns the crisis screen reads with each patient turn.</summary>
    public const int ScreenContextTurns = 6;
    /// <summary>How long a patient turn waits for the crisis model to finish loading before the rules and the fallback screen it (and say so).</summary>
    public static readonly TimeSpan ScreenModelWait = TimeSpan.FromSeconds(15);

    /// <summary>The check-in line for a Concern: fixed, safe, whatever the persona.</summary>
    public const string CheckInLine = "I'd like to pause for a moment and check in with you. How are you feeling right now? Your therapist is here with us.";

    public DialogueSession(Persona persona, ScriptedEngine script, IDialogueEngine? llm, ITherapistPresence presence, PatientMemory? memory, double intensity = 0.3, RiskScreen? screen = null)
    {
        _screen = screen ?? DefaultScreen.Value;
        Persona = persona ?? throw new ArgumentNullException(nameof(persona));
        _script = script ?? throw new ArgumentNullException(nameof(script));
        _llm = llm;
        _presence = presence ?? throw new ArgumentNullException(nameof(presence));
        Memory = memory;
        SetIntensity(intensity);
    }

    private static readonly Lazy<RiskScreen> DefaultScreen = new(() => new RiskScreen());

    public Persona Persona { get; }
    public PatientMemory? Memory { get; }
    public DialogueState State { get; private set; } = DialogueState.NotStarted;
    public IReadOnlyList<TranscriptLine> Transcript => _transcript;
    public ScriptedEngine Script => _script;
    public string EngineName => _llm?.Name ?? _script.Name;

    /// <summary>Total patient speaking time and turn count, and the last response latency: features for the exposure engine.</summary>
    public double SpeakingSeconds { get; private set; }
    public int PatientTurns { get; private set; }
    public double? LastLatencySeconds { get; private set; }
    public double MeanLatencySeconds => PatientTurns == 0 ? double.NaN : _latencySum / PatientTurns;
    private double _latencySum;

    public double Intensity => _intensity;

    /// <summary>The exposure engine's dial, 0-1. NaN or out of range is refused with the value.</summary>
    public void SetIntensity(double intensity)
    {
        if (double.IsNaN(intensity) || intensity is < 0 or > 1)
            throw new DialogueInputException("intensity", intensity.ToString(System.Globalization.CultureInfo.InvariantCulture), $"intensity must be within 0-1 (got {intensity})");
        _intensity = intensity;
    }

    /// <summary>Interruptions per minute the scene should schedule at the current intensity.</summary>
    public double InterruptionsPerMinute => Persona.Intensity.MaxInterruptionsPerMinute * _intensity;

    private DialogueContext Context() => new(Persona, _intensity, _transcript, Memory);

    /// <summary>Opens the conversation: the AI disclosure, then the script's first line. Refused while no therapist is connected.</summary>
    public IReadOnlyList<AgentTurn> Start(double atSeconds)
    {
        if (!_presence.TherapistConnected) throw new InvalidOperationException("no therapist is connected: an agent may not speak to a patient");
        var lines = new List<AgentTurn> { new(Persona.Disclosure, LineSource.Disclosure, null, "the agent always says it is an AI") };
        State = DialogueState.Talking;
        if (_script.Mode != ScriptMode.Therapist) lines.Add(Guard(_script.Opening(Context()), null));
        foreach (var l in lines) Record(Speaker.Agent, l.Text, atSeconds, l.Source.ToString());
        return lines;
    }

    /// <summary>Hears one patient turn and decides what the agent says.</summary>
    public async Task<DialogueOutcome> HearAsync(PatientTurn turn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(turn);
        if (double.IsNaN(turn.SpeakingSeconds) || turn.SpeakingSeconds < 0)
            throw new DialogueInputException("speakingSeconds", turn.SpeakingSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "speaking time must be >= 0 seconds");
        await _screen.Model.WaitReadyAsync(ScreenModelWait, cancellationToken).ConfigureAwait(false);
        var context = _transcript.Where(l => l.Speaker != Speaker.System).TakeLast(ScreenContextTurns)
            .Select(l => new ContextTurn(l.Speaker.ToString().ToLowerInvariant(), l.Text)).ToList();
        var screen = await _screen.ScreenAsync(turn.Text, context, cancellationToken).ConfigureAwait(false);
        Record(Speaker.Patient, turn.Text, turn.AtSeconds, screen.Category == ScreenCategory.None ? null : $"{screen.CategoryName} {screen.LevelName} ({screen.Source}, {screen.Rule}: {screen.Evidence})");
        PatientTurns++;
        SpeakingSeconds += turn.SpeakingSeconds;
        if (!double.IsNaN(turn.ResponseLatencySeconds) && turn.ResponseLatencySeconds >= 0)
        {
            LastLatencySeconds = turn.ResponseLatencySeconds;
            _latencySum += turn.ResponseLatencySeconds;
        }

        if (screen.Action == GuardAction.SafetyScript)
        {
            // The safety script is spoken even if the therapist dropped out: it tells the patient help is coming.
            State = DialogueState.SafetyHold;
            var line = new AgentTurn(Persona.SafetyScript, LineSource.SafetyScript, null, $"crisis: {screen.CategoryName}");
            Record(Speaker.Agent, line.Text, turn.AtSeconds, "safety script");
            return new DialogueOutcome([line], screen, PauseExposure: true, AlertTherapist: true, null, null);
        }
        if (!_presence.TherapistConnected)
            return new DialogueOutcome([], screen, screen.Action == GuardAction.PauseAndSupport, screen.Action != GuardAction.Continue, "no therapist is connected: the agent stays silent", null);
        if (State == DialogueState.SafetyHold)
            return new DialogueOutcome([], screen, true, screen.Action != GuardAction.Continue, "safety hold: the agent waits for the therapist to resume", null);
        if (State == DialogueState.NotStarted)
        {
            var opening = Start(turn.AtSeconds);
            return new DialogueOutcome(opening, screen, false, false, null, null);
        }
        if (screen.Action == GuardAction.PauseAndSupport)
        {
            var line = new AgentTurn(Persona.SupportLine, LineSource.Support, null, "acute distress: calm support, exposure held");
            Record(Speaker.Agent, line.Text, turn.AtSeconds, "support");
            return new DialogueOutcome([line], screen, true, true, null, null);
        }
        if (screen.Action == GuardAction.CheckIn)
        {
            var line = new AgentTurn(CheckInLine, LineSource.CheckIn, null, $"concern ({screen.CategoryName}, {screen.Source}): the agent checks in, the therapist is notified");
            Record(Speaker.Agent, line.Text, turn.AtSeconds, "check-in");
            return new DialogueOutcome([line], screen, false, true, null, null);
        }
        if (screen.Action == GuardAction.ReferToTherapist)
        {
            var line = new AgentTurn(Persona.ReferLine, LineSource.Refer, null, "medical question: referred to the therapist");
            Record(Speaker.Agent, line.Text, turn.AtSeconds, "refer");
            return new DialogueOutcome([line], screen, false, true, null, null);
        }

        string? fallbackReason = null;
        AgentTurn? reply = null;
        if (_llm != null)
        {
            try
            {
                var candidate = await _llm.RespondAsync(Context(), turn, cancellationToken).ConfigureAwait(false);
                if (candidate != null)
                {
                    var check = OutputGuard.Check(candidate.Text, Persona);
                    if (check.Allowed) reply = candidate with { Text = check.Text };
                    else fallbackReason = $"model reply refused by the output guard: {check.Violation} ('{check.Evidence}')";
                }
                else fallbackReason = "the model gave no reply";
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                fallbackReason = $"model failed: {e.GetType().Name}: {e.Message}";
            }
        }
        if (reply == null && _script.Mode != ScriptMode.Therapist)
        {
            var scripted = await _script.RespondAsync(Context(), turn, cancellationToken).ConfigureAwait(false);
            reply = scripted == null
                ? new AgentTurn(Persona.FallbackLine, LineSource.Fallback, null, "end of the script")
                : Guard(scripted, fallbackReason);
        }
        if (reply == null)
            return new DialogueOutcome([], screen, false, false, "therapist-controlled: waiting for the therapist to pick the next line", fallbackReason);
        Record(Speaker.Agent, reply.Text, turn.AtSeconds, reply.Source.ToString());
        return new DialogueOutcome([reply], screen, false, false, null, fallbackReason);
    }

    /// <summary>The therapist's pick of a scripted line (wizard-of-Oz), still through the output guard.</summary>
    public AgentTurn TherapistSelect(string nodeId, double atSeconds)
    {
        RequireTherapist();
        var turn = Guard(_script.Select(Context(), nodeId, "picked by the therapist"), null);
        if (State == DialogueState.NotStarted) State = DialogueState.Talking;
        Record(Speaker.Agent, turn.Text, atSeconds, "therapist pick");
        return turn;
    }

    /// <summary>A line the therapist typed for the agent to say: refused (with the reason) if the output guard forbids it.</summary>
    public AgentTurn TherapistSay(string text, double atSeconds)
    {
        RequireTherapist();
        var check = OutputGuard.Check(text, Persona);
        if (!check.Allowed) throw new DialogueInputException("text", text, $"the agent may not say this: {check.Violation} ('{check.Evidence}')");
        var turn = new AgentTurn(check.Text, LineSource.Therapist, null, "typed by the therapist");
        Record(Speaker.Therapist, turn.Text, atSeconds, "spoken by the agent");
        return turn;
    }

    /// <summary>After a crisis hold, only the therapist resumes the conversation.</summary>
    public void Resume(double atSeconds, string therapistNote)
    {
        RequireTherapist();
        State = DialogueState.Talking;
        Record(Speaker.System, "resumed by the therapist: " + therapistNote, atSeconds, null);
    }

    /// <summary>
    /// Whether to interrupt now, <paramref name="seconds"/> after the last check: interruptions are a Poisson
    /// process at <see cref="InterruptionsPerMinute"/> (the persona's maximum scaled by the intensity dial).
    /// </summary>
    public bool ShouldInterrupt(Random random, double seconds)
    {
        if (State != DialogueState.Talking || !_presence.TherapistConnected || Persona.Intensity.Interruptions.Count == 0 || seconds <= 0) return false;
        double p = 1 - Math.Exp(-InterruptionsPerMinute / 60 * seconds);
        return random.NextDouble() < p;
    }

    /// <summary>An interruption line (audience cough, examiner cutting in) chosen by the caller's random source.</summary>
    public AgentTurn? Interruption(Random random, double atSeconds)
    {
        if (!_presence.TherapistConnected || State != DialogueState.Talking || Persona.Intensity.Interruptions.Count == 0) return null;
        var line = Persona.Intensity.Interruptions[random.Next(Persona.Intensity.Interruptions.Count)];
        var turn = new AgentTurn(line, LineSource.Interruption, null, $"interruption at intensity {_intensity:F2}");
        Record(Speaker.Agent, line, atSeconds, "interruption");
        return turn;
    }

    private void RequireTherapist()
    {
        if (!_presence.TherapistConnected) throw new InvalidOperationException("no therapist is connected");
    }

    /// <summary>Scripted lines are authored, but still pass the guard (a persona file could be wrong); refused lines become the fallback line.</summary>
    private AgentTurn Guard(AgentTurn turn, string? fallbackReason)
    {
        var check = OutputGuard.Check(turn.Text, Persona);
        var reason = fallbackReason == null ? turn.Reason : $"{turn.Reason}; script stood in: {fallbackReason}";
        if (check.Allowed) return turn with { Text = check.Text, Reason = reason, Source = fallbackReason == null ? turn.Source : LineSource.Fallback };
        return new AgentTurn(Persona.FallbackLine, LineSource.Fallback, turn.NodeId, $"scripted line refused: {check.Violation}");
    }

    private void Record(Speaker speaker, string text, double at, string? detail) => _transcript.Add(new TranscriptLine(speaker, text, at, detail));
}
