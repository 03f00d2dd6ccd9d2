using System.Globalization;
using System.Text;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>
/// Turns free text (typed or from speech recognition) into clauses of plain lower-case tokens, so the screen
/// matches meaning rather than spelling: contractions and chat shorthand are expanded, leetspeak and
/// stretched letters undone, run-together words split, and misspellings of the words the screen depends on
/// corrected (edit distance against a small key lexicon, never touching a word known to be a different word).
/// </summary>
public static class TextNormalizer
{
    /// <summary>Normalised clauses: sentence ends, ';', ':' and contrast words ("but", "although") end a clause.</summary>
    public static IReadOnlyList<Clause> Clauses(string text)
    {
        var tokens = Tokens(text);
        var clauses = new List<Clause>();
        var current = new List<string>();
        var softBreaks = new List<int>();
        void Flush()
        {
            if (current.Count > 0) clauses.Add(new Clause(current.ToArray(), softBreaks.ToArray()));
            current.Clear();
            softBreaks.Clear();
        }
        foreach (var t in tokens)
        {
            if (t is "." or "!" or "?" or ";" or ":" or "but" or "although" or "though" or "however" or "yet")
            {
                Flush();
                continue;
            }
            if (t == ",") { softBreaks.Add(current.Count); continue; }
            current.Add(t);
        }
        Flush();
        return clauses;
    }

    /// <summary>All tokens with punctuation kept as separate tokens ('.', '!', '?', ',', ';', ':').</summary>
    public static List<string> Tokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = Fold(text);
        var raw = new List<string>();
        var sb = new StringBuilder();
        void End()
        {
            if (sb.Length > 0) raw.Add(sb.ToString());
            sb.Clear();
        }
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            bool letterish = char.IsLetterOrDigit(c) || c is '@' or '$' || (c == '\'' && sb.Length > 0 && i + 1 < s.Length && char.IsLetter(s[i + 1]));
            if (letterish) { sb.Append(c); continue; }
            End();
            if (c is '.' or '!' or '?' or ',' or ';' or ':') raw.Add(c.ToString());
            else if (c == '-' && raw.Count > 0 && i + 1 < s.Length && char.IsLetter(s[i + 1])) raw.Add("-");
        }
        End();

        var output = new List<string>(raw.Count + 4);
        for (int i = 0; i < raw.Count; i++)
        {
            var t = raw[i];
            if (t == "-")
            {
                // "self-harm" -> "self harm"; hyphens otherwise just separate words.
                continue;
            }
            if (t.Length == 1 && !char.IsLetterOrDigit(t[0])) { output.Add(t); continue; }
            foreach (var w in Expand(Deleet(t))) output.Add(w);
        }
        return MergeAndCorrect(output);
    }

    private static string Fold(string text)
    {
        var d = text.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(d.Length);
        foreach (var c in d)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            sb.Append(c switch { '\u2019' or '\u2018' or '`' or '\u00b4' => '\'', '\u2026' => '.', _ => char.ToLowerInvariant(c) });
        }
        return sb.ToString();
    }

    /// <summary>k1ll -> kill, d13 -> die, $uicide -> suicide (only in tokens that also have letters).</summary>
    private static string Deleet(string t)
    {
        bool hasLetter = false, hasOther = false;
        foreach (var c in t)
        {
            if (char.IsLetter(c)) hasLetter = true;
            else if (c != '\'') hasOther = true;
        }
        if (!hasLetter || !hasOther) return CollapseStretch(t);
        var sb = new StringBuilder(t.Length);
        foreach (var c in t)
            sb.Append(c switch { '1' or '!' => 'i', '3' => 'e', '0' => 'o', '4' or '@' => 'a', '$' or '5' => 's', '7' => 't', _ => c });
        return CollapseStretch(sb.ToString());
    }

    /// <summary>"diiiie" -> "die", "sooo" -> "so": three or more of a letter become one.</summary>
    private static string CollapseStretch(string t)
    {
        var sb = new StringBuilder(t.Length);
        for (int i = 0; i < t.Length;)
        {
            int j = i;
            while (j < t.Length && t[j] == t[i]) j++;
            int run = j - i;
            sb.Append(t[i], run >= 3 ? 1 : run);
            i = j;
        }
        return sb.ToString();
    }

    private static readonly Dictionary<string, string[]> Shorthand = new()
    {
        ["don't"] = ["do", "not"], ["dont"] = ["do", "not"], ["doesn't"] = ["does", "not"], ["doesnt"] = ["does", "not"],
        ["didn't"] = ["did", "not"], ["didnt"] = ["did", "not"], ["can't"] = ["can", "not"], ["cant"] = ["can", "not"],
        ["cannot"] = ["can", "not"], ["won't"] = ["will", "not"], ["wouldn't"] = ["would", "not"], ["wouldnt"] = ["would", "not"],
        ["shouldn't"] = ["should", "not"], ["couldn't"] = ["could", "not"], ["couldnt"] = ["could", "not"], ["isn't"] = ["is", "not"],
        ["isnt"] = ["is", "not"], ["aren't"] = ["are", "not"], ["wasn't"] = ["was", "not"], ["wasnt"] = ["was", "not"],
        ["weren't"] = ["were", "not"], ["haven't"] = ["have", "not"], ["havent"] = ["have", "not"], ["hasn't"] = ["has", "not"],
        ["hadn't"] = ["had", "not"], ["ain't"] = ["am", "not"], ["aint"] = ["am", "not"], ["mustn't"] = ["must", "not"],
        ["i'm"] = ["i", "am"], ["im"] = ["i", "am"], ["i've"] = ["i", "have"], ["ive"] = ["i", "have"], ["i'd"] = ["i", "would"],
        ["i'll"] = ["i", "will"], ["you're"] = ["you", "are"], ["youre"] = ["you", "are"], ["it's"] = ["it", "is"],
        ["that's"] = ["that", "is"], ["thats"] = ["that", "is"], ["there's"] = ["there", "is"], ["theres"] = ["there", "is"],
        ["what's"] = ["what", "is"], ["whats"] = ["what", "is"], ["he's"] = ["he", "is"], ["she's"] = ["she", "is"],
        ["they're"] = ["they", "are"], ["we're"] = ["we", "are"], ["let's"] = ["let", "us"],
        ["wanna"] = ["want", "to"], ["wont"] = ["will", "not"], ["gonna"] = ["going", "to"], ["gotta"] = ["got", "to"], ["wana"] = ["want", "to"], ["gona"] = ["going", "to"],
        ["u"] = ["you"], ["ur"] = ["your"], ["r"] = ["are"], ["ya"] = ["you"], ["myslf"] = ["myself"], ["urself"] = ["yourself"],
        ["cuz"] = ["because"], ["coz"] = ["because"], ["bc"] = ["because"], ["pls"] = ["please"], ["plz"] = ["please"],
        ["idk"] = ["i", "do", "not", "know"], ["idc"] = ["i", "do", "not", "care"], ["rn"] = ["right", "now"], ["tbh"] = ["honestly"], ["tbf"] = ["honestly"], ["ngl"] = ["honestly"], ["thinkin"] = ["thinking"], ["killin"] = ["killing"], ["bout"] = ["about"], ["cuttin"] = ["cutting"], ["dyin"] = ["dying"],
        ["kms"] = ["kill", "myself"], ["kys"] = ["kill", "yourself"], ["unalive"] = ["kill"], ["unaliving"] = ["killing"],
        ["sewerslide"] = ["suicide"], ["selfharm"] = ["self", "harm"], ["selfharming"] = ["self", "harming"],
        ["kil"] = ["kill"], ["kll"] = ["kill"], ["kilin"] = ["killing"], ["ded"] = ["dead"], ["dieing"] = ["dying"], ["dyin"] = ["dying"],
        ["od"] = ["overdose"], ["oding"] = ["overdosing"], ["od'd"] = ["overdosed"], ["meds"] = ["medication"],
        ["nomore"] = ["no", "more"], ["wantto"] = ["want", "to"], ["lyf"] = ["life"], ["lif"] = ["life"], ["lfe"] = ["life"], ["2"] = ["to"], ["4"] = ["for"],
    };

    private static IEnumerable<string> Expand(string t)
    {
        if (Shorthand.TryGetValue(t, out var words)) return words;
        if (t.EndsWith("n't", StringComparison.Ordinal) && t.Length > 3) return [t[..^3], "not"];
        if (t.EndsWith("'s", StringComparison.Ordinal) || t.EndsWith("'d", StringComparison.Ordinal) || t.EndsWith("'ll", StringComparison.Ordinal)
            || t.EndsWith("'ve", StringComparison.Ordinal) || t.EndsWith("'re", StringComparison.Ordinal) || t.EndsWith("'m", StringComparison.Ordinal))
        {
            var head = t[..t.IndexOf('\'')];
            var tail = t[(t.IndexOf('\'') + 1)..] switch { "d" => "would", "ll" => "will", "ve" => "have", "re" => "are", "m" => "am", _ => "is" };
            return [head, tail];
        }
        return [t.Replace("'", "")];
    }

    /// <summary>Words the screen's rules depend on: misspellings within a small edit distance are corrected to these.</summary>
    internal static readonly string[] KeyLexicon =
    [
        "kill", "kills", "killing", "killed", "myself", "yourself", "himself", "herself", "suicide", "suicidal", "die", "dying", "died", "dead",
        "death", "live", "living", "alive", "life", "anymore", "overdose", "overdosed", "overdosing", "pills", "tablets", "medication",
        "hurt", "hurting", "harm", "harming", "cutting", "burning", "hanging", "jumping", "bridge", "worthless", "hopeless", "pointless",
        "burden", "disappear", "existing", "exist", "murder", "strangle", "stabbing", "shooting", "breathe", "breathing", "heart", "attack",
        "panic", "starving", "starve", "someone", "somebody", "everyone", "everybody", "anyone", "wrists", "wrist", "razor", "blade", "rope", "gun", "knife",
        "want", "wanted", "wanting", "thinking", "thoughts", "ending", "end", "prescription", "antidepressant", "antidepressants", "dose",
        "dosage", "sertraline", "fluoxetine", "escitalopram", "citalopram", "paroxetine", "venlafaxine", "alprazolam", "lorazepam",
        "diazepam", "clonazepam", "propranolol", "benzodiazepine", "benzodiazepines", "painkillers", "paracetamol", "sleeping", "wake",
        "myself", "better", "without", "nobody", "reason", "point", "going", "forever", "strangling", "poison", "drown", "suffocate",
    ];

    /// <summary>
    /// English words (SCOWL via Debian's wamerican, see english-words.LICENSE.txt): a real word is never "corrected"
    /// (willing is not killing, take is not wake). Misspellings that are themselves words ("dye") are left to the rules.
    /// </summary>
    private static readonly Lazy<HashSet<string>> Dictionary = new(() =>
    {
        using var stream = typeof(TextNormalizer).Assembly.GetManifestResourceStream("OpenVret.Dialogue.english-words.txt.gz")
            ?? throw new InvalidOperationException("the embedded English word list is missing from OpenVret.Dialogue");
        using var gz = new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line) if (line.Length > 0) words.Add(line);
        return words;
    });

    internal static bool IsWord(string token) => Dictionary.Value.Contains(token);

    private static readonly HashSet<string> KeySet = new(KeyLexicon);

    /// <summary>Splits "killmyself"/"wanttodie", then corrects misspelt key words ("sucide", "myslef", "overdoes").</summary>
    private static List<string> MergeAndCorrect(List<string> tokens)
    {
        var result = new List<string>(tokens.Count + 2);
        foreach (var t in tokens)
        {
            if (t.Length == 1 && !char.IsLetterOrDigit(t[0])) { result.Add(t); continue; }
            if (KeySet.Contains(t) || t.Length < 4 || t.Any(char.IsDigit) || IsWord(t)) { result.Add(t); continue; }
            var corrected = Undouble(t) ?? Correct(t);
            if (corrected != null) { result.Add(corrected); continue; }
            if (t.Length >= 6 && TrySplit(t, out var a, out var b)) { result.Add(a); result.Add(b); continue; }
            result.Add(t);
        }
        return result;
    }

    /// <summary>"diee" -> "die", "myselff" -> "myself": one doubled letter too many.</summary>
    private static string? Undouble(string t)
    {
        for (int i = 1; i < t.Length; i++)
        {
            if (t[i] != t[i - 1]) continue;
            var candidate = t.Remove(i, 1);
            if (KeySet.Contains(candidate)) return candidate;
        }
        return null;
    }

    private static readonly string[] SplitHeads = ["kill", "killing", "hurt", "hurting", "harm", "cut", "cutting", "want", "end", "ending", "take", "self", "wantto", "to", "my", "i"];
    private static readonly string[] SplitTails = ["myself", "yourself", "harm", "die", "life", "live", "dead", "suicide", "to", "me", "own"];

    private static bool TrySplit(string t, out string a, out string b)
    {
        foreach (var head in SplitHeads)
        {
            if (!t.StartsWith(head, StringComparison.Ordinal)) continue;
            var rest = t[head.Length..];
            var tail = SplitTails.Contains(rest) ? rest : (rest.Length >= 4 ? Correct(rest) : null);
            if (tail != null && SplitTails.Contains(tail)) { a = head; b = tail; return true; }
        }
        a = b = "";
        return false;
    }

    /// <summary>The key word within edit distance 1 (words of 4-7 letters) or 2 (8 or more), if exactly one is closest.</summary>
    internal static string? Correct(string token)
    {
        int allowed = token.Length >= 8 ? 2 : 1;
        string? best = null;
        int bestDistance = int.MaxValue;
        bool tie = false;
        foreach (var key in KeyLexicon)
        {
            if (Math.Abs(key.Length - token.Length) > allowed) continue;
            int d = DamerauLevenshtein(token, key, allowed);
            if (d > allowed) continue;
            // Equal distance: prefer the key of the token's own length (a substitution over an insertion).
            int rank = d * 10 + Math.Abs(key.Length - token.Length);
            if (rank < bestDistance) { best = key; bestDistance = rank; tie = false; }
            else if (rank == bestDistance && key != best) tie = true;
        }
        return tie ? null : best;
    }

    /// <summary>Optimal string alignment distance, stopping early once every cell of a row exceeds <paramref name="limit"/>.</summary>
    internal static int DamerauLevenshtein(string a, string b, int limit)
    {
        var prev2 = new int[b.Length + 1];
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, prev2[j - 2] + 1);
                cur[j] = v;
                rowMin = Math.Min(rowMin, v);
            }
            if (rowMin > limit) return limit + 1;
            (prev2, prev, cur) = (prev, cur, prev2);
        }
        return prev[b.Length];
    }
}

/// <summary>
/// One clause of normalised tokens. <see cref="SoftBreaks"/> are token indexes where a comma stood: a negation
/// before a comma does not reach past it when the part after the comma has its own subject ("no, I want to ...").
/// </summary>
public sealed record Clause(string[] Tokens, int[] SoftBreaks)
{
    public string Text => string.Join(' ', Tokens);
}
