using OpenVret.Dialogue.Personas;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>
/// A second opinion on a screened utterance from a chat model (any <see cref="IChatClient"/>: a clinic's local
/// OpenAI-compatible server). It may raise the level, never lower it; it must answer within its timeout, or the
/// screen's own result stands (with a note saying the second opinion was not had).
/// </summary>
public sealed class LlmSecondOpinion
{
    private readonly IChatClient _client;
    private readonly string _model;

    public LlmSecondOpinion(IChatClient client, string model, TimeSpan timeout)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        if (string.IsNullOrWhiteSpace(model)) throw new DialogueInputException("model", model ?? "", "the second-opinion model name is empty");
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromSeconds(60))
            throw new DialogueInputException("timeout", timeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "the second-opinion timeout must be within 0-60 s");
        _model = model;
        Timeout = timeout;
    }

    public TimeSpan Timeout { get; }

    internal const string Instructions =
        "You are a clinical safety screen in a virtual-reality exposure-therapy session. Read the patient's last message " +
        "(with the earlier turns for context) and rate suicide, self-harm and violence risk. Answer with one JSON object only: " +
        "{\"level\": \"none\"|\"concern\"|\"high\"|\"imminent\", \"category\": \"suicidal_ideation\"|\"self_harm\"|\"harm_to_others\"|\"none\", \"reason\": \"...\"}. " +
        "concern: passive wish to be dead, hopelessness, risk unclear; high: suicidal ideation, self-harm, intent to harm others; " +
        "imminent: a plan with a time, preparation done, means at hand. Idioms, fiction, news and resolved past are none.";

    private static readonly Regex LevelRx = new("\"level\"\\s*:\\s*\"(none|concern|high|imminent)\"", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex CategoryRx = new("\"category\"\\s*:\\s*\"(suicidal_ideation|self_harm|harm_to_others|none)\"", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>The screen's result, raised when the model rates it higher; unchanged (with a note) on timeout, error or an unreadable answer.</summary>
    public async Task<ScreenResult> ReviewAsync(ScreenResult screened, IReadOnlyList<ContextTurn> context, CancellationToken cancellationToken = default)
    {
        var messages = new List<ChatMessage> { new(ChatRole.System, Instructions) };
        var transcript = string.Join("\n", context.Select(t => $"{t.Speaker}: {t.Text}"));
        messages.Add(new ChatMessage(ChatRole.User, (transcript.Length > 0 ? "Earlier turns:\n" + transcript + "\n\n" : "") + "Patient's last message:\n" + screened.Text));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Timeout);
        string answer;
        try
        {
            var response = await _client.GetResponseAsync(messages, new ChatOptions { ModelId = _model, Temperature = 0, MaxOutputTokens = 120 }, cts.Token).ConfigureAwait(false);
            answer = response.Text ?? "";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return screened with { Note = Join(screened.Note, $"LLM second opinion timed out after {Timeout.TotalSeconds:0.#} s: the screen's own level stands") };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return screened with { Note = Join(screened.Note, $"LLM second opinion failed ({e.GetType().Name}): the screen's own level stands") };
        }
        var m = LevelRx.Match(answer);
        if (!m.Success) return screened with { Note = Join(screened.Note, "LLM second opinion unreadable: the screen's own level stands") };
        var level = m.Groups[1].Value.ToLowerInvariant() switch
        {
            "concern" => RiskLevel.Concern,
            "high" => RiskLevel.High,
            "imminent" => RiskLevel.Imminent,
            _ => RiskLevel.None,
        };
        if (level <= screened.Level) return screened with { Note = Join(screened.Note, $"LLM second opinion: {Names.Of(level)} (not higher)") };
        var category = screened.Crisis ? screened.Category : CategoryRx.Match(answer) is { Success: true } c ? c.Groups[1].Value.ToLowerInvariant() switch
        {
            "self_harm" => ScreenCategory.SelfHarm,
            "harm_to_others" => ScreenCategory.HarmToOthers,
            _ => ScreenCategory.SuicidalIdeation,
        } : ScreenCategory.SuicidalIdeation;
        string reason = "";
        try { using var doc = JsonDocument.Parse(answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)]); reason = doc.RootElement.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : ""; }
        catch (Exception) { }
        return new ScreenResult(screened.Text, category, level >= RiskLevel.High ? GuardAction.SafetyScript : GuardAction.CheckIn, "llm:" + _model, reason.Length > 200 ? reason[..200] : reason)
        {
            Level = level, Score = screened.Score, Source = "llm", Detail = screened.Detail,
            Note = Join(screened.Note, $"raised from {screened.LevelName} by the LLM second opinion"),
        };
    }

    private static string? Join(string? a, string? b) => a == null ? b : b == null ? a : a + "; " + b;
}
