using System.Collections.Concurrent;
using OpenVret.Dialogue;
using OpenVret.Dialogue.Llm;
using OpenVret.Dialogue.Memory;
using OpenVret.Dialogue.Personas;
using OpenVret.Dialogue.Scripted;
using OpenVret.Protocol;
using OpenVret.Server.Data;
using Microsoft.EntityFrameworkCore;
using OpenVret.Server.Sessions;

namespace OpenVret.Server.Dialogue;

/// <summary>What the console shows about a session's virtual human.</summary>
public sealed record AgentStatus(string Persona, string Name, string Mode, string Engine, string State, double Intensity, bool IntensityFollowsEngine,
    double SpeakingSeconds, int PatientTurns, double? MeanLatencySeconds, IReadOnlyList<ScriptCandidate> Candidates);

/// <summary>
/// The virtual humans of running sessions. One <see cref="DialogueSession"/> per session, its calls serialised;
/// the model call (if any) runs outside the session actor, and what the agent says goes back through the actor
/// (scene command, transcript, audit). The agent's intensity follows the exposure engine's current intensity
/// unless the therapist fixes it. No agent speaks while no console watches the session.
/// </summary>
public sealed class AgentService
{
    private sealed class Agent(DialogueSession session, string mode, bool followEngine)
    {
        public DialogueSession Session { get; } = session;
        public string Mode { get; } = mode;
        public bool FollowEngine { get; set; } = followEngine;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public PatientTurn? LastTurn { get; set; }
        public CancellationTokenSource Stop { get; } = new();
    }

    private sealed class ConsolePresence(ISessionDirectory host, string sessionId) : ITherapistPresence
    {
        public bool TherapistConnected => host.ConsolesWatching(sessionId) > 0;
    }

    private readonly ConcurrentDictionary<string, Agent> _agents = new(StringComparer.Ordinal);
    private readonly ISessionDirectory _host;
    private readonly DbFactory _db;
    private readonly ServerOptions _options;
    private readonly ILogger<AgentService> _log;

    public AgentService(ISessionDirectory host, DbFactory db, ServerOptions options, PatientSpeech speech, ILogger<AgentService> log)
    {
        _host = host; _db = db; _options = options; _log = log;
        host.Ended += id => { if (_agents.TryRemove(id, out var gone)) gone.Stop.Cancel(); };
        // The agent answers outside the session's turn: the device's ack never waits for a model.
        speech.Heard += (id, line) => { if (_agents.ContainsKey(id)) _ = HearAsync(id, line); };
    }

    public bool LlmConfigured => !string.IsNullOrWhiteSpace(_options.LlmEndpoint);

    private async Task<ISessionHandle> Actor(string sessionId) => await _host.FindAsync(sessionId)
        ?? throw new DialogueInputException("sessionId", sessionId, $"session '{sessionId}' is not running");

    public static ScriptMode ParseMode(string mode) => mode switch
    {
        "speaking-time" => ScriptMode.SpeakingTime,
        "global-keywords" => ScriptMode.GlobalKeywords,
        "local-keywords" => ScriptMode.LocalKeywords,
        "therapist" => ScriptMode.Therapist,
        _ => throw new DialogueInputException("mode", mode, $"mode '{mode}': use speaking-time, global-keywords, local-keywords or therapist"),
    };

    /// <summary>Starts a persona in a session: disclosure first, then the script's opening (unless the therapist picks lines).</summary>
    public async Task<AgentStatus> StartAsync(string sessionId, string personaId, string mode, bool useLlm, double? intensity, string actor)
    {
        var a = await Actor(sessionId);
        if (_host.ConsolesWatching(sessionId) == 0) throw new InvalidOperationException("no therapist console watches this session: an agent may not speak to the patient");
        if (useLlm && !LlmConfigured) throw new DialogueInputException("useLlm", "true", "no LLM endpoint is configured on this server (OpenVret:LlmEndpoint); use the scripted engine");
        var persona = Persona.BuiltIn(personaId);
        var scriptMode = ParseMode(mode);
        PatientMemory? memory;
        await using (var ctx = _db.Create())
        {
            var patientId = await ctx.Sessions.Where(x => x.Id == sessionId).Select(x => x.PatientId).FirstAsync();
            var patient = await ctx.Patients.FindAsync(patientId);
            memory = string.IsNullOrWhiteSpace(patient?.AgentMemory) ? null : new PatientMemory(patient!.AgentMemory!);
        }
        IDialogueEngine? llm = null;
        if (useLlm)
        {
            var o = new LlmOptions(new Uri(_options.LlmEndpoint!), _options.LlmModel, _options.LlmApiKey, TimeSpan.FromSeconds(_options.LlmTimeoutSeconds));
            llm = new LlmEngine(o.CreateClient(), o);
        }
        double start = intensity ?? (await a.ViewAsync()).CurrentIntensity;
        var session = new DialogueSession(persona, new ScriptedEngine(persona.Script, scriptMode), llm, new ConsolePresence(_host, sessionId), memory, Math.Clamp(start, 0, 1));
        var agent = new Agent(session, mode, intensity is null);
        if (_agents.TryGetValue(sessionId, out var previous)) await StopAsync(sessionId, actor);
        _agents[sessionId] = agent;
        _ = InterruptionsAsync(sessionId, agent);
        await agent.Gate.WaitAsync();
        try
        {
            var lines = session.Start(await a.NowAsync());
            await a.DialogueNoteAsync(actor, "agent_started", $"{persona.Name} ({persona.Id}), {mode}, {(llm is null ? "scripted" : "LLM " + _options.LlmModel + " with script fallback")}{(memory is null ? "" : ", with the patient's memory")}");
            await a.AgentSpokeAsync(persona.Id, persona.Name, lines.ToArray(), "agent");
        }
        finally { agent.Gate.Release(); }
        return Status(sessionId);
    }

    /// <summary>
    /// The persona's interruptions ("could you get to the point?", a cough) at the rate its intensity dial sets,
    /// checked once a second while the agent talks and a therapist watches; the dial follows the exposure unless fixed.
    /// </summary>
    private async Task InterruptionsAsync(string sessionId, Agent agent)
    {
        var random = new Random(sessionId.GetHashCode(StringComparison.Ordinal));
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(agent.Stop.Token))
            {
                if (await _host.FindAsync(sessionId) is not { } a) return;
                await agent.Gate.WaitAsync(agent.Stop.Token);
                try
                {
                    await FollowEngine(agent, a);
                    if (!agent.Session.ShouldInterrupt(random, 1)) continue;
                    var line = agent.Session.Interruption(random, await a.NowAsync());
                    if (line is null) continue;
                    var persona = agent.Session.Persona;
                    await a.AgentSpokeAsync(persona.Id, persona.Name, [line], "agent");
                }
                finally { agent.Gate.Release(); }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { _log.LogError(e, "interruptions stopped in session {Session}", Security.Secrets.Pseudonym("session", sessionId)); }
    }

    /// <summary>Unless the therapist fixed it, the agent's dial is the exposure engine's current intensity.</summary>
    private static async Task FollowEngine(Agent agent, ISessionHandle a)
    {
        if (agent.FollowEngine) agent.Session.SetIntensity(Math.Clamp((await a.ViewAsync()).CurrentIntensity, 0, 1));
    }

    /// <summary>
    /// A patient utterance the session accepted (its transcript line, which reaches every node with a client of the
    /// session): the agent answers, or stays silent with the reason in the transcript.
    /// </summary>
    public async Task HearAsync(string sessionId, TranscriptItem line)
    {
        if (!_agents.TryGetValue(sessionId, out var agent) || await _host.FindAsync(sessionId) is not { } a) return;
        await agent.Gate.WaitAsync();
        try
        {
            await FollowEngine(agent, a);
            var turn = new PatientTurn(line.Text, line.SpeakingSeconds ?? 0, line.LatencySeconds ?? double.NaN, await a.NowAsync());
            agent.LastTurn = turn;
            var outcome = await agent.Session.HearAsync(turn);
            var persona = agent.Session.Persona;
            if (outcome.FallbackReason != null) await a.DialogueNoteAsync("agent", "agent_fallback", outcome.FallbackReason);
            if (outcome.Silence != null && outcome.Lines.Count == 0) await a.DialogueNoteAsync("agent", "agent_silent", outcome.Silence);
            if (outcome.Lines.Count > 0) await a.AgentSpokeAsync(persona.Id, persona.Name, outcome.Lines.ToArray(), "agent");
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "agent failed to answer in session {Session}", Security.Secrets.Pseudonym("session", sessionId));
        }
        finally { agent.Gate.Release(); }
    }

    /// <summary>Wizard-of-Oz: the therapist picks the next scripted line.</summary>
    public Task<AgentStatus> SelectAsync(string sessionId, string nodeId, string actor) =>
        Speak(sessionId, actor, (s, now) => s.TherapistSelect(nodeId, now));

    /// <summary>The therapist types a line for the agent (the output guard still applies).</summary>
    public Task<AgentStatus> SayAsync(string sessionId, string text, string actor) =>
        Speak(sessionId, actor, (s, now) => s.TherapistSay(text, now));

    private async Task<AgentStatus> Speak(string sessionId, string actor, Func<DialogueSession, double, AgentTurn> say)
    {
        var agent = Get(sessionId);
        var a = await Actor(sessionId);
        await agent.Gate.WaitAsync();
        try
        {
            var line = say(agent.Session, await a.NowAsync());
            await a.AgentSpokeAsync(agent.Session.Persona.Id, agent.Session.Persona.Name, [line], actor);
        }
        finally { agent.Gate.Release(); }
        return Status(sessionId);
    }

    /// <summary>After a crisis hold, only the therapist lets the agent talk again.</summary>
    public async Task<AgentStatus> ResumeAsync(string sessionId, string note, string actor)
    {
        var agent = Get(sessionId);
        await agent.Gate.WaitAsync();
        try
        {
            var a = await Actor(sessionId);
            agent.Session.Resume(await a.NowAsync(), note);
            await a.DialogueNoteAsync(actor, "agent_resumed", "the therapist let the agent continue: " + note);
        }
        finally { agent.Gate.Release(); }
        return Status(sessionId);
    }

    /// <summary>Fixes the agent's intensity (0-1), or with null lets it follow the exposure engine again.</summary>
    public async Task<AgentStatus> SetIntensityAsync(string sessionId, double? intensity, string actor)
    {
        var agent = Get(sessionId);
        if (intensity is double i) agent.Session.SetIntensity(i);
        agent.FollowEngine = intensity is null;
        await (await Actor(sessionId)).DialogueNoteAsync(actor, "agent_intensity", intensity is null ? "intensity follows the exposure engine" : $"intensity fixed at {intensity:0.00}");
        return Status(sessionId);
    }

    public async Task StopAsync(string sessionId, string actor)
    {
        if (!_agents.TryRemove(sessionId, out var agent)) throw new DialogueInputException("sessionId", sessionId, "no agent is running in this session");
        agent.Stop.Cancel();
        if (await _host.FindAsync(sessionId) is { } a)
            await a.DialogueNoteAsync(actor, "agent_stopped", $"{agent.Session.Persona.Name} left the conversation");
    }

    public AgentStatus? TryStatus(string sessionId) => _agents.ContainsKey(sessionId) ? Status(sessionId) : null;

    private Agent Get(string sessionId) => _agents.TryGetValue(sessionId, out var a) ? a
        : throw new DialogueInputException("sessionId", sessionId, "no agent is running in this session; start one first");

    private AgentStatus Status(string sessionId)
    {
        var agent = Get(sessionId);
        var s = agent.Session;
        var candidates = s.Script.Mode == ScriptMode.Therapist
            ? s.Script.Candidates(new DialogueContext(s.Persona, s.Intensity, s.Transcript, s.Memory), agent.LastTurn).Take(8).ToList()
            : (IReadOnlyList<ScriptCandidate>)[];
        return new AgentStatus(s.Persona.Id, s.Persona.Name, agent.Mode, s.EngineName, s.State.ToString(), s.Intensity, agent.FollowEngine,
            s.SpeakingSeconds, s.PatientTurns, double.IsNaN(s.MeanLatencySeconds) ? null : s.MeanLatencySeconds, candidates);
    }
}
