using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>What an utterance was screened as. The first three are crises.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScreenCategory>))]
public enum ScreenCategory
{
    None,
    SuicidalIdeation,
    SelfHarm,
    HarmToOthers,
    AcuteDistress,
    MedicalAdvice,
    /// <summary>Input in a language the screen cannot read (and no multilingual rule recognised): the therapist is notified.</summary>
    LanguageNotSupported,
}

/// <summary>What the agent and the session do about it.</summary>
public enum GuardAction
{
    /// <summary>Nothing found: the conversation goes on.</summary>
    Continue,
    /// <summary>Crisis: the fixed safety script, the exposure pauses, the therapist is alerted with the transcript.</summary>
    SafetyScript,
    /// <summary>Acute distress: the exposure holds, the agent offers calm support, the therapist is alerted.</summary>
    PauseAndSupport,
    /// <summary>A request for medical advice or a diagnosis: the agent declines and refers it to the therapist.</summary>
    ReferToTherapist,
    /// <summary>Concern: the therapist is notified and the agent checks in with the patient using a fixed, safe line.</summary>
    CheckIn,
}

/// <summary>The screen's verdict on one utterance, with the rule and the words that decided it (for the therapist and the audit).</summary>
public sealed record ScreenResult(string Text, ScreenCategory Category, GuardAction Action, string? Rule, string? Evidence)
{
    public bool Crisis => Category is ScreenCategory.SuicidalIdeation or ScreenCategory.SelfHarm or ScreenCategory.HarmToOthers;

    /// <summary>Risk level (see <see cref="RiskLevel"/>). The rules alone give High for a crisis, Concern for acute distress.</summary>
    public RiskLevel Level { get; init; } = Category switch
    {
        ScreenCategory.SuicidalIdeation or ScreenCategory.SelfHarm or ScreenCategory.HarmToOthers => RiskLevel.High,
        ScreenCategory.AcuteDistress or ScreenCategory.LanguageNotSupported => RiskLevel.Concern,
        _ => RiskLevel.None,
    };

    /// <summary>The learned model's crisis probability (1 - p(none)) when it ran; null otherwise.</summary>
    public double? Score { get; init; }

    /// <summary>What decided the level: rule, model, context, language, fallback (model not loaded) or llm.</summary>
    public string Source { get; init; } = Rule == null ? "none" : "rule";

    /// <summary>A finer category (C-SSRS-style: passive_wish, plan, preparatory ...) when the model or a context rule named one.</summary>
    public string? Detail { get; init; }

    /// <summary>Anything the therapist should know about how this was screened (model still loading, LLM timed out ...).</summary>
    public string? Note { get; init; }

    public string LevelName => Names.Of(Level);

    /// <summary>
    /// A crisis frame the rules matched and then set aside, with why (negation, idiom, someone else, accident,
    /// resolved past): "kill-self: negated". The learned model does not overrule such a reading on its own.
    /// </summary>
    public string? Suppressed { get; init; }

    /// <summary>snake_case name used in JSON output and the audit trail.</summary>
    public string CategoryName => Names.Of(Category);

    public string ActionName => Names.Of(Action);
}

internal static class Names
{
    public static string Of(ScreenCategory c) => c switch
    {
        ScreenCategory.SuicidalIdeation => "suicidal_ideation",
        ScreenCategory.SelfHarm => "self_harm",
        ScreenCategory.HarmToOthers => "harm_to_others",
        ScreenCategory.AcuteDistress => "acute_distress",
        ScreenCategory.MedicalAdvice => "medical_advice",
        ScreenCategory.LanguageNotSupported => "language_not_supported",
        _ => "none",
    };

    public static string Of(GuardAction a) => a switch
    {
        GuardAction.SafetyScript => "safety_script",
        GuardAction.PauseAndSupport => "pause_and_support",
        GuardAction.ReferToTherapist => "refer_to_therapist",
        GuardAction.CheckIn => "check_in",
        _ => "continue",
    };

    public static string Of(RiskLevel l) => l switch
    {
        RiskLevel.Concern => "concern",
        RiskLevel.High => "high",
        RiskLevel.Imminent => "imminent",
        _ => "none",
    };
}

/// <summary>
/// The input guardrail: a transparent, rule-based screen for crisis content (suicidal ideation, self-harm, harm to
/// others), acute distress and requests for medical advice. It works on normalised clauses (see
/// <see cref="TextNormalizer"/>), so misspellings, chat shorthand and run-together words meet the same rules. Each
/// rule is a semantic frame (a desire or plan verb with a death/harm target, a method, a hopelessness statement)
/// with checks that keep ordinary speech out: negation in the clause before the frame ("I would never ..."), who the
/// subject is ("my friend wants to ..."), accidents ("... shaving"), and idioms ("this talk is killing me",
/// "dying of embarrassment", "career suicide", "shoot you an email"). Crisis rules run first and win.
/// It errs toward flagging: a false alarm costs a paused scene and a therapist's glance; a miss can cost a life.
/// </summary>
public static class CrisisScreen
{
    [Flags]
    private enum Checks
    {
        None = 0,
        /// <summary>A negation shortly before the frame in the same clause cancels it.</summary>
        Negatable = 1,
        /// <summary>The nearest subject before the frame must be the speaker (or absent).</summary>
        SelfSubject = 2,
        /// <summary>The nearest subject before the frame must be "I"/"me" (harm to others).</summary>
        SpeakerSubject = 4,
        /// <summary>An accident context ("shaving", "at the gym") cancels it unless intent is stated.</summary>
        AccidentSensitive = 8,
    }

    private sealed record Rule(string Id, ScreenCategory Category, Regex Pattern, Checks Checks, Regex? After = null, Regex? Before = null, Regex? Utterance = null);

    private const string Desire = @"(?:want|wants|wanted|wanting|wish|wishes|wished|wishing|plan|plans|planning|planned|ready|decided|deciding|intend|intending|tempted|urge|urges|deserve|deserves|would like|would rather|rather|prefer|hope|hoping|long|longing|need|needs)";
    private const string Dead = @"(?:die|dye$|be dead|not be alive|not live|not exist|stop existing|not wake up|never wake up|not be here anymore|not be here any more|not be around anymore|be gone forever|be gone for good|disappear forever|disappear for good|go to sleep forever|sleep forever|go to sleep and never wake up|sleep and never wake up|go to sleep and not wake up|end it all|end my life|end everything|stop living|stop breathing)";
    private const string Self = @"(?:myself|my self)";
    private const string Person = @"(?:him|her|them|you|someone|somebody|anyone|anybody|people|everyone|everybody|whoever|anyone who|anybody who|those who|everyone who|all of (?:you|them)|(?:that|this|the) (?:guy|man|woman|girl|boy|person|idiot|bastard|examiner|interviewer|audience|teacher|crowd|kids|children|pilot|passengers|doctor|nurse|driver|boss|neighbou?r|people|lady|dude|jerk|family)|(?:my|his|her|their) (?:boss|wife|husband|partner|mother|father|mom|mum|dad|neighbou?rs?|brother|sister|teacher|kids|children|son|daughter|boyfriend|girlfriend|ex|colleagues?|coworkers?|therapist|family|roommate|flatmate|classmates?|manager|friends?|parents|stepdad|stepmom|stepfather|stepmother|baby|landlord))";
    private const string Violent = @"(?:kill|kills|killing|murder|murdering|stab|stabbing|shoot|shooting|strangle|strangling|choke|choking|hurt|hurting|harm|harming|attack|attacking|punch|punching|poison|poisoning|beat up|beating up|smash|smashing|slap|slapping|run over|drown|drowning|torture|torturing|hit|hitting|kick|kicking|bash|bashing|knife|knifing|burn|burning|stomp|stomping|break (?:his|her|their|your) (?:neck|legs?|face|arms?|jaw|nose))";
    private const string Pills = @"(?:pills|tablets|medication|medications|painkillers|paracetamol|sleeping pills|bottle|pack|packet|prescription|antidepressants|insulin)";
    private const string Med = @"(?:medication|medications|medicine|medicines|pills?|tablets?|antidepressants?|ssris?|snris?|benzos?|benzodiazepines?|beta blockers?|sertraline|zoloft|fluoxetine|prozac|paroxetine|paxil|escitalopram|lexapro|citalopram|celexa|venlafaxine|effexor|duloxetine|cymbalta|xanax|alprazolam|lorazepam|ativan|diazepam|valium|clonazepam|klonopin|propranolol|buspirone|pregabalin|lyrica|quetiapine|seroquel|mirtazapine|hydroxyzine|gabapentin|lithium|ibuprofen|paracetamol|acetaminophen|melatonin|doses?|dosage|mg|milligrams|prescription|prescriptions|drugs?|painkillers|sleeping pills|therapy drugs)";
    /// <summary>Fear of death (health anxiety, fear of flying) is not a wish to die: "the thought of dying scares me".</summary>
    private const string Fear = @"^ (?:\w+ ){0,2}(?:scares|scared|scare|terrifies|terrified|terrify|frightens|frightened|worries|worried|makes me (?:anxious|panic|nervous|scared|afraid|sick))\b";
    private const string Accident = @"\b(?:by accident|accidentally|accident|shaving|cooking|chopping|peeling|on (?:the|a|an|some|my) (?:stove|oven|pan|kettle|iron|paper|glass|knife|table|door|corner|stairs|edge|fence|ice|bike|grill|barbecue)|at the gym|working out|playing|during (?:training|practice|the game|football|soccer|the match)|in the kitchen|when i fell|fell|tripped|tripping|slipped|slipping|falling|skiing|cycling|lifting|sunburn|sunburnt|on holiday|in a crash|in an accident)\b";
    private const string Intent = @"\b(?:on purpose|deliberately|intentionally|to (?:feel|cope|punish|calm|release|forget|numb|stop the)|because i|again|every (?:night|day|time)|when i am (?:sad|upset|anxious|stressed|overwhelmed|angry)|urge|want|need|keep|started|been)\b";
    private const string Idiom = @"^ (?:of|from) (?:embarrassment|shame|boredom|laughter|laughing|cringe|cringing|jealousy|curiosity|happiness|envy|excitement|fright|old age|the heat|heat|hunger|thirst|exhaustion)|^ (?:laughing|with laughter|inside|a little|than|for a|for some|to (?:see|get|know|hear|try|meet|go|find|tell|have|be)\b)|^ (?:my|his|her|their|the|your|our) (?:hair|clothes|shirt|beard|nails|eyebrows|shoes)\b";

    private static Regex R(string pattern) => new(pattern.Replace("{DESIRE}", Desire).Replace("{DEAD}", Dead).Replace("{SELF}", Self)
        .Replace("{PERSON}", Person).Replace("{VIOLENT}", Violent).Replace("{PILLS}", Pills).Replace("{MED}", Med),
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    private static readonly Rule[] Rules = BuildRules();

    private static Rule[] BuildRules()
    {
        var si = ScreenCategory.SuicidalIdeation;
        var sh = ScreenCategory.SelfHarm;
        var ho = ScreenCategory.HarmToOthers;
        var ad = ScreenCategory.AcuteDistress;
        var ma = ScreenCategory.MedicalAdvice;
        var self = Checks.Negatable | Checks.SelfSubject;
        return
        [
            // --- suicidal ideation: explicit acts on oneself
            new("kill-self", si, R(@"\b(?:kill|kills|killing|killed) {SELF}\b"), self | Checks.AccidentSensitive,
                After: R(@"^ (?:laughing|with laughter|trying to|over (?:this|that|it|work|nothing)|at work|working|studying|for (?:this|that|it|nothing|a|the|work|my job)|to (?:finish|meet|get|make|please|keep|prepare|practi[cs]e|learn|study|pass|deliver|write|impress|be ready|win)\b)")),
            new("end-life", si, R(@"\b(?:end|ends|ending|ended|take|takes|taking|took|taken) (?:my|my own) (?:life|lives)\b"), self,
                After: R(@"^ (?:back|in my hands|into my own hands|seriously|one day|one step|step|to the next level|by the horns|in a new direction|more seriously)")),
            new("end-it-all", si, R(@"\b(?:end|ending|ended) (?:it all|everything|things|it for good|it tonight|it forever|it once and for all|my suffering|all the pain|the pain for good|this life|my existence)\b"), self,
                After: R(@"^ (?:with|between|on a)\b")),
            new("end-it", si, R(@"\b(?:going to|want to|plan to|planning to|ready to|decided to|about to|will|need to) (?:just )?end it$"), self),
            new("suicide-word", si, R(@"\b(?:suicide|suicidal|suicidality)\b"), self,
                After: R(@"^ (?:prevention|awareness|hotline|helpline|line|rates?|statistics|stats|research|squad|mission|bomber|bombers|bombing|attack|doors|risk assessment|studies|study|scene|story|theme|topic|character|plot|episode|chapter|article|poem|song|film|movie|documentary)\b"),
                Before: R(@"(?:career|social|political|commercial|professional|financial|electoral|tactical|(?:presentation|lecture|talk|article|essay|film|movie|book|documentary|paper|report|research|class|course|chapter|song|podcast|show|series|episode|study|studies|data|statistics|news) (?:on|about|of|regarding|covering)(?: \w+){0,2}) $")),
            new("self-delete", si, R(@"\b(?:self delete|self deleting|commit die|catch the bus|final exit|kill myself|rope myself|off myself|offing myself|top myself|topping myself|end myself|ending myself|do myself in|doing myself in|unalive myself)\b"), self),
            // --- suicidal ideation: wanting to be dead
            new("desire-death", si, R(@"\b{DESIRE}(?: (?:so|really|just|very|badly|sometimes|often|honestly|truly|actually|desperately|simply|still|kind of|sort of))* to (?:just |really |simply |finally |quietly )?{DEAD}\b"), self,
                After: R(Idiom + @"|^ (?:on stage|up there|out there|in front of (?:them|everyone|the class|the audience)|with them|my hair)"),
                Before: R(@"(?:embarrass\w*|mortified|humiliat\w*|cringe\w*|awkward|ashamed) (?:that |and )?i (?:just |literally |actually )?$")),
            new("want-to-jump", si, R(@"\b{DESIRE}(?: (?:so|really|just|badly|sometimes|kind of))* to (?:just )?jump(?: off| down| from here| from up here)?$"), self,
                Before: R(@"(?:scared|afraid|worried|frightened|terrified|fear|fears|worry) (?:that )?i (?:will|would|might|could|may) $")),
            new("wish-dead", si, R(@"\b(?:wish|wished|wishing|hope|hoping|pray|praying)(?: \w+){0,3} (?:that )?i (?:was|were|had been|would be|could be|am|was just|were just|had never been|had not been|was never|were never) (?:dead|born|never born|not born|not alive|gone forever|gone for good|not here anymore|not here any more|not around anymore|not around any more)\b"), self),
            new("wish-die", si, R(@"\b(?:wish|wished|wishing|hope|hoping|pray|praying)(?: \w+){0,3} (?:that )?i (?:could |would |will |just |might |finally )*(?:die|died|drop dead|(?:do not|did not|would not|will not|never|could not|can not) wake up|never woke up|sleep forever|disappear forever|be killed|get killed|was killed|stop breathing|(?:go to sleep|fall asleep|sleep) and (?:never|not) wake up|not exist|not be here|not be alive|stop existing|vanish forever|disappear and never come back)\b"), self,
                After: R(Idiom)),
            new("wish-killed", si, R(@"\b(?:wish|wished|hope|hoping|pray|praying) (?:that )?(?:something|someone|somebody|a car|a bus|a truck|a lorry|a train|the plane|this plane|god|it|lightning|they) (?:would|will|could) (?:just )?(?:kill me|end me|end it|take me|crash|hit me and)\b"), self),
            new("wish-crash", si, R(@"\b(?:hope|hopes|hoping|wish|wishes|wishing|pray|prays|praying) (?:that )?(?:the |this |my )?(?:plane|flight|car|bus|train|lift|elevator) (?:would |will |just )?(?:crash|crashes|falls|fall|goes down|go down)\b"), self),
            new("rather-dead", si, R(@"\b(?:would rather|rather) (?:be dead|not be alive|not exist|die)\b"), self, After: R(Idiom)),
            new("feel-like-dying", si, R(@"\bfeel(?:s|ing)? like (?:dying|i want to die|ending it|ending my life|killing myself|i should die|i should not be alive|i should not exist|i do not deserve to live|giving up on life)\b"), self, After: R(Idiom)),
            new("no-reason-to-live", si, R(@"\b(?:no|not any|not a|lost (?:all|my|the)|without (?:any|a)|nothing|do not see (?:a|the|any)|can not see (?:a|the|any)|not see (?:a|the|any)) (?:reason|point|purpose|will|desire|wish|motivation|meaning) (?:(?:to|in|of|for) )?(?:me |my |myself )?(?:to )?(?:live|living|life|being alive|staying alive|go on|going on|carry on|carrying on|keep going|keep living|existing|exist|wake up|waking up|be here|being here|anything anymore)\b"), Checks.SelfSubject),
            new("not-worth-living", si, R(@"\b(?:not worth (?:living|it anymore|being alive)|no longer worth living|(?:life|living|my life|being alive|existence|it all) (?:is|feels|seems|has become|became) (?:so |just |completely |totally )?(?:pointless|meaningless|worthless|not worth (?:it|living)|hopeless))\b"), self),
            new("point-of-living", si, R(@"\b(?:what is|whats|where is) the point (?:of|in) (?:living|life|being alive|going on|staying alive|carrying on|anything anymore|trying anymore|me being here|existing)\b"), Checks.SelfSubject),
            new("why-live", si, R(@"\bwhy (?:should|would|do|must|bother|even) (?:i )?(?:even )?(?:keep living|keep going|live|living|stay alive|go on|be alive|bother living|exist|carry on|wake up)\b"), Checks.SelfSubject),
            new("do-not-want-to-live", si, R(@"\b(?:do not|does not|did not|no longer|never|not) (?:really )?(?:want|wish|care|feel like) (?:to )?(?:live|living|be alive|being alive|stay alive|staying alive|exist|existing|be around anymore|be around any more|be around no more|be here anymore|be here any more|be here no more|be here any longer|live no more|be on this earth|be in this world|wake up|waking up|keep living|continue living|go on living|be here much longer|be around much longer|live anymore|live any more)\b"), Checks.SelfSubject,
                After: R(@"^ (?:with (?!myself\b)|in (?:this|that) (?:house|city|town|flat|apartment|country)|in (?:fear|panic|anxiety|terror|worry|dread)|(?:my life |like this |life )?(?:afraid|scared|frightened|anxious|in fear|in panic|avoiding)|(?:abroad|alone|here|there|in \w+ (?:city|town)))")),
            new("not-sure-want-to-live", si, R(@"\b(?:not sure|do not know|unsure|not certain|doubt|wonder|do not think|no longer think|not convinced) (?:if |whether |that )?i (?:really |even |still )?(?:want|wanna) to (?:live|be alive|stay alive|keep living|go on|be here anymore|be here any more|be around|exist)\b|\b(?:not sure|do not know|doubt|wonder|not convinced) (?:if |whether |that )?(?:life|living|my life|it) is (?:even |really |still )?worth (?:living|it)\b"), Checks.SelfSubject),
            new("do-not-care-live", si, R(@"\b(?:do not|does not|no longer|would not|would no longer) (?:care|mind) (?:if|whether|when) i (?:live|die|died|wake up|woke up|am alive|am dead|was dead|were dead|did not wake up|never woke up)\b|\bif i (?:died|was dead|were dead|did not wake up|never woke up|was gone|were gone)\b(?: \w+){0,3} (?:i )?(?:would not|do not|would) (?:care|mind|be (?:glad|relieved|happy|fine|grateful))\b"), Checks.SelfSubject),
            new("better-off", si, R(@"\b(?:better off|better|happier|easier|safer|relieved|fine|lighter) (?:dead|without me|not existing|not being here|not being alive|not alive|gone|if i (?:was|were|had|just) (?:dead|gone|not here|never been born|not around)|if i (?:just )?(?:did not exist|did not wake up|was not alive|never existed|stopped existing|was not born)|if i died|if i disappeared|if i was not around|if i were not around|if i was gone|if i were gone)\b"), Checks.Negatable),
            new("nobody-miss", si, R(@"\b(?:no one|nobody|noone|not one person|not a single person) would (?:even )?(?:miss|notice|care|cry)(?: \w+){0,1} (?:me|if i (?:died|was gone|were gone|disappeared|was dead|killed myself|was not here|were not here))\b|\bwould not (?:even )?(?:miss me|notice if i (?:died|was gone|were gone|disappeared))\b"), Checks.SelfSubject),
            new("can-not-go-on", si, R(@"\bcan not (?:(?:go|carry) on(?= like this| anymore| any more| any longer| living| with (?:my )?life| much longer|$)|keep going(?= like this| anymore| any more| any longer|$)|keep living|live like this|live with myself|go on living|continue living|do life|take life|face living|face another day)"), Checks.SelfSubject),
            new("not-deserve-life", si, R(@"\b(?:do not|does not|no longer|never) deserve (?:to live|to be alive|to exist|life|to wake up)\b"), Checks.SelfSubject),
            new("can-not-go-on-think", si, R(@"\bdo not think i can (?:go on|keep going|keep living|live like this|carry on|survive this|take another day)\b"), Checks.SelfSubject),
            new("tired-of-living", si, R(@"\b(?:tired|sick|exhausted|done) (?:of|with) (?:living|life|being alive|existing|my life)\b|\bdone with (?:everything|it all|all of it|this world) (?:for good|forever|permanently)\b"), self),
            new("want-it-to-end", si, R(@"\b(?:want|wish|need) (?:it all|everything|this life|my life|all of it|life) to (?:end|stop|be over)\b"), self),
            new("thoughts-of-death", si, R(@"\b(?:thoughts?|ideation|fantasies|dreams) (?:of|about) (?:suicide|dying|death|killing myself|ending (?:it|my life|things|everything)|self harm|hurting myself|harming myself|not being here|not existing|being dead|taking my life)\b"), self, After: R(Idiom + "|" + Fear)),
            new("thinking-of-death", si, R(@"\b(?:think|thinks|thinking|thought|dream|dreaming|fantasi[sz]e|fantasi[sz]ing|obsess|obsessing|daydream|daydreaming)(?: a lot| often| constantly| always| sometimes| every day| all the time)? (?:about|of) (?:dying|death|being dead|my death|my own death|my funeral|killing myself|ending it|ending my life|ending things|not existing|not being alive|not being here|taking my life|how to die|ways to die|jumping|overdosing|hanging myself|drowning myself|taking all my (?:pills|tablets|meds|medication)|the (?:train )?tracks)\b"), self,
                After: R(Idiom + "|" + Fear + @"|^ (?:on stage|up there|out there|in front of|to the next|into the)")),
            new("burden", si, R(@"\b(?:i am|i feel|i feel like|i feel i am|i am just|i am only|i have become) (?:such |just |only |nothing but |a big |a huge )?(?:a burden|burden) (?:to|on|for) (?:everyone|everybody|my family|my friends|them|all of you|the world|people|my parents|my kids|my children|my partner|everyone around me)\b"), self),
            new("should-die", si, R(@"\b(?:should|ought to|might as well|may as well) (?:just )?(?:die|be dead|drop dead|not exist|not be alive|not be here|end it all|kill myself|end my life|end it$)"), self, After: R(Idiom)),
            new("want-out-of-life", si, R(@"\b(?:want|wanna|need|wish i could get) (?:out of|to get out of|to escape|to leave) (?:this |my )?(?:life|world|existence)\b|\b(?:join|be with|see) (?:my )?(?:late|dead|deceased) \w+ (?:again )?(?:soon|in heaven|on the other side|up there)?\b"), self),
            new("want-it-end-life", si, R(@"\b(?:want|wish|need) (?:it|this|everything|it all) (?:all )?to (?:end|be over|stop) (?:forever|for good|permanently)?"), self, Utterance: R(@"\b(?:life|living|alive|myself|die|dead|death|suicid\w*|exist\w*)\b")),
            new("imagine-death", si, R(@"\b(?:what it would be like|how it would feel|what it would feel like) to (?:be dead|die|not exist|not be alive|kill myself)\b|\b(?:imagine|imagining|picture|picturing|visuali[sz]e|visuali[sz]ing|plan|planning) (?:my own |my )?(?:funeral|death|suicide)\b"), self),
            new("favour-dying", si, R(@"\b(?:doing|do|did) (?:everyone|everybody|the world|them|my family|people) a (?:favour|favor) (?:by |if i )(?:dying|died|disappear\w*|killing myself|not being here|being gone|was gone|were gone|ended it)"), self),
            new("nothing-to-live-for", si, R(@"\b(?:nothing|no one|nobody|noone|no reason|not much|little) (?:left )?(?:to live for|worth living for|to stay alive for|keeping me (?:here|alive|going))\b"), self),
            new("give-up-on-life", si, R(@"\b(?:give|gives|giving|gave|given) up on (?:life|living|being alive|everything|myself|my life)\b"), self),
            new("crash-car", si, R(@"\b(?:crash|crashing|crashed|drive|driving|drove|wreck|wrecking) (?:my|the) car (?:on purpose|deliberately|intentionally|into (?:a |the )?(?:wall|tree|truck|lorry|traffic|river|bridge))"), self),
            new("nobody-would-care", si, R(@"\bif i (?:jumped|died|disappeared|was gone|were gone|killed myself|was dead|were dead|fell)\b(?: \w+){0,4} (?:no one|nobody|noone|not a single person) would (?:even )?(?:care|notice|miss me|cry)\b"), Checks.SelfSubject),
            new("disappear-forever", si, R(@"\b(?:want|wish|need|going) to (?:just )?(?:disappear|vanish) (?:forever|for good|permanently|and never come back|for ever)\b"), self),
            new("death-cue", si, R(@"\b(?:no (?:other )?way out|only (?:way out|way|option|answer|solution|escape|choice)|way out|end the pain|stop the pain|welcome|look forward to|looking forward to|can not wait|ready|long for|longing for|crave|craving|peace)\b(?: \w+){0,6} (?:dying|death|being dead|to die|die|suicide|killing myself|ending it|ending my life|not waking up)\b(?! of embarrassment| of shame| of boredom| laughing| to (?:see|try|know|get|hear))|\b(?:dying|death|being dead|suicide|killing myself|ending it all|ending it|ending my life|not waking up|not existing)\b(?: \w+){0,5} (?:only way out|only way|only option|only answer|only solution|only escape|way out|answer|solution|best option|easier|relief|release|peace|peaceful|i want it|want it|welcome it|ready for it|long for it|solve everything|solve it all|solve all my problems|fix everything|end the pain|end all this)\b|\b(?:death|dying|being dead|not existing|not waking up) (?:sounds|seems|looks|feels|would be|would feel|is) (?:so |really |kind of |quite )?(?:peaceful|nice|appealing|tempting|good|better|easier|like a relief|like an escape|like the answer|like the only way|like freedom)\b"), self,
                After: R(Idiom)),
            // --- suicidal ideation: methods and plans
            new("means-ready", si, R(@"\b(?:the |my |a )?(?:pills|tablets|rope|noose|gun|razor blades?|note|letter) (?:is |are )?(?:all )?(?:ready|prepared|set up|waiting for me|hidden away)\b|\b(?:got|bought|have|hid|hidden|kept|keeping|tied|made) (?:a |the |my )?noose\b|\brope (?:to|for) (?:hang|end|kill|die)\b"), self),
            new("overdose", si, R(@"\b(?:overdose|overdosed|overdosing|overdoses)\b|\boverdo(?:es|ing)? on (?:my |the |some |all )?{MED}"), self,
                After: R(@"^ (?:crisis|deaths|statistics|epidemic|prevention|rates?|reversal|kit)\b"), Before: R(@"(?:accidental|an accidental|the|fear of an?|risk of) $")),
            new("take-all-pills", si, R(@"\b(?:took|take|takes|taking|taken|swallow|swallowed|swallowing|downed|down|going to take|chug|chugged)\b(?: \w+){0,3} (?:all|whole|bunch|lots|loads|lot|handful|enough|too many|dozens|rest|every one|all of|several)\b(?: \w+){0,3} {PILLS}\b"), self),
            new("take-them-all", si, R(@"\b(?:take|swallow|taking|swallowing|took|swallowed) (?:them|it|the lot|those|these) all\b|\b(?:take|swallow|taking|swallowing|took|swallowed) all of (?:them|it|those|these)\b"), self, Utterance: R(@"\b{PILLS}\b")),
            new("using-means", si, R(@"\b(?:thought|think|thinking|considered|considering|tempted|planning|plan) (?:about |of )?using (?:it|them|that|those)(?: on myself)?\b"), self,
                Utterance: R(@"\b(?:rope|noose|gun|pistol|rifle|pills|tablets|medication|razor|blade|knife|bridge|cliff|exhaust)\b")),
            new("stockpile", si, R(@"\b(?:saving up|saving|stockpiling|stockpile|hoarding|collecting|stashing)(?: my| some| up| all| the)* (?:pills|tablets|medication|painkillers|sleeping pills)\b"), self),
            new("method-self", si, R(@"\b(?:hang|hanging|hanged|drown|drowning|suffocate|suffocating|gas|gassing|poison|poisoning|electrocute|electrocuting|shoot|shooting|shot|stab|stabbing|strangle|strangling) {SELF}\b"), self | Checks.AccidentSensitive,
                After: R(@"^ (?:in the (?:foot|feet)|a (?:look|glance|picture|photo|drink|coffee))")),
            new("throw-self", si, R(@"\b(?:throw|throwing|threw|hurl|hurling|fling|flinging) {SELF} (?:off|in front of|under|from|out of|into (?:the (?:sea|river|lake|traffic|water)|traffic))\b"), self),
            new("jump-from", si, R(@"\b(?:jump|jumps|jumping|jumped|leap|leaping|step|stepping|walk|walking|drive|driving|steer|steering|crash|crashing|run|running|throw myself)(?: my car| the car| myself)? (?:off|from|in front of|under|into) (?:a |the |this |that |my |some |an )?(?:bridge|building|roof|rooftop|cliff|train|bus|truck|lorry|car|cars|traffic|balcony|window|ledge|tower|platform|tracks|oncoming traffic|wall|tree|river|sea|lake|motorway|highway|car park|parking garage)\b"), self),
            new("lie-on-tracks", si, R(@"\b(?:lie|lying|lay|laying|put myself|putting myself) (?:down )?(?:on|onto|across) (?:the |a )?(?:train tracks|tracks|railway|railway line|rails|motorway|road in front)\b"), self),
            new("wrists", sh, R(@"\b(?:cut|cuts|cutting|slash|slashing|slice|slicing|open) (?:open )?(?:my )?(?:wrists?|veins)\b"), self),
            new("slit", si, R(@"\b(?:slit|slitting) (?:my )?(?:wrists?|throat)\b|\b(?:cut|cutting|slash|slashing) (?:my )?throat\b|\b(?:put|putting|stick|sticking) a (?:bullet|gun) (?:in|to|through|against) my (?:head|brain|mouth|temple)\b|\bblow(?:ing)? my (?:brains|head) (?:out|off)\b|\b(?:noose|rope) (?:around|round) my neck\b"), self),
            new("goodbye", si, R(@"\b(?:said|saying|say) my (?:final |last )?goodbyes\b|\b(?:said|saying) (?:a |my )?(?:final|last) goodbye\b|\b(?:wrote|written|writing|write|left|leave|leaving) (?:a |my )?(?:goodbye|farewell|final|last) (?:note|notes|letter|letters|message|messages)\b|\b(?:giving|give|gave|given) away (?:all (?:of )?)?(?:my )?(?:things|stuff|possessions|belongings|everything i own)\b|\b(?:will not|not going to|am not going to) be (?:here|around|alive) (?:much longer|for much longer|for long|anymore|any more|by (?:tomorrow|next week|the end of the week))\b"), Checks.SelfSubject),
            new("research-method", si, R(@"\b(?:look|looked|looking|search|searched|searching|google|googled|googling|research|researched|researching|read|reading|watch|watched|watching) (?:up |online |about )*(?:how|ways|methods?|the best way) (?:to|of) (?:die|dying|kill myself|killing myself|overdose|overdosing|end (?:it|my life)|ending my life|hang myself|hanging myself|commit suicide)\b|\bhow (?:many|much) (?:\w+ ){0,2}(?:it takes|it would take|would it take|to take|i would need|you need) (?:to )?(?:die|kill (?:myself|yourself|a person|someone)|overdose|not wake up)\b"), self),
            new("not-here-soon", si, R(@"\b(?:will not|not going to|am not going to) be (?:here|around|alive) (?:next week|tomorrow|next month|by then|for the next session|at the next session)\b"), Checks.SelfSubject,
                Utterance: R(@"\b(?:matter|matters|point|goodbye|goodbyes|pills|die|dead|anymore|any more|tired|over|end|care)\b")),
            new("plan", si, R(@"\b(?:made|have|got|had|making|making a|working on) (?:a |the |my )?plans? (?:to|for|on how to|of how to) (?:end|ending|kill|killing|die|dying|take|taking|do it)\b"), self),
            // --- self-harm
            new("self-harm-act", sh, R(@"\b(?:cut|cuts|cutting|burn|burns|burning|burned|burnt|hurt|hurts|hurting|harm|harms|harming|harmed|hit|hits|hitting|punch|punches|punching|injure|injures|injuring|injured|starve|starves|starving|starved|mutilate|mutilating|mutilated|bruise|bruising) (?:{SELF}|my (?:arms?|legs?|thighs?|wrists?|skin|stomach|body))\b"), self | Checks.AccidentSensitive,
                After: R(@"^ (?:laughing|with laughter|less|more than|any more than|(?:some |a little |a bit of |more )?slack|off|out|a (?:piece|slice|break|deal))\b")),
            new("self-harm-word", sh, R(@"\bself (?:harm|harms|harming|harmed|injury|injuring|injure|injured|mutilation|mutilate|mutilating|mutilated)\b"), self,
                After: R(@"^ (?:awareness|prevention|statistics|research|rates?)\b"),
                Before: R(@"(?:(?:presentation|lecture|talk|article|essay|film|movie|book|documentary|paper|report|research|class|course) (?:on|about|of)(?: \w+){0,2}) $")),
            new("self-harm-thoughts", sh, R(@"\b(?:think|thinks|thinking|thought|thoughts|urge|urges|craving|cravings|tempted|fantasi[sz]e|fantasi[sz]ing) (?:about |of |to )?(?:cutting|burning|hurting myself|harming myself|self harm|self harming|cut myself|burn myself|hurt myself)\b"), self,
                After: R(@"^ (?:back|down|out|corners|costs|the|it|my hair|hair|class|classes|wood|paper|bread|onions)\b")),
            new("harm-again", sh, R(@"\b(?:cut|cutting|burned|burnt|burning|hurt|harmed|harming) (?:myself |my (?:arms?|legs?|wrists?|skin|thighs?) )?again\b"), self | Checks.AccidentSensitive),
            new("harm-with-blade", sh, R(@"\b(?:cut|cutting|scratch|scratching|scratched|scrape|scraping|carve|carving|carved|burn|burning|burned|mark|marking) (?:myself |my (?:arms?|legs?|wrists?|skin|thighs?|stomach|body) )(?:with|using) (?:a |the |my )?(?:razor|razor blade|blade|blades|knife|lighter|cigarette|scissors|glass|compass|pin)\b"), self | Checks.AccidentSensitive),
            new("carve-skin", sh, R(@"\b(?:carve|carves|carving|carved|etch|etching|etched|scratch|scratching|scratched|write|writing|wrote) (?:\w+ ){0,2}(?:into|in|on) my (?:skin|arms?|legs?|wrists?|thighs?|stomach|body)\b"), self | Checks.AccidentSensitive),
            new("until-bleed", sh, R(@"\buntil (?:it|they|i|my \w+) (?:bleed|bleeds|bled|bruise|bruises|bruised)\b"), self),
            new("cutting-again", sh, R(@"\b(?:been|started|start|starting|keep|kept|back to|went back to|go back to|going back to|relapsed into|relapsed|urge to|urges to|want to|need to) (?:cutting|cut|burning|burn)(?= again| myself| my (?:arms?|legs?|wrists?|skin|thighs?|body|stomach)|$)"), self),
            // --- harm to others
            new("harm-person", ho, R(@"\b{VIOLENT} {PERSON}\b"), Checks.Negatable | Checks.SpeakerSubject,
                After: R(@"^ (?:with (?!(?:a|an|the|my|his|her) (?:knife|gun|bat|hammer|bottle|brick|stick|rock|chair|axe|machete|pipe|fists?|car|blade|razor)\b)|an? (?:email|message|text|note|line|question|look|invite|link|call|photo|picture|smile|glance|reminder)|up\b|is feelings|s feelings|feelings|in (?:chess|the game|a game|tennis|football|a race|an argument|the debate)|at (?:chess|cards|tennis|the game|pool|football))")),
            new("beat-up", ho, R(@"\b(?:beat|beats|beating) {PERSON} up\b|\bbeat the (?:crap|shit|hell|living daylights) out of {PERSON}"), Checks.Negatable | Checks.SpeakerSubject),
            new("want-person-dead", ho, R(@"\b(?:want|wish|hope|wishing|hoping|wanted)(?: that)? (?:him|her|them|you|everyone|everybody|he|she|they|it|my \w+|the \w+) (?:dead|to die|would die|was dead|were dead|to be dead|gone for good|would drop dead)\b"), Checks.Negatable | Checks.SpeakerSubject),
            new("deserve-to-die", ho, R(@"\b(?:he|she|they|them|you|everyone|everybody|people like (?:him|her|them|that)|my \w+|the \w+) (?:all )?(?:deserves?|deserved) to (?:die|be dead|be killed|suffer)\b"), Checks.Negatable),
            new("weapon-to", ho, R(@"\b(?:bring|bringing|brought|take|taking|took|get|getting|got|bought|buy|buying|carry|carrying) (?:a |my |the |his |some )?(?:gun|guns|knife|knives|weapon|weapons|rifle|bomb|machete|axe) (?:to|into) (?:school|work|the office|class|the meeting|the session|here|church|the party|campus|the mosque|the synagogue|his house|her house|their house)\b"), Checks.Negatable | Checks.SpeakerSubject),
            new("make-suffer", ho, R(@"\bmake {PERSON} (?:all |pay and )?(?:suffer|bleed|pay with (?:his|her|their|your) li(?:fe|ves))\b"), Checks.Negatable | Checks.SpeakerSubject),
            new("shoot-up", ho, R(@"\b(?:shoot|shooting|shot|bomb|bombing|blow up|blowing up) up (?:the |my |a |this |our |that )?(?:school|office|work|workplace|mall|church|mosque|synagogue|class|classroom|place|party|club|concert|building|campus|university|college|hospital)\b|\b(?:shoot|shooting|bomb|bombing) (?:the |my |a |this |our |that )?(?:school|office|workplace|mall|church|mosque|synagogue|classroom|campus|university|college)\b|\bblow up (?:the |my |a |this |our |that )?(?:school|office|building|mall|church|mosque|synagogue|campus)\b"), Checks.Negatable | Checks.SelfSubject),
            new("kill-yourself", ho, R(@"\b(?:kill yourself|go die|go and die|you should die|hope you die|hope you get killed)\b"), Checks.Negatable,
                After: R(@"^ (?:laughing|over it|over this|trying)")),
            // --- acute distress (not a crisis, but the exposure holds and the therapist is called)
            new("panic-dying", ad, R(@"\b(?:i am|i|i think i am|i feel like i am|feels like i am|i feel i am) (?:going to |about to )?(?:die|dying|having a heart attack|having a panic attack|having a stroke|passing out|pass out|faint|fainting|losing my mind|going crazy|going insane|losing control|losing it|suffocating|choking|falling apart|freaking out|shaking|trembling|hyperventilating|throw up|going to throw up|be sick|vomit)\b"), self,
                After: R(Idiom + @"|^ (?:to)\b")),
            new("cannot-breathe", ad, R(@"\bcan not (?:breathe|breath|catch my breath|get air|get enough air|stop shaking|stop crying|calm down|think straight|feel my (?:hands|legs|face|arms)|do this anymore|do this any more|take (?:it|this) anymore|take (?:it|this) any more|take any more|take anymore|take much more|handle (?:this|it) anymore|cope)\b"), Checks.SelfSubject),
            new("panic-word", ad, R(@"\b(?:panic attack|panicking|panicked|terrified|petrified|freaking out|hyperventilating|overwhelmed|losing it)\b"), self),
            new("body-alarm", ad, R(@"\b(?:heart|chest) (?:is |keeps )?(?:pounding|racing|exploding|going to explode|hurts|hurting|is hurting|pain|pains|tight|tightening|is tight)\b|\bchest pains?\b|\bfeel (?:faint|dizzy|sick|like fainting|like i am going to faint|like throwing up)\b"), self),
            new("get-me-out", ad, R(@"\b(?:get|let) me out\b|\bstop (?:this|it|the scene|the session|the exercise|everything)(?= now| please| right now|$)|\bplease stop\b|\bi need (?:to stop|a break|to get out|to leave|air|help)\b|\b(?:it is|this is|it is all|this is all) too much\b"), Checks.Negatable),
            new("hopeless", ad, R(@"\b(?:i am|i feel|i feel so|i am so) (?:so |completely |totally |utterly )?(?:hopeless|worthless|empty inside|numb inside|desperate)\b"), self),
            // --- medical advice and diagnosis requests
            new("med-request", ma, R(@"\b(?:should i|can i|could i|may i|must i|do i need to|is it (?:ok|okay|safe|bad|dangerous|fine|alright|normal|wise)|safe to|okay to|ok to|how (?:much|many|often)|what (?:dose|dosage|medication|medicine|pill|drug|amount)|which (?:medication|medicine|pill|drug)|would you (?:recommend|suggest|advise)|can you (?:recommend|suggest|advise|tell me)|do you (?:recommend|think i should))\b"), Checks.None, Utterance: R(@"\b{MED}\b")),
            new("med-prescribe", ma, R(@"\b(?:can|could|would|will) you (?:prescribe|give me a prescription|write me a prescription|diagnose)\b|\bprescribe me\b"), Checks.Negatable),
            new("med-change", ma, R(@"\b(?:stop|stopped|stopping|quit|quitting|skip|skipped|skipping|double|doubled|doubling|triple|increase|increased|increasing|reduce|reduced|reducing|halve|lower|raise|come off|came off|coming off|mix|mixing|combine|combining|change|switch|switching) (?:taking )?(?:my |the |these |those |all |of my |dose of )*(?:dose |doses )?(?:of )?{MED}\b"), Checks.None,
                Utterance: R(@"\?|\b(?:should|can i|could i|is it|tell me|advice|advise|recommend|okay|ok|safe|need to know)\b")),
            new("diagnosis", ma, R(@"\b(?:do i have|am i|could i have|might i have|is this|could this be|is it|does this mean i have|do you think i have|diagnose me with|what disorder do i have|diagnose me)\b(?: \w+){0,2} (?:ptsd|depression|depressed|bipolar|ocd|adhd|autism|autistic|schizophrenia|schizophrenic|psychotic|a personality disorder|personality disorder|an anxiety disorder|anxiety disorder|social anxiety disorder|panic disorder|agoraphobia|agoraphobic|a phobia|mentally ill|a mental illness|a disorder|cancer|a heart condition|heart disease|a heart problem|epilepsy|asthma|a brain tumou?r)\b"), Checks.None),
        ];
    }

    private static readonly HashSet<string> NegationCues = ["not", "never", "no", "nobody", "noone", "none", "nothing", "without", "neither", "nor", "nowhere"];
    /// <summary>"can not stop thinking about ...", "not sure", "do not know why" affirm rather than deny what follows.</summary>
    private static readonly HashSet<string> AffirmingAfterNot = ["stop", "help", "sure", "know", "shake", "get", "escape", "resist", "fight", "control", "wait", "deny", "pretend", "hide", "seem", "remember", "explain", "understand", "believe", "imagine", "ignore", "scared", "afraid", "frightened", "worried"];
    private static readonly HashSet<string> SelfWords = ["i", "me", "my", "myself", "mine"];
    private static readonly HashSet<string> OtherSubjects =
    [
        "you", "your", "yourself", "he", "she", "they", "him", "her", "them", "his", "their", "we", "us", "our", "people", "someone",
        "somebody", "everyone", "everybody", "friend", "friends", "brother", "sister", "mother", "father", "mom", "mum", "dad", "uncle",
        "aunt", "cousin", "son", "daughter", "husband", "wife", "partner", "boyfriend", "girlfriend", "colleague", "classmate", "neighbour",
        "neighbor", "grandfather", "grandmother", "grandma", "grandpa", "character", "patient", "client", "man", "woman", "guy", "girl",
        "boy", "kid", "child", "person", "hero", "narrator", "author", "actor", "singer", "computer", "ai", "bot", "robot",
    ];

    /// <summary>Screens one utterance. Crisis rules are tried on every clause before distress and medical rules.</summary>
    public static ScreenResult Screen(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text)) return new ScreenResult(text, ScreenCategory.None, GuardAction.Continue, null, null);
        var clauses = TextNormalizer.Clauses(text);
        var utterance = " " + string.Join(" . ", clauses.Select(c => c.Text)) + " ";
        Hit? best = null;
        var suppressed = new List<string>();
        foreach (var clause in clauses)
        {
            var hit = Match(clause, utterance, suppressed);
            if (hit != null && (best == null || Priority(hit.Rule.Category) < Priority(best.Rule.Category))) best = hit;
        }
        string? setAside = suppressed.Count == 0 ? null : string.Join("; ", suppressed.Distinct());
        if (best == null) return new ScreenResult(text, ScreenCategory.None, GuardAction.Continue, null, null) { Suppressed = setAside };
        // A disclosure of the remote past with recovery and nothing about now ("I used to self-harm as a teenager
        // but I've been fine for ten years") is history, not a crisis; any sign of now keeps it a crisis.
        if (best.Rule.Category is ScreenCategory.SuicidalIdeation or ScreenCategory.SelfHarm
            && ResolvedPast.IsMatch(utterance) && Recovered.IsMatch(utterance) && !Present.IsMatch(utterance))
            return new ScreenResult(text, ScreenCategory.None, GuardAction.Continue, best.Rule.Id + " (resolved past)", best.Evidence) { Suppressed = best.Rule.Id + ": resolved past" };
        var category = best.Rule.Category;
        var action = category switch
        {
            ScreenCategory.AcuteDistress => GuardAction.PauseAndSupport,
            ScreenCategory.MedicalAdvice => GuardAction.ReferToTherapist,
            _ => GuardAction.SafetyScript,
        };
        return new ScreenResult(text, category, action, best.Rule.Id, best.Evidence);
    }

    private static int Priority(ScreenCategory c) => c switch
    {
        ScreenCategory.SuicidalIdeation => 0,
        ScreenCategory.SelfHarm => 1,
        ScreenCategory.HarmToOthers => 2,
        ScreenCategory.AcuteDistress => 3,
        ScreenCategory.MedicalAdvice => 4,
        _ => 9,
    };

    private sealed record Hit(Rule Rule, string Evidence);

    private static Hit? Match(Clause clause, string utterance, List<string> suppressed)
    {
        var text = clause.Text;
        // Token start offsets, to turn a character match into a token index.
        var starts = new int[clause.Tokens.Length];
        for (int i = 0, pos = 0; i < clause.Tokens.Length; i++) { starts[i] = pos; pos += clause.Tokens[i].Length + 1; }
        Hit? best = null;
        foreach (var rule in Rules)
        {
            if (best != null && Priority(rule.Category) >= Priority(best.Rule.Category)) continue;
            bool crisisRule = rule.Category is ScreenCategory.SuicidalIdeation or ScreenCategory.SelfHarm or ScreenCategory.HarmToOthers;
            foreach (System.Text.RegularExpressions.Match m in rule.Pattern.Matches(text))
            {
                int tokenIndex = Array.BinarySearch(starts, m.Index);
                if (tokenIndex < 0) tokenIndex = ~tokenIndex - 1;
                var after = " " + text[(m.Index + m.Length)..].TrimStart();
                var before = text[..m.Index];
                string? why = null;
                if (rule.After != null && after.Length > 1 && rule.After.IsMatch(after)) why = "idiom or context after";
                else if (rule.Before != null && rule.Before.IsMatch(before)) why = "idiom or context before";
                else if (rule.Utterance != null && !rule.Utterance.IsMatch(utterance)) { continue; }
                else if (rule.Checks.HasFlag(Checks.Negatable) && (Negated(clause, tokenIndex) || (after.Length > 1 && PostNegation.IsMatch(after)))) why = "negated";
                else if (rule.Checks.HasFlag(Checks.SelfSubject) && !SubjectIsSelfOrAbsent(clause, tokenIndex)) why = "someone else";
                else if (rule.Checks.HasFlag(Checks.SpeakerSubject) && !SubjectIsSpeaker(clause, tokenIndex)) why = "someone else";
                else if (rule.Checks.HasFlag(Checks.AccidentSensitive) && IsAccident(text)) why = "accident";
                if (why != null)
                {
                    if (crisisRule) suppressed.Add($"{rule.Id}: {why}");
                    continue;
                }
                best = new Hit(rule, m.Value);
                break;
            }
        }
        return best;
    }

    private static readonly Regex ResolvedPast = new(@"\b(?:used to|as a (?:teenager|teen|kid|child|student)|when i was (?:younger|a teenager|a teen|a kid|a child|at school|in school|a student)|years ago|in my (?:teens|twenties|twenties)|a long time ago|in the past)\b", RegexOptions.CultureInvariant | RegexOptions.Compiled);
    private static readonly Regex Recovered = new(@"\b(?:have been|am|i am|been|feel|feeling) (?:fine|okay|ok|better|well|good|clean|free|stable)\b|\b(?:stopped|quit|recovered|got help|got better|over it)\b|\bnot anymore\b|\bno longer\b", RegexOptions.CultureInvariant | RegexOptions.Compiled);
    private static readonly Regex Present = new(@"\b(?:again|coming back|came back|lately|these days|recently|right now|now|tonight|today|still|want|wanna|going to|plan|planning|urge|urges|this week|started)\b", RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>A denial after the frame: "killing myself is not something I would ever do", "... is out of the question".</summary>
    private static readonly Regex PostNegation = new(@"^ (?:\w+ ){0,3}(?:is|was|would be|will be|has been|will never be|has never been) (?:not|never|no longer) (?:something|an option|on the table|what i want|in my plans|going to happen)|^ (?:\w+ ){0,3}(?:is|would be) out of the question|^ (?:\w+ ){0,2}(?:no way|not happening|not for me)\b|^ (?:\w+ ){0,4}(?:and|but) i (?:said|answered|told (?:her|him|them|you)) no\b",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    private static readonly Regex AccidentRx = new(Accident, RegexOptions.CultureInvariant | RegexOptions.Compiled);
    private static readonly Regex IntentRx = new(Intent, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    private static bool IsAccident(string clause) => AccidentRx.IsMatch(clause) && !IntentRx.IsMatch(clause);

    /// <summary>
    /// A negation cue in the six tokens before the frame. A comma stops the look-back when the words after it have
    /// their own "I" ("no, I want to ..."); "can not stop", "not sure" and the like affirm, so they do not negate.
    /// "why would I ..." is a rhetorical denial.
    /// </summary>
    private static bool Negated(Clause clause, int start)
    {
        var t = clause.Tokens;
        int from = Math.Max(0, start - 6);
        foreach (var b in clause.SoftBreaks)
        {
            if (b <= start && b > from)
            {
                bool ownSubject = false;
                for (int k = b; k < start; k++) if (t[k] == "i") ownSubject = true;
                if (ownSubject) from = b;
            }
        }
        for (int k = start - 1; k >= from; k--)
        {
            if (t[k] == "why" && k + 1 < t.Length && t[k + 1] is "would" or "should" && k + 2 < start) return true;
            if (!NegationCues.Contains(t[k])) continue;
            if (k + 1 < t.Length && AffirmingAfterNot.Contains(t[k + 1])) continue;
            if (k + 2 < t.Length && t[k + 1] is "really" or "even" && AffirmingAfterNot.Contains(t[k + 2])) continue;
            return true;
        }
        return false;
    }

    private static string? NearestSubject(Clause clause, int start)
    {
        for (int k = start - 1; k >= 0; k--)
        {
            var w = clause.Tokens[k];
            if (SelfWords.Contains(w)) return "self";
            if (OtherSubjects.Contains(w)) return w;
        }
        return null;
    }

    private static bool SubjectIsSelfOrAbsent(Clause clause, int start) => NearestSubject(clause, start) is null or "self";

    private static bool SubjectIsSpeaker(Clause clause, int start) => NearestSubject(clause, start) == "self";
}
