using OpenVret.Dialogue.Personas;
using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Memory;

namespace OpenVret.Dialogue.Scripted;

/// <summary>
/// How the scripted engine picks its response, after ter Heijden &amp; Brinkman (2011): by the patient's speaking
/// time alone, by a global keyword list, by keywords specific to the current point of the dialogue, or by the
/// therapist picking the next line in the console (wizard-of-Oz).
/// </summary>
public enum ScriptMode { SpeakingTime, GlobalKeywords, LocalKeywords, Therapist }

/// <summary>A line the therapist can pick next, and why it is offered.</summary>
public sealed record ScriptCandidate(string NodeId, string Text, string Why);

/// <summary>
/// The offline default engine: walks a persona's dialogue graph. Deterministic, no I/O, microseconds per turn.
/// In <see cref="ScriptMode.Therapist"/> it never speaks by itself: it offers <see cref="Candidates"/> and speaks
/// what the therapist <see cref="Select"/>s.
/// </summary>
public sealed class ScriptedEngine(DialogueGraph graph, ScriptMode mode) : IDialogueEngine
{
    public string Name => "scripted:" + mode;
    public ScriptMode Mode => mode;

    /// <summary>The node whose line was spoken last (the start node before the first line).</summary>
    public string Current { get; private set; } = graph.Start;
    public bool Finished { get; private set; }
    private bool _opened;

    /// <summary>The first line of the script (after the disclosure).</summary>
    public AgentTurn Opening(DialogueContext context)
    {
        _opened = true;
        Current = graph.Start;
        return Speak(context, graph.Start, "start of the script");
    }

    public Task<AgentTurn?> RespondAsync(DialogueContext context, PatientTurn turn, CancellationToken cancellationToken)
    {
        if (!_opened) return Task.FromResult<AgentTurn?>(Opening(context));
        if (mode == ScriptMode.Therapist || Finished) return Task.FromResult<AgentTurn?>(null);
        var node = graph.Nodes[Current];
        var tokens = TextNormalizer.Tokens(turn.Text);
        (string? target, string why) = mode switch
        {
            ScriptMode.SpeakingTime when node.Short != null && turn.SpeakingSeconds < node.MinSpeakingSeconds
                => (node.Short, $"spoke {turn.SpeakingSeconds:F1} s < {node.MinSpeakingSeconds:F0} s: follow-up"),
            ScriptMode.SpeakingTime => (node.Next, $"spoke {turn.SpeakingSeconds:F1} s: next question"),
            ScriptMode.GlobalKeywords => Route(DialogueGraph.Match(graph.Global, tokens), "global list", node.Next),
            ScriptMode.LocalKeywords => Route(DialogueGraph.Match(node.Keywords, tokens), $"at '{Current}'", node.Next),
            _ => (null, ""),
        };
        if (target == null)
        {
            Finished = true;
            return Task.FromResult<AgentTurn?>(null);
        }
        return Task.FromResult<AgentTurn?>(Speak(context, target, why));
    }

    private static (string?, string) Route((KeywordRoute Route, string Keyword)? hit, string where, string? next) =>
        hit is { } h ? (h.Route.Goto, $"keyword '{h.Keyword}' ({where})") : (next, "no keyword: next in script");

    /// <summary>What the therapist can pick next: the next node, the follow-up, and nodes whose keywords the last utterance hit.</summary>
    public IReadOnlyList<ScriptCandidate> Candidates(DialogueContext context, PatientTurn? last)
    {
        var list = new List<ScriptCandidate>();
        var node = graph.Nodes[Current];
        void Add(string? id, string why)
        {
            if (id != null && list.All(c => c.NodeId != id)) list.Add(new ScriptCandidate(id, Render(context, graph.Nodes[id].LineFor(context.Tone)), why));
        }
        if (!_opened) Add(graph.Start, "start of the script");
        if (last != null)
        {
            var tokens = TextNormalizer.Tokens(last.Text);
            if (DialogueGraph.Match(node.Keywords, tokens) is { } local) Add(local.Route.Goto, $"keyword '{local.Keyword}' here");
            if (DialogueGraph.Match(graph.Global, tokens) is { } global) Add(global.Route.Goto, $"keyword '{global.Keyword}' (global)");
        }
        Add(node.Next, "next in script");
        Add(node.Short, "follow-up for a short answer");
        foreach (var id in graph.Nodes.Keys) Add(id, "any line");
        return list;
    }

    /// <summary>The therapist's pick: speak node <paramref name="nodeId"/> (unknown ids are refused with the id).</summary>
    public AgentTurn Select(DialogueContext context, string nodeId, string therapistReason)
    {
        if (!graph.Nodes.ContainsKey(nodeId)) throw new DialogueInputException("nodeId", nodeId, $"node '{nodeId}' is not in the script");
        _opened = true;
        Finished = false;
        var turn = Speak(context, nodeId, therapistReason);
        return turn with { Source = LineSource.Therapist };
    }

    private AgentTurn Speak(DialogueContext context, string nodeId, string why)
    {
        Current = nodeId;
        var node = graph.Nodes[nodeId];
        if (node.Next == null && node.Short == null && (node.Keywords?.Count ?? 0) == 0 && mode != ScriptMode.GlobalKeywords) Finished = true;
        return new AgentTurn(Render(context, node.LineFor(context.Tone)), LineSource.Scripted, nodeId, why);
    }

    /// <summary>Fills {name}, {practised} and {helped} from the persona and the patient's memory.</summary>
    public static string Render(DialogueContext context, string line)
    {
        var memory = context.Memory;
        return line.Replace("{name}", context.Persona.Name)
            .Replace("{practised}", memory?.Section("Practised") ?? "the first steps of your plan")
            .Replace("{helped}", memory?.Section("Helped") ?? "slow breathing");
    }
}
