using System.Text.RegularExpressions;
using OpenVret.Dialogue.Personas;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>Why an agent line may not be spoken.</summary>
public enum OutputViolation { None, ClaimsHuman, Diagnosis, MedicationAdvice, OutOfPersona, ForbiddenTopic, HarmfulContent, Empty }

/// <summary>The checked line: what may be spoken (trimmed to the persona's length limit), or the violation.</summary>
public sealed record OutputCheck(string Text, OutputViolation Violation, string? Evidence, bool Trimmed)
{
    public bool Allowed => Violation == OutputViolation.None;
}

/// <summary>
/// The output guardrail, behind every engine (scripted, LLM, therapist-typed): no claim to be human, no diagnosis, no
/// medication advice, no breaking character into "language model" talk, nothing from the persona's forbidden topics,
/// nothing the crisis screen would flag, and no longer than the persona allows (trimmed at a sentence end).
/// </summary>
public static class OutputGuard
{
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.IgnoreCase;

    private static readonly Regex ClaimsHuman = new(@"\b(?:i am|i'm|im)\s+(?:a\s+|an\s+)?(?:real|actual|living|flesh and blood|genuine)?\s*(?:human|human being|person|man|woman)\b(?!\s+(?:character|avatar))|\b(?:i am|i'm|im)\s+not\s+(?:a\s+|an\s+)?(?:ai|bot|robot|computer|machine|program|chatbot|virtual|artificial|simulation)\b|\bi'?m\s+(?:really\s+)?human\b|\bas a (?:fellow )?human\b|\bi have a (?:body|family|heartbeat) like you\b", Options);
    private static readonly Regex Diagnosis = new(@"\byou\s+(?:have|suffer from|are suffering from|'ve got|have got|clearly have|probably have|might have|may have|definitely have|seem to have|meet the criteria for)\s+(?:a\s+|an\s+)?(?:ptsd|depression|bipolar|ocd|adhd|autism|schizophrenia|psychosis|(?:\w+\s+){0,2}disorder|(?:\w+\s+)?phobia|agoraphobia|a mental illness)\b|\bi (?:would )?diagnose\b|\byour diagnosis (?:is|would be)\b|\bthis is (?:clearly |definitely )?(?:ptsd|depression|bipolar|a panic disorder)\b", Options);
    private static readonly Regex Medication = new(@"\b(?:take|taking|increase|reduce|stop|double|halve|skip|try|start)\s+(?:your\s+|a\s+|some\s+|more\s+|less\s+)?(?:dose|dosage|medication|medicine|pills?|tablets?|meds|antidepressants?|beta blockers?|sertraline|fluoxetine|escitalopram|citalopram|paroxetine|venlafaxine|xanax|alprazolam|lorazepam|diazepam|valium|clonazepam|propranolol|benzodiazepines?)\b|\b\d+\s*(?:mg|milligrams)\b|\b(?:sertraline|fluoxetine|escitalopram|citalopram|paroxetine|venlafaxine|xanax|alprazolam|lorazepam|diazepam|valium|clonazepam|propranolol)\b", Options);
    private static readonly Regex OutOfPersona = new(@"\bas an ai (?:language )?model\b|\bas a (?:large )?language model\b|\bi am (?:chatgpt|gpt|an openai|a large language model)\b|\bmy (?:system prompt|instructions say|training data)\b|\bopenai\b", Options);

    public static OutputCheck Check(string line, Persona persona)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(persona);
        var text = line.Trim();
        if (text.Length == 0) return new OutputCheck(text, OutputViolation.Empty, null, false);
        foreach (var (rx, violation) in new[] { (ClaimsHuman, OutputViolation.ClaimsHuman), (Diagnosis, OutputViolation.Diagnosis), (Medication, OutputViolation.MedicationAdvice), (OutOfPersona, OutputViolation.OutOfPersona) })
        {
            var m = rx.Match(text);
            if (m.Success) return new OutputCheck(text, violation, m.Value, false);
        }
        var normalised = " " + string.Join(' ', TextNormalizer.Tokens(text)) + " ";
        foreach (var topic in persona.Limits.ForbiddenTopics)
        {
            var t = " " + string.Join(' ', TextNormalizer.Tokens(topic)) + " ";
            if (normalised.Contains(t, StringComparison.Ordinal)) return new OutputCheck(text, OutputViolation.ForbiddenTopic, topic, false);
        }
        var screen = CrisisScreen.Screen(text);
        if (screen.Crisis) return new OutputCheck(text, OutputViolation.HarmfulContent, screen.Evidence, false);
        var trimmed = Trim(text, persona.Limits.MaxWords);
        return new OutputCheck(trimmed, OutputViolation.None, null, trimmed.Length != text.Length);
    }

    /// <summary>At most <paramref name="maxWords"/> words, cut at the last sentence end that fits (or at the word limit with an ellipsis).</summary>
    public static string Trim(string text, int maxWords)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length <= maxWords) return text;
        var head = string.Join(' ', words.Take(maxWords));
        int end = head.LastIndexOfAny(['.', '!', '?']);
        return end > head.Length / 3 ? head[..(end + 1)] : head.TrimEnd(',', ';', ':') + "...";
    }
}
