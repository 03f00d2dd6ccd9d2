using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using OpenVret.Dialogue.Tests;
using OpenVret.Protocol;
using OpenVret.Server.Sessions;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>Virtual humans in a live session: real server, real SignalR console and VR client, real store.</summary>
public static class AgentScenarios
{
    private sealed class Live(TestServer server, TestServer.Therapist therapist, string sessionId, HubConnection console, HubConnection vr)
    {
        public TestServer Server { get; } = server;
        public TestServer.Therapist Therapist { get; } = therapist;
        public string SessionId { get; } = sessionId;
        public HubConnection Console { get; } = console;
        public HubConnection Vr { get; } = vr;
        // Scene commands reach the VR client and transcript lines and alerts the console on different connections, in
        // no fixed order between them: each assertion awaits the message it needs.
        public Inbox<SceneCommand> Scene { get; } = new();
        public Inbox<TranscriptItem> Transcript { get; } = new();
        public Inbox<Alert> Alerts { get; } = new();
        private long _sequence;

        public async Task<EventAck> SayAsync(string text, double seconds = 12, double latency = 1.5) =>
            await Vr.InvokeAsync<EventAck>("Event", new ClientEvent(_sequence++, 100 + _sequence, ClientEventKind.Utterance, seconds, text, null, latency));

        public Task<SceneCommand> WaitSceneAsync(Func<SceneCommand, bool> match, string what) =>
            Scene.WaitAsync(match, "the VR client: " + what, show: c => $"{c.Kind}:{c.Prompt}");

        public Task<TranscriptItem> WaitTranscriptAsync(Func<TranscriptItem, bool> match, string what) =>
            Transcript.WaitAsync(match, "the console's transcript: " + what, show: x => $"{x.Speaker}/{x.Source}:{x.Text}");

        public Task<Alert> WaitAlertAsync(Func<Alert, bool> match, string what) =>
            Alerts.WaitAsync(match, "the console: " + what, show: a => a.Kind);
    }

    private static async Task<Live> StartAsync(TestServer s)
    {
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t);
        var console = await s.ConsoleConnectionAsync(t);
        var pairing = await s.PairAsync(session.Code, DeviceRole.VrClient, "headset");
        var vr = await s.DeviceConnectionAsync(pairing.DeviceToken);
        var live = new Live(s, t, session.SessionId, console, vr);
        vr.On<SceneCommand>(DeviceClientMethods.Command, c => live.Scene.Add(c));
        console.On<TranscriptItem>("Transcript", x => live.Transcript.Add(x));
        console.On<Alert>("Alert", a => live.Alerts.Add(a));
        await vr.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "test headset", []));
        return live;
    }

    public static async Task A_virtual_human_talks_through_the_session_and_a_crisis_stops_everything(TestServer s)
    {
        var live = await StartAsync(s);
        // No console watches yet: no agent may start.
        var refused = await Assert.ThrowsAsync<HubException>(() => live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "interviewer", "local-keywords", false, null));
        Assert.Contains("no therapist console", refused.Message);
        await live.Console.InvokeAsync<JsonElement>("Watch", live.SessionId);

        var status = await live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "interviewer", "local-keywords", false, 0.1);
        Assert.Equal("interviewer", status.GetProperty("persona").GetString());
        var disclosure = await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Context!["source"] == "disclosure", "the AI disclosure");
        Assert.Contains("AI", disclosure.Prompt);
        await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Prompt!.Contains("Thanks for coming in"), "the friendly opening line");

        Assert.Equal(BatchStatus.Accepted, (await live.SayAsync("I studied biology at university")).Status);
        var answer = await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Prompt!.Contains("studies prepare you"), "the education follow-up");
        Assert.Equal("scripted", answer.Context!["source"]);
        // The patient's line goes to the console on its own connection: it may arrive after the answer reached the headset.
        var heard = await live.WaitTranscriptAsync(x => x.Speaker == "patient" && x.Text == "I studied biology at university", "the patient's line");
        Assert.Equal(12, heard.SpeakingSeconds);
        Assert.Equal(1.5, heard.LatencySeconds);

        // Bad input is refused naming the field, and nothing else changes.
        var bad = await live.Vr.InvokeAsync<EventAck>("Event", new ClientEvent(100, 1, ClientEventKind.Utterance, -3, "hello", null));
        Assert.Equal(BatchStatus.Rejected, bad.Status);
        Assert.Contains("value", bad.Error);

        // A crisis statement: safety script, exposure stopped, a critical alert with the transcript.
        Assert.Equal(BatchStatus.Accepted, (await live.SayAsync("honestly i dont wanna live anymore", 4, 3)).Status);
        var safety = await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Context!["source"] == "safety_script", "the safety script");
        Assert.Contains("therapist", safety.Prompt);
        await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.Pause, "a pause");
        await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.ShowPrompt && c.Prompt!.Contains("therapist"), "the crisis prompt");
        await live.WaitAlertAsync(a => a.Kind == "crisis", "the crisis alert");
        var crisis = Assert.Single(live.Alerts, a => a.Kind == "crisis");
        Assert.True(crisis.Critical);
        Assert.Contains("dont wanna live anymore", crisis.Text);
        Assert.Contains("studied biology", crisis.Text);
        var view = await live.Therapist.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{live.SessionId}");
        Assert.True(view.GetProperty("live").GetProperty("stopped").GetBoolean(), view.ToString());

        // On hold, the agent stays silent until the therapist resumes it.
        int agentLines = live.Scene.Count(c => c.Kind == SceneCommandKind.AgentSay);
        await live.SayAsync("what is the salary");
        await live.WaitTranscriptAsync(x => x.Source == "agent_silent" && x.Text.Contains("safety hold"), "the agent's silence on the safety hold");
        Assert.Equal(agentLines, live.Scene.Count(c => c.Kind == SceneCommandKind.AgentSay));
        await live.Console.InvokeAsync<JsonElement>("AgentResume", live.SessionId, "talked it through; safety plan in place");
        await live.SayAsync("I worked in a team for five years");
        await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Context!["source"] == "scripted" && !c.Prompt!.Contains("studies"), "a line after the resume");

        // Everything is on the record: transcript entries with the screen's verdict, audit items, an intact chain.
        var entries = await live.Therapist.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{live.SessionId}/entries?kind=transcript&limit=500");
        Assert.Contains(entries.EnumerateArray(), e => e.ToString().Contains("suicidal_ideation"));
        var audit = await live.Therapist.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=2000");
        var actions = audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.Contains("crisis_detected", actions);
        Assert.Contains("agent_started", actions);
        Assert.Contains("agent_resumed", actions);
        Assert.Contains("transcript", actions);
        Assert.DoesNotContain(audit.EnumerateArray(), a => a.GetProperty("detail").GetString()!.Contains("dont wanna live"));
        var verify = await live.Therapist.Http.GetFromJsonAsync<JsonElement>("/api/audit/verify");
        Assert.True(verify.GetProperty("intact").GetBoolean(), verify.ToString());
        await live.Vr.DisposeAsync();
        await live.Console.DisposeAsync();
    }

    public static async Task The_therapist_picks_lines_and_the_memory_carries_to_the_next_session(TestServer s)
    {
        var live = await StartAsync(s);
        await live.Console.InvokeAsync<JsonElement>("Watch", live.SessionId);
        var status = await live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "coach", "therapist", false, null);
        Assert.Equal("therapist", status.GetProperty("mode").GetString());
        Assert.Contains(status.GetProperty("candidates").EnumerateArray(), c => c.GetProperty("nodeId").GetString() == "welcome");
        await live.SayAsync("hello?");
        await live.WaitTranscriptAsync(x => x.Source == "agent_silent" && x.Text.Contains("therapist-controlled"), "the agent's silence in therapist mode");
        await live.Console.InvokeAsync<JsonElement>("AgentSelect", live.SessionId, "breathing");
        var breathing = await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Prompt!.Contains("breathe together"), "the picked breathing line");
        Assert.Equal("therapist", breathing.Context!["source"]);
        var refused = await Assert.ThrowsAsync<HubException>(() => live.Console.InvokeAsync<JsonElement>("AgentSay", live.SessionId, "I'm a real person, don't worry"));
        Assert.Contains("ClaimsHuman", refused.Message);

        // The therapist edits the memory; the session's end adds to it.
        var patient = (await live.Therapist.Http.GetFromJsonAsync<JsonElement>($"/api/sessions/{live.SessionId}")).GetProperty("patientId").GetString();
        var put = await live.Therapist.Http.PutAsJsonAsync($"/api/patients/{patient}/memory", new { text = "Practised: standing on a chair\nNotes: likes to count breaths" });
        put.EnsureSuccessStatusCode();
        var tooLong = await live.Therapist.Http.PutAsJsonAsync($"/api/patients/{patient}/memory", new { text = new string('x', 3000) });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("memory.text", await tooLong.Content.ReadAsStringAsync());
        (await live.Therapist.Http.PostAsync($"/api/sessions/{live.SessionId}/end", null)).EnsureSuccessStatusCode();
        var memory = await live.Therapist.Http.GetFromJsonAsync<JsonElement>($"/api/patients/{patient}/memory");
        var text = memory.GetProperty("text").GetString()!;
        Assert.Contains("Notes: likes to count breaths", text);
        Assert.Contains("Session 1", text);
        Assert.Contains("Helped: slow breathing", text);

        // Next session: the coach opens with what the memory says.
        var r = await live.Therapist.Http.PostAsJsonAsync("/api/sessions", new { patientId = patient, scheduler = "inhibitory", mode = "suggest", baselineSeconds = 60, seed = 4 });
        var next = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("session").GetProperty("id").GetString()!;
        (await live.Therapist.Http.PostAsync($"/api/sessions/{next}/start", null)).EnsureSuccessStatusCode();
        await live.Console.InvokeAsync<JsonElement>("Watch", next);
        var second = await live.Console.InvokeAsync<JsonElement>("StartAgent", next, "coach", "speaking-time", false, 0.1);
        var transcript = (await live.Console.InvokeAsync<JsonElement>("Watch", next)).GetProperty("transcript");
        Assert.Contains(transcript.EnumerateArray(), x => x.GetProperty("text").GetString()!.Contains("standing on a chair") || x.GetProperty("text").GetString()!.Contains("slow breathing"));
        await live.Vr.DisposeAsync();
        await live.Console.DisposeAsync();
    }

    public static async Task An_LLM_agent_answers_and_falls_back_to_the_script_when_the_model_fails()
    {
        await using var model = await ChatCompletionsServer.StartAsync();
        // The model answers at once here; the timeout only has to outlast a loaded machine (2 s did not, once in 5 runs:
        // the script stood in for a model that had answered). The failure case below is a 503, not a timeout.
        await using var s = await TestServer.StartAsync(settings: new() { ["OpenVret:LlmEndpoint"] = model.Endpoint.ToString(), ["OpenVret:LlmTimeoutSeconds"] = "15" });
        var live = await StartAsync(s);
        await live.Console.InvokeAsync<JsonElement>("Watch", live.SessionId);
        await live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "audience", "global-keywords", true, 0.5);
        model.Behaviour = _ => ("What made you choose solar over wind?", TimeSpan.Zero, 200);
        await live.SayAsync("My talk is about solar power");
        var llm = await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Context!["source"] == "llm", "the model's line");
        Assert.Equal("What made you choose solar over wind?", llm.Prompt);
        var request = ChatCompletionsServer.Messages(model.Requests.Last());
        Assert.Contains("My talk is about solar power", request[^1].Content);

        model.Behaviour = _ => ("", TimeSpan.Zero, 503);
        await live.SayAsync("The data show it is cheaper");
        var fallback = await live.WaitSceneAsync(c => c.Kind == SceneCommandKind.AgentSay && c.Context!["source"] == "fallback", "the script standing in");
        Assert.Contains("evidence", fallback.Prompt!.ToLowerInvariant() + " evidence");
        await live.WaitTranscriptAsync(x => x.Source == "agent_fallback" && x.Text.Contains("model failed"), "the note that the model failed");
        await live.Vr.DisposeAsync();
        await live.Console.DisposeAsync();
    }
}
