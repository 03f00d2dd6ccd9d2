using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Personas;

namespace OpenVret.Dialogue.Scripted;

/// <summary>Keywords (a phrase, or a word ending in '*' for any word starting so) that lead to a node.</summary>
public sealed record KeywordRoute(IReadOnlyList<string> Keywords, string Goto);

/// <summary>
/// One point in a dialogue: its line per tone ("friendly", "neutral", "sceptical"; "neutral" is required), the
/// keywords specific to this point, the next node, and a follow-up for answers shorter than
/// <see cref="MinSpeakingSeconds"/> (the speaking-time condition).
/// </summary>
public sealed record DialogueNode(IReadOnlyDictionary<string, string> Lines, IReadOnlyList<KeywordRoute>? Keywords, string? Next, string? Short, double MinSpeakingSeconds)
{
    public string LineFor(string tone) => Lines.TryGetValue(tone, out var l) ? l : Lines["neutral"];
}

/// <summary>A scripted dialogue: the start node, the global keyword list (any point) and the nodes.</summary>
public sealed record DialogueGraph(string Start, IReadOnlyList<KeywordRoute>? Global, IReadOnlyDictionary<string, DialogueNode> Nodes)
{
    internal void Validate(string source)
    {
        if (Nodes is null || Nodes.Count == 0) throw new DialogueInputException("script.nodes", "empty", $"{source}: script.nodes is empty");
        if (!Nodes.ContainsKey(Start)) throw new DialogueInputException("script.start", Start, $"{source}: script.start '{Start}' is not a node");
        foreach (var (id, node) in Nodes)
        {
            if (node.Lines is null || !node.Lines.ContainsKey("neutral"))
                throw new DialogueInputException($"script.nodes.{id}.lines", id, $"{source}: node '{id}' needs a \"neutral\" line");
            foreach (var tone in node.Lines.Keys)
                if (tone is not ("friendly" or "neutral" or "sceptical"))
                    throw new DialogueInputException($"script.nodes.{id}.lines", tone, $"{source}: node '{id}' has line tone '{tone}' (use friendly, neutral, sceptical)");
            Check(node.Next, $"script.nodes.{id}.next");
            Check(node.Short, $"script.nodes.{id}.short");
            foreach (var r in node.Keywords ?? []) Check(r.Goto, $"script.nodes.{id}.keywords");
        }
        foreach (var r in Global ?? []) Check(r.Goto, "script.global");

        void Check(string? target, string field)
        {
            if (target != null && !Nodes.ContainsKey(target))
                throw new DialogueInputException(field, target, $"{source}: {field} goes to '{target}', which is not a node");
        }
    }

    /// <summary>The first route whose keyword occurs in the normalised utterance, and the keyword that matched.</summary>
    public static (KeywordRoute Route, string Keyword)? Match(IReadOnlyList<KeywordRoute>? routes, IReadOnlyList<string> tokens)
    {
        if (routes is null) return null;
        foreach (var route in routes)
            foreach (var keyword in route.Keywords)
                if (Contains(tokens, keyword)) return (route, keyword);
        return null;
    }

    private static bool Contains(IReadOnlyList<string> tokens, string keyword)
    {
        bool prefix = keyword.EndsWith('*');
        var words = TextNormalizer.Tokens(prefix ? keyword[..^1] : keyword).Where(w => w.Length > 0 && char.IsLetterOrDigit(w[0])).ToArray();
        if (words.Length == 0) return false;
        for (int i = 0; i + words.Length <= tokens.Count; i++)
        {
            bool all = true;
            for (int j = 0; j < words.Length && all; j++)
            {
                bool last = j == words.Length - 1;
                all = prefix && last ? tokens[i + j].StartsWith(words[j], StringComparison.Ordinal) : tokens[i + j] == words[j];
            }
            if (all) return true;
        }
        return false;
    }
}
