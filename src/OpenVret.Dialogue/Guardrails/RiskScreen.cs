using OpenVret.Dialogue.Personas;
using System.Globalization;
using System.Text.RegularExpressions;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>One earlier turn of the conversation, for conversation-level screening.</summary>
public sealed record ContextTurn(string Speaker, string Text)
{
    public bool IsPatient => Speaker.Equals("patient", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The embedding model and the classifier, loaded once per process. Loading (about 2-3 s: the 90 MB ONNX model is
/// read from the package's assembly) runs on a background task started by <see cref="StartLoading"/>; until it is
/// done, <see cref="RiskScreen"/> says so in every result (source "fallback", a note) and screens with the rules plus a
/// conservative word list, never silently without the model.
/// </summary>
public sealed class ScreenModel
{
    private static readonly Lazy<ScreenModel> SharedInstance = new(() => new ScreenModel(() => new MiniLmEmbedder(), CrisisModel.Shipped));
    private readonly Func<ISentenceEmbedder> _embedder;
    private readonly Func<CrisisModel?> _model;
    private readonly Lock _gate = new();
    private Task<(ISentenceEmbedder, CrisisModel)?>? _loading;

    public ScreenModel(Func<ISentenceEmbedder> embedder, Func<CrisisModel?> model)
    {
        _embedder = embedder ?? throw new ArgumentNullException(nameof(embedder));
        _model = model ?? throw new ArgumentNullException(nameof(model));
    }

    /// <summary>The process-wide instance (the server and the CLI share one model).</summary>
    public static ScreenModel Shared => SharedInstance.Value;

    public ISentenceEmbedder? Embedder { get; private set; }
    public CrisisModel? Classifier { get; private set; }
    public bool Ready => Embedder != null && Classifier != null;
    /// <summary>Why the model is not in use: null when ready; "loading", or the error that stopped it.</summary>
    public string? Problem { get; private set; } = "not loaded";
    public double? LoadSeconds { get; private set; }

    /// <summary>Starts loading on a background task (once); returns at once.</summary>
    public Task StartLoading()
    {
        lock (_gate)
        {
            if (_loading != null) return _loading;
            Problem = "loading";
            _loading = Task.Run(() =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    var model = _model() ?? throw new InvalidOperationException("no crisis-screen weights in this build (models/crisis-screen/weights.json)");
                    var embedder = _embedder();
                    if (embedder.Dimensions != model.Parameters.W[0].Length)
                        throw new InvalidOperationException($"the weights expect {model.Parameters.W[0].Length} dimensions, the embedder gives {embedder.Dimensions}");
                    embedder.Embed(["warm up"]);
                    Embedder = embedder; Classifier = model; Problem = null;
                    LoadSeconds = clock.Elapsed.TotalSeconds;
                    return ((ISentenceEmbedder, CrisisModel)?)(embedder, model);
                }
                catch (Exception e)
                {
                    Problem = $"model failed to load: {e.GetType().Name}: {e.Message}";
                    return null;
                }
            });
            return _loading;
        }
    }

    /// <summary>Waits for the model up to <paramref name="timeout"/>; true when it is ready.</summary>
    public bool WaitReady(TimeSpan timeout)
    {
        var t = StartLoading();
        try { t.Wait(timeout); } catch (AggregateException) { }
        return Ready;
    }

    public async Task<bool> WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var t = StartLoading();
        try { await t.WaitAsync(timeout, cancellationToken).ConfigureAwait(false); } catch (TimeoutException) { }
        return Ready;
    }
}

/// <summary>
/// The crisis screen the agents and the server use: the hand-written rules (<see cref="CrisisScreen"/>), fused with a
/// learned semantic screen (sentence embeddings and a softmax classifier, <see cref="CrisisModel"/>), a language check,
/// conversation-level screening of the last turns, and an optional LLM second opinion that may raise a level, never
/// lower one. A rule hit stays a hit; the model adds recall for paraphrase. Every result carries a
/// <see cref="RiskLevel"/>, the action its level routes to (<see cref="RiskRouting"/>: configurable only towards
/// safer), a score and the source that decided it.
/// </summary>
public sealed class RiskScreen
{
    private readonly ScreenModel _model;

    public RiskScreen(ScreenModel? model = null, RiskRouting? routing = null, LlmSecondOpinion? llm = null)
    {
        _model = model ?? ScreenModel.Shared;
        Routing = routing ?? RiskRouting.Default;
        Llm = llm;
        _model.StartLoading();
    }

    /// <summary>Utterances shorter than this are not flagged by the model alone.</summary>
    public const int MinModelWords = 3;

    public RiskRouting Routing { get; }
    public LlmSecondOpinion? Llm { get; }
    public ScreenModel Model => _model;

    /// <summary>A crisis stated with a time, means at hand or preparation already done: Imminent rather than High.</summary>
    internal static readonly Regex Imminence = new(
        @"\b(?:tonight|today|right now|this (?:weekend|evening|afternoon|morning|week|time)|tomorrow|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday) (?:night|morning|evening)|after (?:this|the|our) session|(?:in|within) (?:an|a few|the next|two|three) (?:hours?|minutes?|days?)|before (?:the )?(?:morning|weekend)|already (?:took|taken|swallowed|bought|wrote|written|have|got|cut)|(?:bought|got|have|collected|saved|stockpiled|hoarded|counted) (?:a |the |some |enough |my |all )?(?:\w+ )?(?:rope|pills|tablets|gun|razors?|blades?|paracetamol|medication|morphine|insulin)|(?:pills|tablets|rope|gun|note|letter|letters)(?: \w+)? (?:is|are) (?:ready|here|written|counted|with me|in my)|goodbye|wrote (?:a|my|the) (?:note|letter|letters)|gave (?:away )?my (?:things|stuff)|giving (?:away )?my (?:things|stuff)|the date|the day)\b",
        RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.IgnoreCase);

    /// <summary>While the model is not loaded: words that, without a rule hit, make the line a Concern (explicitly marked as the fallback).</summary>
    internal static readonly Regex FallbackCue = new(
        @"\b(?:die|dying|dead|death|kill|killing|suicid\w*|end it|end things|ending it|end my|overdose|pills|tablets|rope|noose|bridge|jump|gun|knife|blade|razor|cut|cutting|hurt|harm|burden|better off|gone|disappear|goodbye|not be here|not wake up|no point|hopeless|worthless|give up|plan|tonight)\b",
        RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.IgnoreCase);

    /// <summary>An earlier turn that probes for risk (a safety question) or the future; what the patient says next is read in its light.</summary>
    private static readonly Regex RiskQuestion = new(
        @"\b(?:suicid\w*|kill (?:yourself|your self)|hurt (?:yourself|your self|anyone|someone)|harm (?:yourself|your self)|end (?:your|it)|ending (?:your|it)|your life|die|dying|dead|safe|plan|plans|how would you|when|what will you do|what are you going to do|going to do|the future|next week|tonight|thoughts of|thinking of|do you have (?:a|the) means|means)\b",
        RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.IgnoreCase);

    /// <summary>A short answer that commits to an act, a time or a method: alarming only after a risky turn or a risk question.</summary>
    private static readonly Regex FollowUp = new(
        @"\b(?:tonight|tomorrow|this weekend|soon|yes|yeah|yep|i do|i have|exactly how|know how|i've decided|i have decided|decided|it's planned|planned|already|not long|next week|monday|tuesday|wednesday|thursday|friday|saturday|sunday|the pills|the bridge|the rope|the gun|won't be here|will not be here|won't be around|doesn't matter anymore|does not matter any more|for good|it will be over|it'll be over|i'm ready|i am ready|no going back|it's time|after this|after the session)\b",
        RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.IgnoreCase);

    /// <summary>Screens one utterance alone.</summary>
    public ScreenResult Screen(string text) => Screen(text, []);

    /// <summary>
    /// Screens the last utterance with up to the given earlier turns (oldest first; patient and agent/therapist lines).
    /// The utterance's own level is raised when the turns together show risk: a commitment, time or method right after
    /// a risky patient turn or a risk question ("when?" - "tonight"), or risk building over several patient turns.
    /// </summary>
    public ScreenResult Screen(string text, IReadOnlyList<ContextTurn> context)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(context);
        var own = ScreenAlone(text);
        if (_model.Ready && !string.IsNullOrWhiteSpace(text))
        {
            if (_earlier.Count >= EarlierCacheSize) _earlier.Clear();
            _earlier[text] = own;
        }
        if (context.Count == 0 || string.IsNullOrWhiteSpace(text)) return Routed(own);
        return Routed(WithContext(own, text, context));
    }

    /// <summary>As <see cref="Screen(string, IReadOnlyList{ContextTurn})"/>, then the LLM second opinion when one is configured (raise only, within its timeout).</summary>
    public async Task<ScreenResult> ScreenAsync(string text, IReadOnlyList<ContextTurn> context, CancellationToken cancellationToken = default)
    {
        var r = Screen(text, context);
        if (Llm == null || string.IsNullOrWhiteSpace(text)) return r;
        return Routed(await Llm.ReviewAsync(r, context, cancellationToken).ConfigureAwait(false));
    }

    private ScreenResult Routed(ScreenResult r) => r with { Action = Routing.Route(r) };

    private ScreenResult ScreenAlone(string text)
    {
        var rules = CrisisScreen.Screen(text);
        if (string.IsNullOrWhiteSpace(text)) return rules with { Score = null, Source = "none" };
        var language = LanguageGuess.Detect(text);
        if (language != "en" && !rules.Crisis)
        {
            if (LanguageGuess.Crisis(text) is { } m)
                return new ScreenResult(text, m.Category, GuardAction.SafetyScript, m.Rule, m.Evidence) { Level = m.Level, Source = "rule", Detail = "language:" + language };
            return new ScreenResult(text, ScreenCategory.LanguageNotSupported, GuardAction.CheckIn, "language:" + language, null)
            {
                Level = RiskLevel.Concern,
                Source = "language",
                Note = $"language not supported ({language}): the screen reads English only; the therapist is notified",
            };
        }
        if (rules.Crisis && Imminence.Match(text) is { Success: true } im)
            rules = rules with { Level = RiskLevel.Imminent, Note = $"imminence: '{im.Value}'" };

        if (!_model.Ready)
        {
            var note = $"crisis model {_model.Problem}: rules and the fallback word list only";
            if (rules.Level > RiskLevel.None) return rules with { Note = Join(rules.Note, note) };
            if (FallbackCue.Match(text) is { Success: true } cue)
                return new ScreenResult(text, ScreenCategory.SuicidalIdeation, GuardAction.CheckIn, "fallback-word", cue.Value)
                { Level = RiskLevel.Concern, Source = "fallback", Note = note };
            return rules with { Source = "fallback", Note = note };
        }

        var (score, category) = ModelScore(text);
        var model = _model.Classifier!;
        var modelLevel = RiskLevel.None;
        if (score >= model.HighThreshold)
        {
            modelLevel = CrisisModel.LevelOf(category) switch
            {
                RiskLevel.Concern => RiskLevel.High,
                RiskLevel.Imminent => Imminence.IsMatch(text) ? RiskLevel.Imminent : RiskLevel.High,
                var l => l,
            };
            if (modelLevel == RiskLevel.High && Imminence.IsMatch(text)) modelLevel = RiskLevel.Imminent;
        }
        else if (score >= model.ConcernThreshold) modelLevel = RiskLevel.Concern;
        // One or two words ("tonight", "on Friday") carry no meaning of their own to the model: alone they are read by
        // the rules only, and in a conversation by the context rules (what they answer).
        if (text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length < MinModelWords) modelLevel = RiskLevel.None;

        // Where the rules matched a crisis frame and set it aside (negated, an idiom, someone else, an accident, the
        // resolved past), and found nothing else, the model does not overrule that reading on its own.
        if (rules.Level == RiskLevel.None && rules.Suppressed != null && modelLevel > RiskLevel.None)
            return rules with { Score = score, Note = Join(rules.Note, $"model {Names.Of(modelLevel)} ({category}) not raised: the rules set aside {rules.Suppressed}") };
        // A rule hit stays a hit; the model can only add (a higher level, or a finding where the rules saw none).
        if (rules.Level >= modelLevel || (rules.Crisis && modelLevel <= RiskLevel.High))
            return rules with { Score = score, Detail = modelLevel > RiskLevel.None ? category : null };
        var evidence = string.Create(CultureInfo.InvariantCulture, $"p(crisis)={score:F3}, {category}");
        var coarse = CrisisModel.CoarseOf(category);
        var action = modelLevel >= RiskLevel.High ? GuardAction.SafetyScript : GuardAction.CheckIn;
        if (rules.Category is ScreenCategory.AcuteDistress && modelLevel == RiskLevel.Concern)
            return rules with { Score = score, Detail = category };
        return new ScreenResult(text, coarse, action, "model:" + category, evidence) { Level = modelLevel, Score = score, Source = "model", Detail = category, Note = rules.Note };
    }

    /// <summary>The model's crisis score; long utterances are read in overlapping windows and the riskiest counts.</summary>
    public (double Score, string Category) ModelScore(string text)
    {
        var windows = MiniLmEmbedder.Windows(text);
        var vectors = _model.Embedder!.Embed(windows);
        (double, string) best = (-1, "");
        foreach (var v in vectors)
        {
            var s = _model.Classifier!.Score(v);
            if (s.Score > best.Item1) best = s;
        }
        return best;
    }

    private ScreenResult WithContext(ScreenResult own, string text, IReadOnlyList<ContextTurn> context)
    {
        // The earlier patient turns, screened alone (rules + model), and the last non-patient turn.
        var earlier = context.Where(t => t.IsPatient && !string.IsNullOrWhiteSpace(t.Text)).Select(t => Earlier(t.Text)).ToList();
        var lastOther = context.LastOrDefault(t => !t.IsPatient)?.Text;
        var riskyBefore = earlier.Where(r => r.Level >= RiskLevel.Concern && r.Category is not ScreenCategory.AcuteDistress and not ScreenCategory.MedicalAdvice).ToList();
        var result = own;

        var follow = FollowUp.Match(text);
        bool questionIsRisky = lastOther != null && RiskQuestion.IsMatch(lastOther);
        if (follow.Success && (riskyBefore.Count > 0 || questionIsRisky))
        {
            var prior = riskyBefore.OrderByDescending(r => r.Level).FirstOrDefault();
            // A commitment after a risky turn is at least High; with a time or means, Imminent. After a risk question
            // alone (no risky turn before), the answer counts only if it commits to a time or a way of doing it.
            bool commits = Regex.IsMatch(text, @"\b(?:(?:exactly |know )?how (?:i(?:'d| would| will| am going to|'m going to) )?(?:do it|end it|kill myself|go through with it)|the pills|the bridge|the rope|the gun|(?:i've|i have) decided|planned|won't be here|will not be here|won't be around|no going back|it's time|i'm ready|i am ready)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            bool time = Imminence.IsMatch(text) || Regex.IsMatch(text, @"\b(?:soon|next week|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            RiskLevel level = RiskLevel.None;
            if (prior != null) level = time ? RiskLevel.Imminent : RiskLevel.High;
            else if (commits) level = time ? RiskLevel.Imminent : RiskLevel.High;
            if (level > result.Level)
            {
                var category = prior?.Category is ScreenCategory.SelfHarm or ScreenCategory.HarmToOthers ? prior.Category : ScreenCategory.SuicidalIdeation;
                var why = prior != null
                    ? $"'{follow.Value}' after an earlier turn screened {prior.LevelName} ({prior.CategoryName})"
                    : $"'{follow.Value}' in answer to \"{Cut(lastOther!)}\"";
                result = new ScreenResult(text, category, GuardAction.SafetyScript, "context:follow-up", why)
                { Level = level, Score = own.Score, Source = "context", Detail = time ? "plan" : "intent", Note = own.Note };
            }
        }

        // Risk building over turns: several patient turns that each stay under the line, read together, cross it.
        if (result.Level == RiskLevel.None && _model.Ready && earlier.Count >= 1 && own.Score is double ownScore)
        {
            var m = _model.Classifier!;
            int leaning = earlier.Count(r => r.Score is double s && s >= m.ConcernThreshold / 2) + (ownScore >= m.ConcernThreshold / 2 ? 1 : 0);
            // Only turns that lean towards risk can build it up: the joined turns are embedded only then.
            var patientLines = context.Where(t => t.IsPatient).Select(t => t.Text).Append(text).ToList();
            var (joined, category) = leaning >= 2 ? ModelScore(string.Join(" ", patientLines)) : (0.0, "");
            if (joined >= m.HighThreshold && leaning >= 2)
                result = new ScreenResult(text, CrisisModel.CoarseOf(category), GuardAction.CheckIn, "context:building",
                    string.Create(CultureInfo.InvariantCulture, $"last {patientLines.Count} patient turns together: p(crisis)={joined:F3}, {category}"))
                { Level = RiskLevel.Concern, Score = ownScore, Source = "context", Detail = category, Note = own.Note };
        }
        return result;
    }

    /// <summary>Earlier turns were screened when they were said: their results are kept (bounded) instead of re-embedding them.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ScreenResult> _earlier = new();
    private const int EarlierCacheSize = 4096;

    private ScreenResult Earlier(string text)
    {
        if (!_model.Ready) return ScreenAlone(text);
        if (_earlier.TryGetValue(text, out var r)) return r;
        r = ScreenAlone(text);
        if (_earlier.Count >= EarlierCacheSize) _earlier.Clear();
        _earlier[text] = r;
        return r;
    }

    private static string Cut(string s) => s.Length <= 60 ? s : s[..57] + "...";

    private static string? Join(string? a, string? b) => a == null ? b : b == null ? a : a + "; " + b;
}
