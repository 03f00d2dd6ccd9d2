using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpenVret.Dialogue.Tests;

/// <summary>
/// A real HTTP server on loopback that speaks the OpenAI chat-completions protocol (POST /v1/chat/completions),
/// standing in for a clinic's llama.cpp/Ollama server. The test sets how it answers; it records every request body.
/// </summary>
public sealed class ChatCompletionsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<JsonNode> Requests { get; } = new();

    /// <summary>What the next replies are: text, a delay, or an HTTP status to fail with.</summary>
    public Func<JsonNode, (string Text, TimeSpan Delay, int Status)> Behaviour { get; set; } = _ => ("Tell me more about that.", TimeSpan.Zero, 200);

    public Uri Endpoint { get; }

    private ChatCompletionsServer(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public static async Task<ChatCompletionsServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ChatCompletionsServer? server = null;
        app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            var body = await JsonNode.ParseAsync(http.Request.Body);
            server!.Requests.Enqueue(body!);
            var (text, delay, status) = server.Behaviour(body!);
            if (delay > TimeSpan.Zero)
            {
                try { await Task.Delay(delay, http.RequestAborted); } catch (OperationCanceledException) { return; }
            }
            if (status != 200)
            {
                http.Response.StatusCode = status;
                await http.Response.WriteAsJsonAsync(new { error = new { message = "model overloaded", type = "server_error" } });
                return;
            }
            var reply = new JsonObject
            {
                ["id"] = "chatcmpl-test",
                ["object"] = "chat.completion",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = body!["model"]?.GetValue<string>() ?? "local",
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
            };
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(reply.ToJsonString());
        });
        await app.StartAsync();
        var address = app.Urls.First();
        server = new ChatCompletionsServer(app, new Uri(address.TrimEnd('/') + "/v1"));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The messages of a recorded request as (role, content) pairs.</summary>
    public static List<(string Role, string Content)> Messages(JsonNode request) =>
        request["messages"]!.AsArray().Select(m => (m!["role"]!.GetValue<string>(), Content(m["content"]))).ToList();

    private static string Content(JsonNode? content) => content switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };
}
