using System.Reflection;

namespace OpenVret.Server.Security;

/// <summary>
/// The one password policy: user creation, password change, an administrator's reset, and the configured
/// bootstrap administrator and demo passwords all go through <see cref="Check"/>. Problems never repeat the password.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 12;
    /// <summary>Longest password accepted anywhere (a login with a longer one fails without being hashed).</summary>
    public const int MaxLength = 256;

    private static readonly Lazy<HashSet<string>> Common = new(LoadCommon);

    /// <summary>Number of entries in the shipped common-password list (for tests and docs).</summary>
    public static int CommonCount => Common.Value.Count;

    /// <summary>Null when the password is acceptable for this user; otherwise what is wrong with it (without the password).</summary>
    public static string? Check(string? password, string? userName)
    {
        if (string.IsNullOrEmpty(password)) return "is required";
        if (password.Length < MinLength) return $"at least {MinLength} characters";
        if (password.Length > MaxLength) return $"at most {MaxLength} characters";
        string lower = password.ToLowerInvariant();
        if (!string.IsNullOrEmpty(userName) && userName.Length >= 3)
        {
            string name = userName.ToLowerInvariant();
            if (lower.Contains(name, StringComparison.Ordinal) || lower.Contains(new string(name.Reverse().ToArray()), StringComparison.Ordinal))
                return "must not contain the user name";
        }
        string squeezed = new(lower.Where(char.IsLetterOrDigit).ToArray());   // "letmein letmein" is "letmeinletmein"
        if (IsTrivial(lower) || squeezed.Length > 0 && IsTrivial(squeezed)) return "too simple: a character or short pattern repeated, or a simple sequence";
        if (IsCommon(lower)) return "on the list of common passwords; choose a less predictable one (e.g. several unrelated words)";
        return null;
    }

    /// <summary>Fewer than 5 distinct characters, one unit repeated, or a run like abcdefgh / 98765432 (keyboard rows are on the common list).</summary>
    private static bool IsTrivial(string p)
    {
        if (p.Distinct().Count() < 5) return true;
        for (int unit = 1; unit <= p.Length / 2; unit++)
        {
            if (p.Length % unit != 0) continue;
            bool repeated = true;
            for (int i = unit; i < p.Length && repeated; i++) repeated = p[i] == p[i - unit];
            if (repeated) return true;
        }
        // A simple sequence of 8 or more characters (e.g. "abcdefghijk1", "123456789012", "horse-98765432").
        int longest = 1, run = 1, previous = 0;
        for (int i = 1; i < p.Length; i++)
        {
            int step = p[i] - p[i - 1];
            run = step is 1 or -1 ? (step == previous ? run + 1 : 2) : 1;
            previous = step;
            longest = Math.Max(longest, run);
        }
        return longest >= 8;
    }

    private static bool IsCommon(string lower)
    {
        var list = Common.Value;
        if (list.Contains(lower)) return true;
        // "Password123!", "!!qwerty2024", "p@ssw0rd" padded: compare after stripping digits and punctuation at the
        // ends, and the whole without separators.
        string core = lower.Trim().TrimEnd(Padding).TrimStart(Padding);
        if (core.Length > 0 && list.Contains(core)) return true;
        string squeezed = new(lower.Where(char.IsLetterOrDigit).ToArray());
        if (list.Contains(squeezed)) return true;
        string squeezedCore = squeezed.TrimEnd(Digits).TrimStart(Digits);
        if (squeezedCore.Length > 0 && list.Contains(squeezedCore)) return true;
        string unleet = Unleet(core);
        return unleet.Length > 0 && (list.Contains(unleet) || list.Contains(unleet.TrimEnd(Digits)));
    }

    private static readonly char[] Digits = "0123456789".ToCharArray();
    private static readonly char[] Padding = "0123456789!@#$%^&*()_-+=.,;:?/\\|~`'\"[]{}<> ".ToCharArray();

    private static string Unleet(string s) => string.Create(s.Length, s, (span, src) =>
    {
        for (int i = 0; i < src.Length; i++)
            span[i] = src[i] switch { '@' or '4' => 'a', '3' => 'e', '1' or '!' => 'i', '0' => 'o', '$' or '5' => 's', '7' => 't', _ => src[i] };
    });

    private static HashSet<string> LoadCommon()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenVret.Server.Security.common-passwords.txt")
            ?? throw new InvalidOperationException("the common-password list is missing from the server assembly");
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            set.Add(line.ToLowerInvariant());
        }
        return set;
    }
}
