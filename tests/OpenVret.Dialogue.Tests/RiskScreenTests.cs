using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Personas;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Dialogue.Tests;

/// <summary>A stand-in embedder: each text maps to a fixed unit vector; it can be held back to simulate loading.</summary>
internal sealed class FakeEmbedder(Func<string, float[]> vector) : ISentenceEmbedder
{
    public string Name => "fake";
    public int Dimensions => 4;
    public float[][] Embed(IReadOnlyList<string> texts) => texts.Select(vector).ToArray();
}

public sealed class RiskScreenTests(ITestOutputHelper output)
{
    /// <summary>A two-class model over the fake 4-d vectors: dimension 0 pushes towards "passive_wish".</summary>
    private static CrisisModel TinyModel() => new(new CrisisModel.Weights
    {
        Classes = ["none", "passive_wish"],
        W = [[0, 0, 0, 0], [8, 0, 0, 0]],
        Bias = [0, -4],
        ConcernThreshold = 0.5,
        HighThreshold = 0.9,
    });

    private static float[] Vec(string t) => t.Contains("grey") ? [1, 0, 0, 0] : [0, 1, 0, 0];

    [Fact]
    public void A_less_safe_routing_is_refused_naming_the_field_and_value()
    {
        var e = Assert.Throws<DialogueInputException>(() => RiskRouting.Parse(["high=check_in"]));
        Assert.Equal("routing.high", e.Field);
        Assert.Equal("check_in", e.Value);
        Assert.Contains("routing.high", e.Message);
        Assert.Contains("less safe", e.Message);
        var e2 = Assert.Throws<DialogueInputException>(() => RiskRouting.Parse(["concern=continue"]));
        Assert.Equal("routing.concern", e2.Field);
        var e3 = Assert.Throws<DialogueInputException>(() => RiskRouting.Parse(["imminent=shout"]));
        Assert.Equal("routing.imminent", e3.Field);
        Assert.Equal("shout", e3.Value);
        var e4 = Assert.Throws<DialogueInputException>(() => RiskRouting.Parse(["urgent=safety_script"]));
        Assert.Equal("urgent", e4.Value);
    }

    [Fact]
    public void A_safer_routing_is_accepted_and_used()
    {
        var routing = RiskRouting.Parse(["concern=safety_script"]);
        Assert.Equal(GuardAction.SafetyScript, routing.For(RiskLevel.Concern));
        var model = new ScreenModel(() => new FakeEmbedder(Vec), TinyModel);
        Assert.True(model.WaitReady(TimeSpan.FromSeconds(10)));
        // "grey" scores p = sigmoid(4) = 0.98 for passive_wish: above high; make a Concern with a milder vector.
        var mild = new ScreenModel(() => new FakeEmbedder(t => [0.6f, 0.8f, 0, 0]), TinyModel);
        Assert.True(mild.WaitReady(TimeSpan.FromSeconds(10)));
        var defaults = new RiskScreen(mild).Screen("everything is a bit grey");
        Assert.Equal(RiskLevel.Concern, defaults.Level);
        Assert.Equal(GuardAction.CheckIn, defaults.Action);
        var safer = new RiskScreen(mild, routing).Screen("everything is a bit grey");
        Assert.Equal(RiskLevel.Concern, safer.Level);
        Assert.Equal(GuardAction.SafetyScript, safer.Action);
    }

    [Fact]
    public void A_rule_hit_stays_a_hit_whatever_the_model_says()
    {
        // A model that says "none" to everything cannot remove what the rules found.
        var silent = new ScreenModel(() => new FakeEmbedder(_ => [0, 1, 0, 0]), TinyModel);
        Assert.True(silent.WaitReady(TimeSpan.FromSeconds(10)));
        var screen = new RiskScreen(silent);
        foreach (var item in ScreenTests.LoadSet().Where(i => i.Crisis))
        {
            var rules = CrisisScreen.Screen(item.Text);
            if (!rules.Crisis) continue;
            var fused = screen.Screen(item.Text);
            Assert.True(fused.Level >= RiskLevel.High, $"{item.Text}: {fused.LevelName}");
            Assert.Equal(GuardAction.SafetyScript, fused.Action);
            Assert.Equal("rule", fused.Source);
        }
    }

    [Fact]
    public void The_model_does_not_overrule_a_frame_the_rules_set_aside_but_adds_where_they_found_nothing()
    {
        var eager = new ScreenModel(() => new FakeEmbedder(_ => [1, 0, 0, 0]), TinyModel);
        Assert.True(eager.WaitReady(TimeSpan.FromSeconds(10)));
        var screen = new RiskScreen(eager);
        var negated = screen.Screen("I'm not going to kill myself, I promise");
        Assert.Equal(RiskLevel.None, negated.Level);
        Assert.Contains("kill-self: negated", negated.Suppressed);
        Assert.Contains("not raised", negated.Note);
        var idiom = screen.Screen("my feet are killing me today");
        Assert.Equal(RiskLevel.None, CrisisScreen.Screen("my feet are killing me today").Level);
        var plain = screen.Screen("everything has lost its colour for me");
        Assert.Equal(RiskLevel.High, plain.Level);
        Assert.Equal("model", plain.Source);
        Assert.Equal(GuardAction.SafetyScript, plain.Action);
        output.WriteLine($"idiom: {idiom.LevelName} ({idiom.Source}; {idiom.Note})");
    }

    [Fact]
    public void While_the_model_is_loading_results_say_so_and_a_conservative_word_list_flags_concern()
    {
        using var gate = new ManualResetEventSlim(false);
        var model = new ScreenModel(() => { gate.Wait(); return new FakeEmbedder(Vec); }, TinyModel);
        var screen = new RiskScreen(model);
        Assert.False(model.Ready);
        var risky = screen.Screen("I just want to disappear");
        Assert.Equal(RiskLevel.Concern, risky.Level);
        Assert.Equal("fallback", risky.Source);
        Assert.Equal(GuardAction.CheckIn, risky.Action);
        Assert.Contains("loading", risky.Note);
        var plain = screen.Screen("the weather was nice today");
        Assert.Equal(RiskLevel.None, plain.Level);
        Assert.Equal("fallback", plain.Source);
        Assert.Contains("loading", plain.Note);
        gate.Set();
        Assert.True(model.WaitReady(TimeSpan.FromSeconds(10)));
        var after = screen.Screen("the weather was nice today");
        Assert.Null(after.Note);
        Assert.NotNull(after.Score);
    }

    [Fact]
    public void A_model_that_fails_to_load_is_named_in_every_result()
    {
        var model = new ScreenModel(() => throw new FileNotFoundException("model.onnx missing"), TinyModel);
        Assert.False(model.WaitReady(TimeSpan.FromSeconds(10)));
        var r = new RiskScreen(model).Screen("hello there");
        Assert.Equal("fallback", r.Source);
        Assert.Contains("model.onnx missing", r.Note);
    }

    [Theory]
    [InlineData("Ich will nicht mehr leben", "de", RiskLevel.High)]
    [InlineData("Ich will mich heute Nacht umbringen", "de", RiskLevel.High)]
    [InlineData("Quiero morir, ya no puedo más", "es", RiskLevel.High)]
    [InlineData("Esta noche voy a tomar todas las pastillas para morir", "es", RiskLevel.Imminent)]
    [InlineData("Je veux mourir, je n'en peux plus", "fr", RiskLevel.High)]
    [InlineData("Non voglio più vivere", "it", RiskLevel.High)]
    public void Crisis_lines_in_other_languages_are_recognised_by_multilingual_rules(string text, string language, RiskLevel atLeast)
    {
        Assert.Equal(language, LanguageGuess.Detect(text));
        var r = new RiskScreen(new ScreenModel(() => new FakeEmbedder(Vec), TinyModel)).Screen(text);
        Assert.True(r.Level >= atLeast, $"{text}: {r.LevelName}");
        Assert.True(r.Crisis);
        Assert.Equal(GuardAction.SafetyScript, r.Action);
    }

    [Theory]
    [InlineData("Heute war ich mit meinem Hund im Park und es war schön", "de")]
    [InlineData("Me siento muy cansado y no sé qué hacer con mi vida", "es")]
    [InlineData("Je ne sais pas pourquoi je suis toujours aussi triste", "fr")]
    [InlineData("Мне очень плохо, я не хочу больше так жить", "other")]
    public void Other_languages_are_never_none_they_are_language_not_supported_and_the_therapist_is_notified(string text, string language)
    {
        Assert.Equal(language, LanguageGuess.Detect(text));
        var r = new RiskScreen(new ScreenModel(() => new FakeEmbedder(Vec), TinyModel)).Screen(text);
        Assert.True(r.Level >= RiskLevel.Concern);
        Assert.NotEqual(GuardAction.Continue, r.Action);
        if (r.Category == ScreenCategory.LanguageNotSupported) Assert.Contains("language not supported", r.Note);
    }

    [Theory]
    [InlineData("I want to die")]
    [InlineData("my feet are killing me")]
    [InlineData("ok")]
    [InlineData("I went to Madrid and Paris last summer with my friends")]
    public void English_is_read_as_English(string text) => Assert.Equal("en", LanguageGuess.Detect(text));

    [Fact]
    public void Conversation_level_a_time_after_a_risky_turn_is_imminent_though_the_line_alone_is_nothing()
    {
        var model = new ScreenModel(() => new FakeEmbedder(Vec), TinyModel);
        Assert.True(model.WaitReady(TimeSpan.FromSeconds(10)));
        var screen = new RiskScreen(model);
        Assert.Equal(RiskLevel.None, screen.Screen("tonight").Level);
        var r = screen.Screen("tonight", [new("patient", "I've been thinking about killing myself"), new("agent", "When?")]);
        Assert.Equal(RiskLevel.Imminent, r.Level);
        Assert.Equal("context", r.Source);
        Assert.Equal(GuardAction.SafetyScript, r.Action);
        // The same answer after an ordinary exchange stays ordinary.
        var calm = screen.Screen("tonight", [new("patient", "I'm going to see a film with my sister"), new("agent", "When?")]);
        Assert.Equal(RiskLevel.None, calm.Level);
    }

    [Fact]
    public void Conversation_level_a_method_after_a_question_about_the_future_is_at_least_high()
    {
        var model = new ScreenModel(() => new FakeEmbedder(Vec), TinyModel);
        Assert.True(model.WaitReady(TimeSpan.FromSeconds(10)));
        var screen = new RiskScreen(model);
        var r = screen.Screen("I know exactly how I would do it", [new("agent", "How do you see the future?")]);
        Assert.True(r.Level >= RiskLevel.High, r.LevelName);
        Assert.True(r.Crisis);
        var ordinary = screen.Screen("I know exactly how I would decorate it", [new("agent", "What are you doing with the new flat?")]);
        Assert.Equal(RiskLevel.None, ordinary.Level);
    }

    [Fact]
    public void Bad_training_lines_name_the_file_line_and_value()
    {
        var path = Path.Combine(Path.GetTempPath(), $"train-{Guid.NewGuid():N}.tsv");
        File.WriteAllText(path, "passive_wish\tconcern\tok line\nplan\turgent\tbad level\n");
        try
        {
            var e = Assert.Throws<DialogueInputException>(() => TrainingItem.Load(path));
            Assert.Contains(":2", e.Field);
            Assert.Equal("urgent", e.Value);
            File.WriteAllText(path, "despair\thigh\tunknown category\n");
            var e2 = Assert.Throws<DialogueInputException>(() => TrainingItem.Load(path));
            Assert.Equal("despair", e2.Value);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Training_finds_a_separating_model_on_separable_data_and_thresholds_come_from_cross_validation()
    {
        // Positives lean on dimension 0, negatives on dimension 1, with noise: the cross-validated model must separate them.
        var rng = new Random(3);
        var items = new List<TrainingItem>();
        var x = new List<float[]>();
        for (int i = 0; i < 60; i++)
        {
            bool pos = i % 2 == 0;
            items.Add(new TrainingItem(pos ? "active_ideation" : "neg_ordinary", pos ? RiskLevel.High : RiskLevel.None, $"item {i}"));
            var v = new float[] { (pos ? 1f : 0f) + (float)(rng.NextDouble() * 0.6 - 0.3), (pos ? 0f : 1f) + (float)(rng.NextDouble() * 0.6 - 0.3), (float)rng.NextDouble(), 0 };
            x.Add(v);
        }
        var report = CrisisModel.Train(items, x, new bool[items.Count], ["synthetic"], "0");
        var m = report.Model;
        Assert.InRange(m.ConcernThreshold, 0.01, 0.999);
        Assert.True(m.HighThreshold >= m.ConcernThreshold);
        int right = Enumerable.Range(0, items.Count).Count(i => (report.OutOfFoldScores[i] >= m.ConcernThreshold) == items[i].Positive);
        output.WriteLine($"out-of-fold accuracy {right}/{items.Count}, thresholds {m.ConcernThreshold:F3}/{m.HighThreshold:F3}");
        Assert.True(right >= 55, $"out-of-fold accuracy {right}/60");
        Assert.True(m.Score([1, 0, 0.5f, 0]).Score > m.Score([0, 1, 0.5f, 0]).Score);
    }
}

public sealed class RiskScreenIntegrationTests
{
    private static ScreenModel Tiny()
    {
        var m = new ScreenModel(() => new FakeEmbedder(_ => [0, 1, 0, 0]), () => new CrisisModel(new CrisisModel.Weights
        {
            Classes = ["none", "passive_wish"], W = [[0, 0, 0, 0], [8, 0, 0, 0]], Bias = [0, -4], ConcernThreshold = 0.5, HighThreshold = 0.9,
        }));
        Assert.True(m.WaitReady(TimeSpan.FromSeconds(10)));
        return m;
    }

    private static LlmSecondOpinion Opinion(ChatCompletionsServer server, TimeSpan timeout)
    {
        var options = new Llm.LlmOptions(server.Endpoint, "local", null, timeout);
        return new LlmSecondOpinion(options.CreateClient(), "local", timeout);
    }

    [Fact]
    public async Task The_LLM_second_opinion_raises_a_level_with_source_llm()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        server.Behaviour = _ => ("{\"level\": \"imminent\", \"category\": \"suicidal_ideation\", \"reason\": \"a time and a means\"}", TimeSpan.Zero, 200);
        var screen = new RiskScreen(Tiny(), llm: Opinion(server, TimeSpan.FromSeconds(10)));
        var r = await screen.ScreenAsync("the bottle is on the table", [new("agent", "What are you doing right now?")]);
        Assert.Equal(RiskLevel.Imminent, r.Level);
        Assert.Equal("llm", r.Source);
        Assert.Equal(GuardAction.SafetyScript, r.Action);
        var request = ChatCompletionsServer.Messages(server.Requests.Single());
        Assert.Contains("the bottle is on the table", request.Last().Content);
        Assert.Contains("What are you doing right now?", request.Last().Content);
    }

    [Fact]
    public async Task The_LLM_second_opinion_never_lowers_a_level()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        server.Behaviour = _ => ("{\"level\": \"none\", \"category\": \"none\", \"reason\": \"an idiom\"}", TimeSpan.Zero, 200);
        var screen = new RiskScreen(Tiny(), llm: Opinion(server, TimeSpan.FromSeconds(10)));
        var r = await screen.ScreenAsync("I want to kill myself", []);
        Assert.True(r.Level >= RiskLevel.High);
        Assert.Equal("rule", r.Source);
        Assert.Equal(GuardAction.SafetyScript, r.Action);
        Assert.Contains("not higher", r.Note);
    }

    [Fact]
    public async Task A_slow_or_failing_LLM_leaves_the_screen_result_standing_and_says_so()
    {
        await using var server = await ChatCompletionsServer.StartAsync();
        server.Behaviour = _ => ("{\"level\": \"imminent\"}", TimeSpan.FromSeconds(20), 200);
        var screen = new RiskScreen(Tiny(), llm: Opinion(server, TimeSpan.FromMilliseconds(300)));
        var r = await screen.ScreenAsync("I want to kill myself", []);
        Assert.Equal(RiskLevel.High, r.Level);
        Assert.Contains("timed out", r.Note);
        server.Behaviour = _ => ("", TimeSpan.Zero, 503);
        var failed = await screen.ScreenAsync("the weather is fine", []);
        Assert.Equal(RiskLevel.None, failed.Level);
        Assert.Contains("failed", failed.Note);
        var bad = Assert.Throws<DialogueInputException>(() => new LlmSecondOpinion(new Llm.LlmOptions(server.Endpoint, "local", null, TimeSpan.FromSeconds(1)).CreateClient(), "local", TimeSpan.Zero));
        Assert.Equal("timeout", bad.Field);
    }

    [Fact]
    public async Task A_concern_in_a_dialogue_session_gives_the_check_in_line_and_alerts_the_therapist()
    {
        var mild = new ScreenModel(() => new FakeEmbedder(t => t.Contains("grey") ? [0.6f, 0.8f, 0, 0] : [0, 1, 0, 0]), () => new CrisisModel(new CrisisModel.Weights
        {
            Classes = ["none", "passive_wish"], W = [[0, 0, 0, 0], [8, 0, 0, 0]], Bias = [0, -4], ConcernThreshold = 0.5, HighThreshold = 0.9,
        }));
        var p = Personas.Persona.BuiltIn("interviewer");
        var session = new DialogueSession(p, new Scripted.ScriptedEngine(p.Script, Scripted.ScriptMode.LocalKeywords), null, new Presence(true), null, 0.5, new RiskScreen(mild));
        session.Start(0);
        var r = await session.HearAsync(new PatientTurn("everything feels grey lately", 5, 1, 3));
        Assert.Equal(RiskLevel.Concern, r.Screen.Level);
        Assert.Equal(LineSource.CheckIn, r.Lines.Single().Source);
        Assert.True(r.AlertTherapist);
        Assert.Equal(DialogueState.Talking, session.State);
        var crisis = await session.HearAsync(new PatientTurn("I want to kill myself", 5, 1, 6));
        Assert.Equal(LineSource.SafetyScript, crisis.Lines.Single().Source);
        Assert.True(crisis.PauseExposure);
        Assert.Equal(DialogueState.SafetyHold, session.State);
    }
}
