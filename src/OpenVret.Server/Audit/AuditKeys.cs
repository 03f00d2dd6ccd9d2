using System.Security.Cryptography;
using System.Text;

namespace OpenVret.Server.Audit;

/// <summary>
/// The audit trail's key material, kept outside the database: the HMAC-SHA256 key of the chain's links and the
/// ECDSA P-256 key that signs checkpoints (verifiable offline with the public key alone). From configuration
/// (OpenVret:AuditKey, OpenVret:AuditKeyFile, OpenVret:AuditSigningKeyFile), or generated once at first start into
/// files of mode 0600 in OpenVret:AuditKeysFolder (default: the data folder's keys/).
/// </summary>
public sealed class AuditKeys : IDisposable
{
    public const string LinkKeyFileName = "audit-link.key";
    public const string SigningKeyFileName = "audit-signing.pem";
    public const string PublicKeyFileName = "audit-signing.pub.pem";
    public const int MinLinkKeyBytes = 32;

    /// <summary>HMAC key of the links; null when only checkpoints can be checked.</summary>
    public byte[]? LinkKey { get; }
    /// <summary>Private signing key (the server's); null for a verifier.</summary>
    public ECDsa? Signer { get; }
    /// <summary>Public key that checkpoints are verified with.</summary>
    public ECDsa? Verifier { get; }
    /// <summary>First 16 hex digits of SHA-256 of the public key (SubjectPublicKeyInfo): names the key in each checkpoint.</summary>
    public string? KeyId { get; }

    public AuditKeys(byte[]? linkKey, ECDsa? signer, ECDsa? verifier)
    {
        LinkKey = linkKey; Signer = signer; Verifier = verifier ?? signer;
        if (Verifier is not null) KeyId = KeyIdOf(Verifier);
    }

    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    public static string KeysFolder(ServerOptions o) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(o.AuditKeysFolder) ? Path.Combine(o.DataFolder, "keys") : o.AuditKeysFolder, o.DataFolder);

    /// <summary>The server's keys: configured ones, else the key files, created (once, race-free) when missing.</summary>
    public static AuditKeys LoadOrCreate(ServerOptions o, Action<string>? created = null)
    {
        string folder = KeysFolder(o);
        byte[] link;
        if (!string.IsNullOrEmpty(o.AuditKey))
        {
            if (o.AuditKey.Length < MinLinkKeyBytes)
                throw new InvalidOperationException($"OpenVret:AuditKey = ({o.AuditKey.Length} characters): use at least {MinLinkKeyBytes} characters (e.g. `openssl rand -base64 32`)");
            link = Encoding.UTF8.GetBytes(o.AuditKey);
        }
        else
        {
            string path = string.IsNullOrWhiteSpace(o.AuditKeyFile) ? Path.Combine(folder, LinkKeyFileName) : Path.GetFullPath(o.AuditKeyFile, o.DataFolder);
            if (CreateOnce(path, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MinLinkKeyBytes)) + "\n")) created?.Invoke(path);
            link = ReadLinkKeyFile(path, "OpenVret:AuditKeyFile");
        }
        string signingPath = string.IsNullOrWhiteSpace(o.AuditSigningKeyFile) ? Path.Combine(folder, SigningKeyFileName) : Path.GetFullPath(o.AuditSigningKeyFile, o.DataFolder);
        if (CreateOnce(signingPath, () => { using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256); return k.ExportPkcs8PrivateKeyPem() + "\n"; })) created?.Invoke(signingPath);
        var signer = ECDsa.Create();
        try { signer.ImportFromPem(File.ReadAllText(signingPath)); }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new InvalidOperationException($"OpenVret:AuditSigningKeyFile = '{signingPath}': not a PEM ECDSA private key ({e.Message})");
        }
        if (signer.KeySize != 256)
            throw new InvalidOperationException($"OpenVret:AuditSigningKeyFile = '{signingPath}': an ECDSA P-256 key is needed, this one has {signer.KeySize} bits");
        // The public key beside the private one, for offline verifiers (openvret audit verify --public-key).
        string pub = Path.Combine(Path.GetDirectoryName(signingPath)!, PublicKeyFileName);
        string pem = signer.ExportSubjectPublicKeyInfoPem() + "\n";
        if (!File.Exists(pub) || File.ReadAllText(pub) != pem) WriteAtomically(pub, pem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, overwrite: true);
        return new AuditKeys(link, signer, null);
    }

    public static byte[] ReadLinkKeyFile(string path, string field)
    {
        byte[] key;
        try { key = Convert.FromBase64String(File.ReadAllText(path).Trim()); }
        catch (FormatException) { throw new InvalidOperationException($"{field} = '{path}': not a base64 key"); }
        if (key.Length < MinLinkKeyBytes) throw new InvalidOperationException($"{field} = '{path}': the key has {key.Length} bytes, at least {MinLinkKeyBytes} are needed");
        return key;
    }

    public static ECDsa ReadPublicKey(string path, string field)
    {
        var k = ECDsa.Create();
        try { k.ImportFromPem(File.ReadAllText(path)); }
        catch (Exception e) when (e is ArgumentException or CryptographicException) { throw new InvalidOperationException($"{field} = '{path}': not a PEM ECDSA public key ({e.Message})"); }
        return k;
    }

    /// <summary>Writes the file unless it exists (mode 0600); several processes starting at once agree on one file. True when this call created it.</summary>
    private static bool CreateOnce(string path, Func<string> content)
    {
        if (File.Exists(path)) return false;
        return WriteAtomically(path, content(), UnixFileMode.UserRead | UnixFileMode.UserWrite, overwrite: false);
    }

    private static bool WriteAtomically(string path, string content, UnixFileMode mode, bool overwrite)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using (var f = new FileStream(temp, options))
        {
            f.Write(Encoding.UTF8.GetBytes(content));
            f.Flush(flushToDisk: true);
        }
        try { File.Move(temp, path, overwrite); return true; }
        catch (IOException) when (!overwrite && File.Exists(path)) { File.Delete(temp); return false; }   // another process was first
    }

    public void Dispose() { Signer?.Dispose(); if (!ReferenceEquals(Verifier, Signer)) Verifier?.Dispose(); }
}
