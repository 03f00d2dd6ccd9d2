using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>
/// A small language guess for the screen: is this English (which the rules and the model read), or something they
/// cannot read? Non-Latin scripts are not English; Latin text is scored by common function words of English,
/// German, Spanish, French, Italian, Portuguese and Dutch (and by letters English does not use). Short or mixed text
/// counts as English unless another language clearly wins: the rules and the model still read it, and a miss there
/// is caught by the "language not supported" path only when the text is clearly foreign.
/// </summary>
public static class LanguageGuess
{
    private static readonly Dictionary<string, HashSet<string>> Stopwords = new()
    {
        ["en"] = ["the", "i", "you", "and", "to", "is", "it", "my", "me", "a", "of", "that", "in", "not", "want", "am", "have", "do", "don't", "can't", "i'm", "what", "with", "be", "this", "just", "so", "was", "are", "myself", "no", "on", "for", "would", "anymore", "feel", "like", "it's", "know", "think", "about", "im", "dont", "cant", "going", "will", "all", "life"],
        ["de"] = ["ich", "nicht", "und", "die", "der", "das", "ist", "mich", "mir", "mein", "meine", "will", "möchte", "kann", "nur", "mehr", "es", "zu", "ein", "eine", "sein", "habe", "bin", "auf", "was", "wie", "wenn", "dass", "auch", "noch", "leben", "sterben", "einfach", "heute", "nacht", "weiß", "keine", "kein", "alle", "wäre", "würde", "oder", "aber", "umbringen", "schon"],
        ["es"] = ["yo", "no", "que", "y", "el", "la", "de", "me", "mi", "quiero", "es", "un", "una", "en", "lo", "ya", "más", "estoy", "soy", "vivir", "morir", "matarme", "para", "por", "con", "nadie", "todo", "esta", "noche", "tengo", "puedo", "sé", "pero", "cómo", "hacerlo", "mañana", "suicidarme", "muerto", "muerta", "vida"],
        ["fr"] = ["je", "ne", "pas", "et", "le", "la", "les", "de", "me", "moi", "mon", "ma", "veux", "suis", "est", "un", "une", "en", "plus", "vivre", "mourir", "tuer", "pour", "avec", "personne", "tout", "ce", "soir", "j'ai", "c'est", "sais", "mais", "comment", "demain", "vie", "envie", "finir", "qui", "que", "je", "rien"],
        ["it"] = ["io", "non", "che", "e", "il", "la", "di", "mi", "mio", "mia", "voglio", "sono", "è", "un", "una", "in", "più", "vivere", "morire", "uccidermi", "per", "con", "nessuno", "tutto", "stanotte", "ho", "posso", "so", "ma", "come", "domani", "vita"],
        ["pt"] = ["eu", "não", "que", "e", "o", "a", "de", "me", "meu", "minha", "quero", "sou", "estou", "é", "um", "uma", "em", "mais", "viver", "morrer", "matar", "para", "com", "ninguém", "tudo", "hoje", "noite", "tenho", "posso", "sei", "mas", "como", "amanhã", "vida"],
        ["nl"] = ["ik", "niet", "en", "de", "het", "een", "is", "mij", "mijn", "wil", "ben", "meer", "leven", "dood", "gaan", "vannacht", "heb", "kan", "weet", "maar", "hoe", "morgen", "zelfmoord", "niemand", "alles", "zijn", "wat", "te", "van"],
    };

    private static readonly Regex Word = new(@"[\p{L}']+", RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>An ISO 639-1 code ("en", "de", "es", "fr", "it", "pt", "nl") or "other" for a script or language not listed.</summary>
    public static string Detect(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int letters = 0, latin = 0;
        foreach (var ch in text)
        {
            if (!char.IsLetter(ch)) continue;
            letters++;
            if (ch < 0x250 || (ch >= 0x1E00 && ch <= 0x1EFF)) latin++;
        }
        if (letters == 0) return "en";
        if (latin < letters * 0.5) return "other";
        var words = Word.Matches(text.ToLowerInvariant().Replace('’', '\'')).Select(m => m.Value).ToList();
        if (words.Count == 0) return "en";
        var score = Stopwords.ToDictionary(kv => kv.Key, kv => words.Count(w => kv.Value.Contains(w)));
        // Letters English does not write are evidence for the others.
        foreach (var ch in text.ToLowerInvariant())
        {
            if ("äöüß".Contains(ch)) score["de"] += 2;
            if ("ñ¿¡".Contains(ch)) score["es"] += 2;
            if ("çàèùâêîôûëïœ".Contains(ch)) score["fr"] += 1;
            if ("ãõ".Contains(ch)) score["pt"] += 2;
        }
        var best = score.Where(kv => kv.Key != "en").OrderByDescending(kv => kv.Value).First();
        int en = score["en"];
        // Foreign only when another language clearly out-scores English: two function words at least, and more than English.
        if (best.Value >= 2 && best.Value > en * 1.5 + 0.5) return best.Key;
        return "en";
    }

    /// <summary>Text without accents, lower case, for the multilingual rules (a fixed table: the build runs with invariant globalisation).</summary>
    public static string Fold(string text)
    {
        const string from = "àáâãäåāçćčèéêëēėęìíîïīñńòóôõöøōùúûüūýÿ";
        const string to = "aaaaaaa" + "ccc" + "eeeeeee" + "iiiii" + "nn" + "ooooooo" + "uuuuu" + "yy";
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (c == 'ß') { sb.Append("ss"); continue; }
            if (c == '’') { sb.Append('\''); continue; }
            int k = from.IndexOf(c);
            sb.Append(k >= 0 ? to[k] : c);
        }
        return sb.ToString();
    }

    private sealed record MultiRule(string Id, ScreenCategory Category, RiskLevel Level, Regex Pattern);

    private static MultiRule M(string id, ScreenCategory c, RiskLevel l, string pattern) =>
        new(id, c, l, new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled));

    /// <summary>
    /// A few crisis phrases in German, Spanish, French, Italian, Portuguese and Dutch that are unambiguous (written on
    /// accent-folded text). Anything else in those languages still gets "language not supported" (Concern).
    /// </summary>
    private static readonly MultiRule[] Rules =
    [
        // German
        M("de-kill-self", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:mich|mir) (?:\w+ ){0,3}(?:umbringen|toten|das leben nehmen)\b|\bselbstmord\b|\bsuizid\w*|\bumbringen\b"),
        M("de-want-die", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:will|mochte|wunsche mir|wurde gerne|wollte) (?:\w+ ){0,3}(?:sterben|tot sein|nicht mehr leben|nicht mehr aufwachen)\b|\bnicht mehr leben\b|\bnicht mehr da sein\b|\bwill nicht mehr\b"),
        M("de-self-harm", ScreenCategory.SelfHarm, RiskLevel.High, @"\b(?:mich|mir) (?:selbst )?(?:\w+ ){0,2}(?:ritzen|schneiden|verletzen|weh tun|wehtun)\b|\bselbstverletz\w*"),
        M("de-tonight", ScreenCategory.SuicidalIdeation, RiskLevel.Imminent, @"\b(?:heute nacht|heute abend|morgen|dieses wochenende)\b.*\b(?:sterben|umbringen|tabletten|springen|ende machen|schluss machen)\b|\bschluss machen\b|\bein ende machen\b"),
        // Spanish
        M("es-kill-self", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:suicidarme|matarme|quitarme la vida|acabar con mi vida|suicidio|me voy a matar|me quiero matar)\b"),
        M("es-want-die", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:quiero|quisiera|deseo|prefiero) (?:\w+ ){0,2}(?:morir(?:me)?|estar muert[oa]|no despertar|desaparecer para siempre)\b|\bno quiero (?:seguir )?vivir\b|\bmejor (?:estarian|estaria) sin mi\b"),
        M("es-self-harm", ScreenCategory.SelfHarm, RiskLevel.High, @"\b(?:cortarme|hacerme dano|lastimarme|autolesion\w*)\b|\bme corto\b"),
        M("es-tonight", ScreenCategory.SuicidalIdeation, RiskLevel.Imminent, @"\b(?:esta noche|manana|este fin de semana)\b.*\b(?:morir|matarme|pastillas|saltar|acabar)\b"),
        // French
        M("fr-kill-self", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:me tuer|me suicider|suicide|mettre fin a (?:mes jours|ma vie)|en finir)\b"),
        M("fr-want-die", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:veux|voudrais|envie de|prefererais|aimerais) (?:\w+ ){0,2}(?:mourir|etre mort|etre morte|ne plus me reveiller|disparaitre pour toujours)\b|\bne (?:veux|peux) plus vivre\b|\bmieux sans moi\b"),
        M("fr-self-harm", ScreenCategory.SelfHarm, RiskLevel.High, @"\b(?:me scarifier|me couper|me faire du mal|me blesser|scarification\w*|automutilation)\b"),
        M("fr-tonight", ScreenCategory.SuicidalIdeation, RiskLevel.Imminent, @"\b(?:ce soir|cette nuit|demain|ce week end|ce weekend)\b.*\b(?:mourir|me tuer|cachets|medicaments|sauter|en finir)\b"),
        // Italian
        M("it-kill-self", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:uccidermi|ammazzarmi|suicidarmi|suicidio|togliermi la vita|farla finita)\b"),
        M("it-want-die", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:voglio|vorrei) (?:\w+ ){0,2}(?:morire|essere morto|essere morta)\b|\bnon voglio piu vivere\b"),
        // Portuguese
        M("pt-kill-self", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:me matar|suicidio|suicidar|tirar a minha vida|acabar com a minha vida)\b"),
        M("pt-want-die", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:quero|queria) (?:\w+ ){0,2}morrer\b|\bnao quero mais viver\b"),
        // Dutch
        M("nl-kill-self", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:zelfmoord|mezelf (?:\w+ ){0,2}(?:doden|van kant maken|ombrengen)|er een einde aan maken)\b"),
        M("nl-want-die", ScreenCategory.SuicidalIdeation, RiskLevel.High, @"\b(?:wil|zou willen) (?:\w+ ){0,2}(?:dood|sterven)\b|\bwil niet meer leven\b"),
    ];

    /// <summary>The strongest multilingual crisis rule that matches (folded text), or null.</summary>
    public static (string Rule, ScreenCategory Category, RiskLevel Level, string Evidence)? Crisis(string text)
    {
        var folded = " " + Fold(text) + " ";
        (string, ScreenCategory, RiskLevel, string)? best = null;
        foreach (var r in Rules)
        {
            var m = r.Pattern.Match(folded);
            if (!m.Success) continue;
            if (best == null || r.Level > best.Value.Item3) best = (r.Id, r.Category, r.Level, m.Value.Trim());
        }
        return best;
    }
}
