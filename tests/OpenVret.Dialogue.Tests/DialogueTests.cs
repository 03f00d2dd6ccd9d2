using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Llm;
using OpenVret.Dialogue.Memory;
using OpenVret.Dialogue.Personas;
using OpenVret.Dialogue.Scripted;
using Xunit;

namespace OpenVret.Dialogue.Tests;

internal sealed class Presence(bool connected) : ITherapistPresence
{
    public bool TherapistConnected { get; set; } = connected;
}

public sealed class DialogueTests
{
    private static DialogueSession Session(string persona, ScriptMode mode, out Presence presence, IDialogueEngine? llm = null, PatientMemory? memory = null, double intensity = 0.5)
    {
        var p = Persona.BuiltIn(persona);
        presence = new Presence(true);
        return new DialogueSession(p, new ScriptedEngine(p.Script, mode), llm, presence, memory, intensity);
    }

    private static PatientTurn Say(string text, double seconds = 20, double at = 0) => new(text, seconds, 1.2, at);

    [Fact]
    public void Every_built_in_persona_loads_and_discloses_that_it_is_an_AI()
    {
        foreach (var id in Persona.BuiltInIds)
        {
            var p = Persona.BuiltIn(id);
            Assert.Equal(id, p.Id);
            Assert.Contains("AI", p.Disclosure);
            Assert.True(OutputGuard.Check(p.Disclosure, p).Allowed, $"{id}: its own disclosure must pass the output guard");
            foreach (var node in p.Script.Nodes.Values)
                foreach (var line in node.Lines.Values)
                    Assert.True(OutputGuard.Check(line, p).Allowed, $"{id}: scripted line refused: {line}");
        }
    }

    [Fact]
    public void A_persona_with_a_broken_script_is_refused_naming_the_field_and_value()
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "broken-persona.json"));
        var e = Assert.Throws<DialogueInputException>(() => Persona.Parse(json, "broken-persona.json"));
        Assert.Equal("script.nodes.intro.next", e.Field);
        Assert.Equal("nowhere", e.Value);
        var noDisclosure = json.Replace("an AI character", "a character").Replace("\"nowhere\"", "null");
        var d = Assert.Throws<DialogueInputException>(() => Persona.Parse(noDisclosure, "x.json"));
        Assert.Equal("disclosure", d.Field);
    }

    [Fact]
    public async Task Speaking_time_condition_follows_up_short_answers_and_moves_on_after_long_ones()
    {
        var s = Session("interviewer", ScriptMode.SpeakingTime, out _);
        var opening = s.Start(0);
        Assert.Equal(LineSource.Disclosure, opening[0].Source);
        Assert.Equal("intro", opening[1].NodeId);
        var shortAnswer = await s.HearAsync(Say("I'm Alex.", seconds: 3));
        Assert.Equal("intro-probe", shortAnswer.Lines.Single().NodeId);
        Assert.Contains("3.0 s < 15 s", shortAnswer.Lines[0].Reason);
        var longAnswer = await s.HearAsync(Say("I enjoy working with people and solving problems.", seconds: 30));
        Assert.Equal("experience", longAnswer.Lines.Single().NodeId);
        // Content is ignored in this condition: a keyword does not change the path.
        var s2 = Session("interviewer", ScriptMode.SpeakingTime, out _);
        s2.Start(0);
        Assert.Equal("experience", (await s2.HearAsync(Say("What is the salary?", seconds: 40))).Lines.Single().NodeId);
    }

    [Fact]
    public async Task Global_keyword_condition_jumps_from_anywhere_and_otherwise_follows_the_script()
    {
        var s = Session("interviewer", ScriptMode.GlobalKeywords, out _);
        s.Start(0);
        var r = await s.HearAsync(Say("Before that, what would the salary be?"));
        Assert.Equal("salary", r.Lines.Single().NodeId);
        Assert.Contains("keyword 'salary'", r.Lines[0].Reason);
        var next = await s.HearAsync(Say("I want to grow and learn."));
        Assert.Equal("weakness", next.Lines.Single().NodeId);
        Assert.Contains("no keyword", next.Lines[0].Reason);
    }

    [Fact]
    public async Task Local_keyword_condition_uses_only_the_keywords_of_the_current_point()
    {
        var s = Session("interviewer", ScriptMode.LocalKeywords, out _);
        s.Start(0);
        Assert.Equal("education", (await s.HearAsync(Say("I studied biology at university"))).Lines.Single().NodeId);
        var s2 = Session("interviewer", ScriptMode.LocalKeywords, out _);
        s2.Start(0);
        // "salary" is only a global keyword: the local condition ignores it.
        Assert.Equal("experience", (await s2.HearAsync(Say("what is the salary"))).Lines.Single().NodeId);
        // Misspelt and inflected forms: "teams" meets "team*".
        Assert.Equal("teamwork", (await s2.HearAsync(Say("I led two teams"))).Lines.Single().NodeId);
    }

    [Fact]
    public async Task Therapist_condition_waits_offers_candidates_and_speaks_the_pick()
    {
        var s = Session("interviewer", ScriptMode.Therapist, out _);
        var opening = s.Start(0);
        Assert.Single(opening);
        Assert.Equal(LineSource.Disclosure, opening[0].Source);
        var pick = s.TherapistSelect("intro", 1);
        Assert.Equal(LineSource.Therapist, pick.Source);
        var turn = Say("I worked in marketing for years, mostly in a team");
        var heard = await s.HearAsync(turn);
        Assert.Empty(heard.Lines);
        Assert.Contains("therapist", heard.Silence);
        var candidates = s.Script.Candidates(new DialogueContext(s.Persona, s.Intensity, s.Transcript, null), turn);
        Assert.Equal("experience", candidates[0].NodeId);
        Assert.Contains(candidates, c => c.NodeId == "teamwork" && c.Why.Contains("global"));
        Assert.Equal("teamwork", s.TherapistSelect("teamwork", 2).NodeId);
        Assert.Throws<DialogueInputException>(() => s.TherapistSelect("no-such-node", 3));
    }

    [Fact]
    public void Intensity_picks_the_tone_band_and_the_interruption_rate()
    {
        var s = Session("interviewer", ScriptMode.SpeakingTime, out _, intensity: 0.1);
        Assert.Contains("Thanks for coming in", s.Start(0)[1].Text);
        Assert.Equal(0.2, s.InterruptionsPerMinute, 6);
        var hard = Session("interviewer", ScriptMode.SpeakingTime, out _, intensity: 0.9);
        Assert.Contains("candidates", hard.Start(0)[1].Text);
        Assert.NotNull(hard.Interruption(new Random(1), 5));
        // Interruptions are a Poisson process at the dial's rate: about 2 a minute at full intensity, none at 0.
        var random = new Random(7);
        int count = Enumerable.Range(0, 600).Count(_ => hard.ShouldInterrupt(random, 1));
        Assert.InRange(count, 12, 24);   // 10 minutes at 1.8 per minute: 18 expected
        hard.SetIntensity(0);
        Assert.Equal(0, Enumerable.Range(0, 600).Count(_ => hard.ShouldInterrupt(random, 1)));
        hard.SetIntensity(0.9);
        Assert.Throws<DialogueInputException>(() => hard.SetIntensity(double.NaN));
        Assert.Throws<DialogueInputException>(() => hard.SetIntensity(1.5));
    }

    [Fact]
    public async Task No_agent_speaks_without_a_connected_therapist()
    {
        var s = Session("audience", ScriptMode.GlobalKeywords, out var presence);
        presence.TherapistConnected = false;
        Assert.Throws<InvalidOperationException>(() => s.Start(0));
        var r = await s.HearAsync(Say("Here is my talk about solar power"));
        Assert.Empty(r.Lines);
        Assert.Contains("no therapist", r.Silence);
        presence.TherapistConnected = true;
        var first = await s.HearAsync(Say("Hello?"));
        Assert.Equal(LineSource.Disclosure, first.Lines[0].Source);
    }

    [Fact]
    public async Task Crisis_switches_to_the_safety_script_pauses_and_holds_until_the_therapist_resumes()
    {
        var s = Session("interviewer", ScriptMode.GlobalKeywords, out _);
        s.Start(0);
        var r = await s.HearAsync(Say("honestly i dont wanna live anymore", at: 10));
        Assert.True(r.Screen.Crisis);
        Assert.True(r.PauseExposure);
        Assert.True(r.AlertTherapist);
        Assert.Equal(LineSource.SafetyScript, r.Lines.Single().Source);
        Assert.Equal(s.Persona.SafetyScript, r.Lines[0].Text);
        Assert.Equal(DialogueState.SafetyHold, s.State);
        var during = await s.HearAsync(Say("what is the salary", at: 20));
        Assert.Empty(during.Lines);
        Assert.Contains("safety hold", during.Silence);
        s.Resume(30, "spoke with the patient; safe to continue");
        Assert.Equal("salary", (await s.HearAsync(Say("what is the salary", at: 40))).Lines.Single().NodeId);
        Assert.Contains(s.Transcript, l => l.Speaker == Speaker.Patient && l.Detail != null && l.Detail.StartsWith("suicidal_ideation"));
    }

    [Fact]
    public async Task Distress_gets_support_and_a_pause_and_medical_questions_are_referred()
    {
        var s = Session("examiner", ScriptMode.GlobalKeywords, out _);
        s.Start(0);
        var panic = await s.HearAsync(Say("I can't breathe, my heart is racing"));
        Assert.False(panic.Screen.Crisis);
        Assert.True(panic.PauseExposure);
        Assert.Equal(LineSource.Support, panic.Lines.Single().Source);
        var med = await s.HearAsync(Say("Should I take another propranolol before we continue?"));
        Assert.False(med.PauseExposure);
        Assert.True(med.AlertTherapist);
        Assert.Equal(LineSource.Refer, med.Lines.Single().Source);
    }

    [Fact]
    public void Output_guard_refuses_claims_to_be_human_diagnoses_medication_and_forbidden_topics_and_trims_length()
    {
        var p = Persona.BuiltIn("interviewer");
        Assert.Equal(OutputViolation.ClaimsHuman, OutputGuard.Check("Don't worry, I'm a real person just like you.", p).Violation);
        Assert.Equal(OutputViolation.ClaimsHuman, OutputGuard.Check("I am not an AI.", p).Violation);
        Assert.Equal(OutputViolation.Diagnosis, OutputGuard.Check("It sounds like you have social anxiety disorder.", p).Violation);
        Assert.Equal(OutputViolation.MedicationAdvice, OutputGuard.Check("Maybe take 20 mg of propranolol first.", p).Violation);
        Assert.Equal(OutputViolation.OutOfPersona, OutputGuard.Check("As an AI language model, I cannot do interviews.", p).Violation);
        Assert.Equal(OutputViolation.ForbiddenTopic, OutputGuard.Check("Are you planning a pregnancy soon?", p).Violation);
        Assert.Equal(OutputViolation.HarmfulContent, OutputGuard.Check("You should just kill yourself.", p).Violation);
        Assert.True(OutputGuard.Check(p.Disclosure, p).Allowed);
        var longLine = string.Join(' ', Enumerable.Repeat("This is a sentence of eight words here.", 10));
        var trimmed = OutputGuard.Check(longLine, p);
        Assert.True(trimmed.Allowed && trimmed.Trimmed);
        Assert.True(trimmed.Text.Split(' ').Length <= p.Limits.MaxWords);
        Assert.EndsWith(".", trimmed.Text);
    }

    [Fact]
    public void Therapist_typed_lines_pass_the_same_output_guard()
    {
        var s = Session("coach", ScriptMode.Therapist, out _);
        s.Start(0);
        Assert.Equal(LineSource.Therapist, s.TherapistSay("Let's try one more minute.", 1).Source);
        var e = Assert.Throws<DialogueInputException>(() => s.TherapistSay("I'm human, trust me.", 2));
        Assert.Contains("ClaimsHuman", e.Message);
    }

    [Fact]
    public void Memory_keeps_notes_and_is_bounded_and_the_coach_uses_it()
    {
        PatientMemory? m = PatientMemory.FromTherapist("Notes: prefers to stand during talks");
        for (int i = 1; i <= 60; i++)
            m = MemoryBuilder.Update(m, new SessionDigest(i, new DateOnly(2026, 1, 1).AddDays(7 * i), [$"talk to {i} people"], 60, 75, 30, ["slow breathing"], 80, 10));
        Assert.True(m!.Text.Length <= PatientMemory.MaxCharacters);
        Assert.Equal("prefers to stand during talks", m.Section("Notes"));
        Assert.Equal("talk to 60 people", m.Section("Practised"));
        Assert.Contains("Session 60", m.Text);
        Assert.DoesNotContain("Session 1 ", m.Text);
        var s = Session("coach", ScriptMode.SpeakingTime, out _, memory: m, intensity: 0.1);
        var welcome = s.Start(0)[1].Text;
        Assert.Contains("talk to 60 people", welcome);
        Assert.Contains("slow breathing", welcome);
        Assert.Throws<DialogueInputException>(() => PatientMemory.FromTherapist(new string('x', PatientMemory.MaxCharacters + 1)));
    }
}

public sealed class LlmTests
{
    private static (DialogueSession Session, LlmEngine Engine) Build(ChatCompletionsServer server, TimeSpan timeout, PatientMemory? memory = null, int contextTurns = 4)
    {
        var p = Persona.BuiltIn("audience");
        var options = new LlmOptions(server.Endpoint, "local-model", null, timeout, ContextTurns: contextTurns);
        var engine = new LlmEngine(options.CreateClient(), options);
        return (new DialogueSession(p, new ScriptedEngine(p.Script, ScriptMode.GlobalKeywords), engine, new Presence(true), memory, 0.8), engine);
    }

    [Fact]
    public async Task The_model_answers_through_a_real_chat_completions_endpoint_with_persona_memory_and_bounded_context()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        var memory = new PatientMemory("Practised: a 2-minute talk to 5 people\nHelped: slow breathing");
        var (s, _) = Build(server, TimeSpan.FromSeconds(10), memory, contextTurns: 4);
        s.Start(0);
        for (int i = 0; i < 6; i++)
        {
            server.Behaviour = _ => ($"Question number {i}?", TimeSpan.Zero, 200);
            var r = await s.HearAsync(new PatientTurn($"Answer {i} about solar panels", 12, 1, i * 10));
            Assert.Equal(LineSource.Llm, r.Lines.Single().Source);
            Assert.Equal($"Question number {i}?", r.Lines[0].Text);
            Assert.Null(r.FallbackReason);
        }
        var last = ChatCompletionsServer.Messages(server.Requests.Last());
        Assert.Equal("system", last[0].Role);
        Assert.Contains("audience", last[0].Content);
        Assert.Contains("never claim to be human", last[0].Content);
        Assert.Contains("a 2-minute talk to 5 people", last[0].Content);
        Assert.Contains("sceptical", last[0].Content);
        // system + at most 4 history lines + the new turn
        Assert.True(last.Count <= 6, $"context not bounded: {last.Count} messages");
        Assert.Equal(("user", "Answer 5 about solar panels"), last[^1]);
    }

    [Fact]
    public async Task A_slow_model_falls_back_to_the_script_within_the_timeout()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        var (s, _) = Build(server, TimeSpan.FromMilliseconds(500));
        s.Start(0);
        server.Behaviour = _ => ("too late", TimeSpan.FromSeconds(20), 200);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var r = await s.HearAsync(new PatientTurn("Solar is cheaper than coal, according to the data", 15, 1, 5));
        watch.Stop();
        Assert.Equal(LineSource.Fallback, r.Lines.Single().Source);
        Assert.Equal("evidence", r.Lines[0].NodeId);
        Assert.Contains("did not answer within 0.5 s", r.FallbackReason);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"fallback took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_failing_or_misbehaving_model_falls_back_to_the_script()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        var (s, _) = Build(server, TimeSpan.FromSeconds(10));
        s.Start(0);
        server.Behaviour = _ => ("", TimeSpan.Zero, 503);
        var failed = await s.HearAsync(new PatientTurn("My main point is that solar is cheap", 15, 1, 5));
        Assert.Equal(LineSource.Fallback, failed.Lines.Single().Source);
        Assert.Contains("model failed", failed.FallbackReason);
        server.Behaviour = _ => ("Honestly I'm a real person sitting in row three.", TimeSpan.Zero, 200);
        var human = await s.HearAsync(new PatientTurn("Any questions?", 3, 1, 10));
        Assert.Equal(LineSource.Fallback, human.Lines.Single().Source);
        Assert.Contains("ClaimsHuman", human.FallbackReason);
        Assert.DoesNotContain("real person", human.Lines[0].Text);
    }

    [Fact]
    public async Task A_crisis_utterance_never_reaches_the_model()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        var (s, _) = Build(server, TimeSpan.FromSeconds(10));
        s.Start(0);
        var before = server.Requests.Count;
        var r = await s.HearAsync(new PatientTurn("i want to kil myself after this", 3, 1, 5));
        Assert.Equal(LineSource.SafetyScript, r.Lines.Single().Source);
        Assert.Equal(before, server.Requests.Count);
    }
}
