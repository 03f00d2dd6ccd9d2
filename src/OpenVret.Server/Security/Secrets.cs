using System.Security.Cryptography;
using System.Text;

namespace OpenVret.Server.Security;

/// <summary>Random tokens and codes, and the one-way hash under which they are stored.</summary>
public static class Secrets
{
    private const string CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";   // no 0/O or 1/I

    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>An 8-character pairing code (40 bits), readable aloud and typeable in a headset.</summary>
    public static string NewPairingCode() => string.Create(8, 0, (span, _) =>
    {
        for (int i = 0; i < span.Length; i++) span[i] = CodeAlphabet[RandomNumberGenerator.GetInt32(CodeAlphabet.Length)];
    });

    public static string NewPassword() => NewToken()[..16];

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Pseudonymous id for log lines and audit actors: never the raw identifier.</summary>
    public static string Pseudonym(string kind, string id) => $"{kind}-{Hash(kind + ":" + id)[..10]}";
}
