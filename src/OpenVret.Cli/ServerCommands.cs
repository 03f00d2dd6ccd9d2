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
        var data = new Option<DirectoryInfo?>("--data") { Description = "the server's data folder (SQLite store), default ./data" };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string instead of the SQLite store" };
        var verify = new Command("verify", "Check the hash chain of the audit trail; exit code 0 = intact, 1 = tampered (first bad entry printed), 2 = could not check");
        verify.Options.Add(data);
        verify.Options.Add(postgres);
        verify.SetAction(parse => Verify(parse.GetValue(data)?.FullName, parse.GetValue(postgres), Console.Out));
        var cmd = new Command("audit", "The append-only audit trail");
        cmd.Subcommands.Add(verify);
        return cmd;
    }

    public static int Verify(string? dataFolder, string? postgres, TextWriter output)
    {
        var options = new ServerOptions { DataFolder = dataFolder ?? Path.GetFullPath("data"), PostgresConnection = postgres };
        if (postgres is null && !File.Exists(Path.Combine(options.DataFolder, "openvret.db")))
        {
            Console.Error.WriteLine($"error: data = '{options.DataFolder}': no openvret.db there (use --data with the server's data folder)");
            return 2;
        }
        try
        {
            var db = new DbFactory(options);
            using var ctx = db.Create();
            var result = AuditChain.VerifyAsync(ctx).GetAwaiter().GetResult();
            output.WriteLine($"{db.Description}: {result.Message}");
            return result.Intact ? 0 : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: could not read the audit trail: {e.GetBaseException().Message}");
            return 2;
        }
    }
}
