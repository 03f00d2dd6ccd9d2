using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;

namespace OpenVret.Dialogue.Llm;

/// <summary>Where the clinic's model lives and how long the agent may wait for it.</summary>
public sealed record LlmOptions(Uri Endpoint, string Model, string? ApiKey, TimeSpan Timeout, int ContextTurns = 12, int MaxOutputTokens = 160, float Temperature = 0.7f)
{
    /// <summary>An OpenAI-compatible endpoint's chat client (llama.cpp, Ollama, vLLM or a hosted service); the URI ends in /v1.</summary>
    public IChatClient CreateClient()
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = Endpoint,
            NetworkTimeout = Timeout,
            // The dialogue falls back to the script instead of waiting on retries.
            RetryPolicy = new ClientRetryPolicy(0),
        };
        return new OpenAI.Chat.ChatClient(Model, new ApiKeyCredential(string.IsNullOrEmpty(ApiKey) ? "no-key" : ApiKey), options).AsIChatClient();
    }
}

/// <summary>
/// The LLM engine: the persona's prompt, the guardrail rules restated, the patient's memory and the last
/// <see cref="LlmOptions.ContextTurns"/> transcript lines go to any <see cref="IChatClient"/>; the reply must come
/// within the timeout. Failures surface as exceptions: <see cref="DialogueSession"/> falls back to the script.
/// </summary>
public sealed class LlmEngine(IChatClient client, LlmOptions options) : IDialogueEngine
{
    public string Name => "llm:" + options.Model;
    public LlmOptions Options => options;

    public async Task<AgentTurn?> RespondAsync(DialogueContext context, PatientTurn turn, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var messages = Messages(context, turn, options.ContextTurns);
        ChatResponse response;
        try
        {
            response = await client.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = options.MaxOutputTokens, Temperature = options.Temperature }, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the model did not answer within {options.Timeout.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
        }
        var text = response.Text?.Trim();
        if (string.IsNullOrEmpty(text)) throw new InvalidOperationException("the model returned an empty reply");
        return new AgentTurn(text, LineSource.Llm, null, $"{options.Model} reply");
    }

    /// <summary>The chat sent to the model: system prompt, then the bounded history, then the patient's turn.</summary>
    public static List<ChatMessage> Messages(DialogueContext context, PatientTurn turn, int contextTurns)
    {
        var p = context.Persona;
        var system = new StringBuilder();
        system.AppendLine(p.Prompt);
        system.AppendLine($"You are {p.Name}, {p.Role}. Tone: {p.Tone}; intensity now: {context.Tone} ({context.Intensity.ToString("F2", CultureInfo.InvariantCulture)} on a 0-1 dial).");
        system.AppendLine("Rules you must always follow: you are an AI character in a therapy exercise and never claim to be human; " +
                          "you never diagnose and never advise on medication; you stay in your role; " +
                          $"each reply is at most {p.Limits.MaxWords} words; if the person seems in danger or distress, say you will get their therapist.");
        if (p.Limits.ForbiddenTopics.Count > 0) system.AppendLine("Never talk about: " + string.Join(", ", p.Limits.ForbiddenTopics) + ".");
        if (context.Memory is { Text.Length: > 0 } memory) system.AppendLine("What you know from earlier sessions (written with the therapist):\n" + memory.Text);
        var messages = new List<ChatMessage> { new(ChatRole.System, system.ToString()) };
        foreach (var line in context.History.TakeLast(contextTurns))
        {
            if (line.Speaker == Speaker.Patient) messages.Add(new ChatMessage(ChatRole.User, line.Text));
            else if (line.Speaker == Speaker.Agent) messages.Add(new ChatMessage(ChatRole.Assistant, line.Text));
        }
        messages.Add(new ChatMessage(ChatRole.User, turn.Text));
        return messages;
    }
}
