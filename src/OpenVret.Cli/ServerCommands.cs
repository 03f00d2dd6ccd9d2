using System.CommandLine;
using OpenVret.Server;
using OpenVret.Server.Audit;
using OpenVret.Server.Data;

namespace OpenVret.Cli;

/// <summary><c>openvret serve</c> (the session server) and <c>openvret audit verify</c> (tamper check of the audit trail).</summary>
public static class ServerCommands
{
    public static Command Serve()
    {
        var cmd = new Command("serve", "Run the session server (same as `dotnet run --project src/OpenVret.Server`); extra arguments go to the server, e.g. --OpenVret:DataFolder=/var/lib/openvret --urls=http://0.0.0.0:5080")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        cmd.SetAction(parse =>
        {
            ServerApp.Build(parse.UnmatchedTokens.ToArray()).Run();
            return 0;
        });
        return cmd;
    }

    public static Command Audit()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "the server's data folder (SQLite store, keys/ and audit-checkpoints/ by default), default ./data" };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string instead of the SQLite store" };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "the link key file (default <data>/keys/audit-link.key; or the key itself in OPENVRET__AUDITKEY)" };
        var publicKey = new Option<FileInfo?>("--public-key") { Description = "the checkpoints' public key, PEM (default <data>/keys/audit-signing.pub.pem)" };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "checkpoint file, or folder of *.jsonl checkpoint files (default <data>/audit-checkpoints)" };
        var verify = new Command("verify", "Check the audit trail: keyed hash chain and signed checkpoints; exit code 0 = intact, 1 = tampered (first bad entry or checkpoint printed), 2 = could not check");
        foreach (var o in new Option[] { data, postgres, keyFile, publicKey, checkpoints }) verify.Options.Add(o);
        verify.SetAction(parse => Verify(parse.GetValue(data)?.FullName, parse.GetValue(postgres), Console.Out,
            parse.GetValue(keyFile)?.FullName, parse.GetValue(publicKey)?.FullName, parse.GetValue(checkpoints)));
        var cmd = new Command("audit", "The append-only audit trail");
        cmd.Subcommands.Add(verify);
        return cmd;
    }

    /// <summary><c>openvret audit verify</c>: 0 = intact, 1 = tampered, 2 = could not check (store, key or public key missing).</summary>
    public static int Verify(string? dataFolder, string? postgres, TextWriter output, string? keyFile = null, string? publicKey = null, string? checkpoints = null)
    {
        var options = new ServerOptions { DataFolder = dataFolder ?? Path.GetFullPath("data"), PostgresConnection = postgres };
        if (postgres is null && !File.Exists(Path.Combine(options.DataFolder, "openvret.db")))
        {
            Console.Error.WriteLine($"error: data = '{options.DataFolder}': no openvret.db there (use --data with the server's data folder)");
            return 2;
        }
        string keys = AuditKeys.KeysFolder(options);
        string checkpointPath = checkpoints is null ? AuditCheckpointFiles.Folder(options) : Path.GetFullPath(checkpoints);
        byte[]? link = null;
        System.Security.Cryptography.ECDsa? pub = null;
        try
        {
            string? envKey = Environment.GetEnvironmentVariable("OPENVRET__AUDITKEY") ?? Environment.GetEnvironmentVariable("OpenVret__AuditKey");
            string linkPath = keyFile ?? Path.Combine(keys, AuditKeys.LinkKeyFileName);
            if (keyFile is null && !string.IsNullOrEmpty(envKey))
            {
                if (envKey.Length < AuditKeys.MinLinkKeyBytes) { Console.Error.WriteLine($"error: OPENVRET__AUDITKEY ({envKey.Length} characters): at least {AuditKeys.MinLinkKeyBytes} are needed"); return 2; }
                link = System.Text.Encoding.UTF8.GetBytes(envKey);
            }
            else if (File.Exists(linkPath)) link = AuditKeys.ReadLinkKeyFile(linkPath, "key-file");
            else if (keyFile is not null) { Console.Error.WriteLine($"error: key-file = '{keyFile}': no such file"); return 2; }
            string pubPath = publicKey ?? Path.Combine(keys, AuditKeys.PublicKeyFileName);
            if (File.Exists(pubPath)) pub = AuditKeys.ReadPublicKey(pubPath, "public-key");
            else if (publicKey is not null) { Console.Error.WriteLine($"error: public-key = '{publicKey}': no such file"); return 2; }
        }
        catch (InvalidOperationException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
        try
        {
            var db = new DbFactory(options);
            using var ctx = db.Create();
            var result = AuditChain.VerifyAsync(ctx, new AuditChain.Verifier(link, pub, checkpointPath)).GetAwaiter().GetResult();
            (result.Checked ? output : Console.Error).WriteLine($"{db.Description}: {result.Message}");
            return !result.Checked ? 2 : result.Intact ? 0 : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: could not read the audit trail: {e.GetBaseException().Message}");
            return 2;
        }
        finally { pub?.Dispose(); }
    }
}
