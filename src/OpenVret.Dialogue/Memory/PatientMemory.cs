using OpenVret.Dialogue.Personas;
using System.Globalization;

namespace OpenVret.Dialogue.Memory;

/// <summary>
/// What the agents remember about a patient across sessions: plain text the therapist can read and edit, in
/// labelled lines ("Practised: ...", "Helped: ...", "Notes: ..."). Agents get it at the next session: the LLM in
/// its prompt, the scripted coach through {practised} and {helped}. Bounded, so it stays a summary.
/// </summary>
public sealed record PatientMemory(string Text)
{
    public const int MaxCharacters = 2000;

    /// <summary>The text of the last "Label:" line, or null.</summary>
    public string? Section(string label)
    {
        string? found = null;
        foreach (var raw in Text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith(label + ":", StringComparison.OrdinalIgnoreCase)) found = line[(label.Length + 1)..].Trim();
        }
        return string.IsNullOrEmpty(found) ? null : found;
    }

    /// <summary>Checks a therapist's edit: not empty of meaning, and within the size bound (the error names the length).</summary>
    public static PatientMemory FromTherapist(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxCharacters)
            throw new DialogueInputException("memory.text", text.Length.ToString(CultureInfo.InvariantCulture), $"memory text is {text.Length} characters; the limit is {MaxCharacters}");
        return new PatientMemory(text.Trim());
    }
}

/// <summary>What one session contributes to the memory: the items practised, SUDS at start/peak/end, strategies that helped, expectancy checks.</summary>
public sealed record SessionDigest(
    int SessionNumber,
    DateOnly Date,
    IReadOnlyList<string> ItemsPractised,
    double? SudsStart,
    double? SudsPeak,
    double? SudsEnd,
    IReadOnlyList<string> Helped,
    double? ExpectancyBefore,
    double? OutcomeAfter);

/// <summary>Folds a session into the memory: keeps the therapist's notes, updates what was practised and what helped, appends one history line.</summary>
public static class MemoryBuilder
{
    public static PatientMemory Update(PatientMemory? previous, SessionDigest session)
    {
        var c = CultureInfo.InvariantCulture;
        var notes = previous?.Section("Notes");
        var history = (previous?.Text.Split('\n') ?? []).Select(l => l.Trim()).Where(l => l.StartsWith("Session ", StringComparison.Ordinal)).ToList();
        var line = $"Session {session.SessionNumber} ({session.Date:yyyy-MM-dd}): {string.Join(", ", session.ItemsPractised.DefaultIfEmpty("no exposure items"))}";
        if (session.SudsStart is { } s0 && session.SudsPeak is { } sp && session.SudsEnd is { } s1)
            line += string.Format(c, "; SUDS {0:F0} -> peak {1:F0} -> {2:F0}", s0, sp, s1);
        if (session.ExpectancyBefore is { } e && session.OutcomeAfter is { } o)
            line += string.Format(c, "; expected {0:F0} %, happened {1:F0} %", e, o);
        history.Add(line);
        var helped = session.Helped.Count > 0 ? string.Join(", ", session.Helped) : previous?.Section("Helped");
        var practised = session.ItemsPractised.Count > 0 ? string.Join(", ", session.ItemsPractised) : previous?.Section("Practised");

        string Compose(IEnumerable<string> lines)
        {
            var parts = new List<string>();
            if (practised != null) parts.Add("Practised: " + practised);
            if (helped != null) parts.Add("Helped: " + helped);
            if (notes != null) parts.Add("Notes: " + notes);
            parts.AddRange(lines);
            return string.Join('\n', parts);
        }
        // Oldest session lines go first when the summary would exceed its bound.
        var text = Compose(history);
        while (text.Length > PatientMemory.MaxCharacters && history.Count > 1)
        {
            history.RemoveAt(0);
            text = Compose(history);
        }
        return new PatientMemory(text.Length > PatientMemory.MaxCharacters ? text[..PatientMemory.MaxCharacters] : text);
    }
}
