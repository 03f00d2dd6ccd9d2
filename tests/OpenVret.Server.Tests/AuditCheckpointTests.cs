using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OpenVret.Server.Audit;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// The signed checkpoints outside the table: tampering with their file (edit, cut, lines removed, re-signed with
/// another key, removed altogether) is reported; a key that is missing makes the check impossible (exit 2), not
/// "intact"; an older store's plain SHA-256 chain is sealed as a legacy prefix and keeps verifying.
/// </summary>
public class AuditCheckpointTests
{
    private static async Task<TestServer> Filled(int n)
    {
        var s = await TestServer.StartAsync(null, new() { ["OpenVret:AuditCheckpointSeconds"] = "0" });
        var store = s.Services.GetRequiredService<StoreWriter>();
        await Task.WhenAll(Enumerable.Range(1, n).Select(i => store.Audit("user:7", "probe", null, $"entry {i}")));
        await store.Seal!.FlushAsync();
        return s;
    }

    private static string CheckpointFile(TestServer s) => AuditCheckpointFiles.FileOf(s.Services.GetRequiredService<ServerOptions>());

    private static (int Code, string Output) Cli(TestServer s, string? keyFile = null, string? publicKey = null)
    {
        var output = new StringWriter();
        int code = OpenVret.Cli.ServerCommands.Verify(s.DataFolder, null, output, keyFile, publicKey);
        return (code, output.ToString());
    }

    private static async Task AssertTampered(TestServer s, TestServer.Therapist t, string named)
    {
        var (code, output) = Cli(s);
        Assert.True(code == 1, $"exit code {code}: {output}");
        Assert.Contains(named, output);
        var api = await t.Http.GetFromJsonAsync<JsonElement>("/api/audit/verify");
        Assert.False(api.GetProperty("intact").GetBoolean(), api.ToString());
        Assert.Contains(named, api.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_edited_checkpoint_is_detected()
    {
        await using var s = await Filled(10);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        var lines = File.ReadAllLines(CheckpointFile(s));
        var c = JsonSerializer.Deserialize<AuditCheckpoint>(lines[^1])!;
        lines[^1] = (c with { Count = c.Count - 1 }).ToLine();   // claims fewer entries, to cover a truncation
        File.WriteAllLines(CheckpointFile(s), lines);
        await AssertTampered(s, t, $"checkpoints.jsonl:{lines.Length}");
    }

    [Fact]
    public async Task A_checkpoint_file_cut_in_a_line_is_detected()
    {
        await using var s = await Filled(10);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        var bytes = File.ReadAllBytes(CheckpointFile(s));
        int cutLine = File.ReadAllLines(CheckpointFile(s)).Length;
        File.WriteAllBytes(CheckpointFile(s), bytes[..^40]);
        var (code, output) = Cli(s);
        Assert.True(code == 1, output);
        Assert.Contains("incomplete", output);
        await AssertTampered(s, t, $"checkpoints.jsonl:{cutLine}");
    }

    [Fact]
    public async Task A_checkpoint_removed_from_the_middle_of_its_file_is_detected()
    {
        await using var s = await Filled(5);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        var store = s.Services.GetRequiredService<StoreWriter>();
        for (int i = 0; i < 3; i++) { await store.Audit("user:7", "probe", null, $"more {i}"); await store.Seal!.FlushAsync(); }
        var lines = File.ReadAllLines(CheckpointFile(s)).ToList();
        Assert.True(lines.Count >= 4);
        lines.RemoveAt(1);
        File.WriteAllLines(CheckpointFile(s), lines);
        await AssertTampered(s, t, "checkpoints.jsonl:2");
    }

    [Fact]
    public async Task A_checkpoint_resigned_with_another_key_is_detected()
    {
        await using var s = await Filled(10);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var lines = File.ReadAllLines(CheckpointFile(s));
        var c = JsonSerializer.Deserialize<AuditCheckpoint>(lines[^1])!;
        // With the other key's own id, and pretending to be the server's key.
        lines[^1] = AuditCheckpoint.Sign(other, AuditKeys.KeyIdOf(other), c.Ordinal, c.Count - 3, "h1:forged", c.At, c.Legacy, c.Previous).ToLine();
        File.WriteAllLines(CheckpointFile(s), lines);
        await AssertTampered(s, t, "signature does not verify");
        lines[^1] = AuditCheckpoint.Sign(other, c.Key, c.Ordinal, c.Count - 3, "h1:forged", c.At, c.Legacy, c.Previous).ToLine();
        File.WriteAllLines(CheckpointFile(s), lines);
        await AssertTampered(s, t, "signature does not verify");
    }

    [Fact]
    public async Task A_server_restarted_on_a_truncated_trail_says_so_at_start_up()
    {
        await using var s = await Filled(10);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            long count = await ctx.Audit.CountAsync();
            await ctx.Audit.Where(a => a.Sequence > count - 3).ExecuteDeleteAsync();
        }
        await s.RestartAsync();
        var problem = s.Services.GetRequiredService<StoreWriter>().Seal!.StartupProblem;
        Assert.NotNull(problem);
        Assert.Contains("does not extend this node's last checkpoint", problem);
        var t = await s.LoginAsync();
        await AssertTampered(s, t, "checkpoint");
    }

    [Fact]
    public async Task Truncating_deleting_the_checkpoints_and_restarting_is_still_detected()
    {
        // An outside probe: truncate the table, delete the checkpoint file, restart: the server sealed the truncated
        // trail anew and verify said "intact".
        await using var s = await Filled(10);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            long count = await ctx.Audit.CountAsync();
            await ctx.Audit.Where(a => a.Sequence > count - 3).ExecuteDeleteAsync();
        }
        string file = CheckpointFile(s);
        await s.StopAsync();
        File.Delete(file);
        await s.StartAgainAsync();
        var problem = s.Services.GetRequiredService<StoreWriter>().Seal!.StartupProblem;
        Assert.NotNull(problem);
        Assert.Contains("no checkpoint file", problem);
        var t = await s.LoginAsync();
        await AssertTampered(s, t, "earliest checkpoint");
    }

    [Fact]
    public async Task An_intact_trail_restarts_without_a_start_up_problem()
    {
        await using var s = await Filled(10);
        await s.RestartAsync();
        Assert.Null(s.Services.GetRequiredService<StoreWriter>().Seal!.StartupProblem);
    }

    [Fact]
    public async Task Removing_all_checkpoints_is_detected()
    {
        await using var s = await Filled(10);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        File.Delete(CheckpointFile(s));
        await AssertTampered(s, t, "checkpoint");
    }

    [Fact]
    public async Task Removing_every_entry_and_every_checkpoint_is_detected()
    {
        await using var s = await Filled(10);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create()) await ctx.Audit.ExecuteDeleteAsync();
        File.WriteAllText(CheckpointFile(s), "");
        await AssertTampered(s, t, "no checkpoint");
        File.Delete(CheckpointFile(s));
        await AssertTampered(s, t, "no checkpoint");
    }

    [Fact]
    public async Task Without_the_link_key_or_the_public_key_the_check_cannot_be_made()
    {
        await using var s = await Filled(3);
        var t = await s.LoginAsync();
        await s.Services.GetRequiredService<StoreWriter>().Seal!.FlushAsync();
        var keys = AuditKeys.KeysFolder(s.Services.GetRequiredService<ServerOptions>());
        Assert.Equal(2, Cli(s, keyFile: Path.Combine(s.DataFolder, "no-such.key")).Code);
        Assert.Equal(2, Cli(s, publicKey: Path.Combine(s.DataFolder, "no-such.pem")).Code);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(keys, AuditKeys.LinkKeyFileName)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(keys, AuditKeys.SigningKeyFileName)));
        }
        File.Move(Path.Combine(keys, AuditKeys.LinkKeyFileName), Path.Combine(s.DataFolder, "moved.key"));
        var (code, _) = Cli(s);
        Assert.Equal(2, code);
        Assert.Equal(0, Cli(s, keyFile: Path.Combine(s.DataFolder, "moved.key")).Code);
    }

    /// <summary>A clock the test moves: entries far apart in time without waiting.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Checkpoints_removed_from_the_end_are_detected_once_entries_outlive_them()
    {
        var folder = Path.Combine(Path.GetTempPath(), "openvret-audit-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var options = new ServerOptions { DataFolder = folder };
            var db = new DbFactory(options);
            await db.MigrateAsync();
            var clock = new ManualClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
            using var keys = AuditKeys.LoadOrCreate(options);
            var verifier = new AuditChain.Verifier(keys.LinkKey, keys.Verifier, AuditCheckpointFiles.Folder(options));
            string file = AuditCheckpointFiles.FileOf(options);
            await using (var w = new StoreWriter(db, clock, NullLogger<StoreWriter>.Instance, default, new AuditSeal(keys, file, clock, TimeSpan.Zero)))
            {
                for (int minute = 0; minute < 5; minute++)
                {
                    clock.Now = clock.Now.AddMinutes(1);
                    await w.Audit("user:7", "probe", null, $"minute {minute}");
                    await w.Seal!.FlushAsync();
                }
            }
            await using var ctx = db.Create();
            Assert.True((await AuditChain.VerifyAsync(ctx, verifier)).Intact);
            // The newest checkpoints go; the entries they covered stay, and they are minutes apart.
            var lines = File.ReadAllLines(file);
            File.WriteAllLines(file, lines[..^3]);
            var v = await AuditChain.VerifyAsync(ctx, verifier);
            Assert.False(v.Intact, v.Message);
            Assert.Contains("newer checkpoints were removed", v.Message);
            Assert.NotNull(v.BadCheckpoint);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task An_older_plain_SHA256_store_is_sealed_as_a_legacy_prefix_and_keeps_verifying()
    {
        // An older server (plain SHA-256 links, no keys, no checkpoints) wrote the store.
        var s = await TestServer.StartAsync(null, new() { ["OpenVret:AuditCheckpointSeconds"] = "0" });
        await using (s)
        {
            var options = s.Services.GetRequiredService<ServerOptions>();
            var db = s.Services.GetRequiredService<DbFactory>();
            await using (var ctx = db.Create()) await ctx.Audit.ExecuteDeleteAsync();
            Directory.Delete(AuditCheckpointFiles.Folder(options), true);
            await using (var old = new StoreWriter(db, TimeProvider.System, NullLogger<StoreWriter>.Instance))
                await Task.WhenAll(Enumerable.Range(1, 8).Select(i => old.Audit("user:7", "legacy", null, $"old {i}")));
            await s.RestartAsync();   // the new server seals the legacy prefix at start-up, then writes keyed links
            var t = await s.LoginAsync();
            var store = s.Services.GetRequiredService<StoreWriter>();
            Assert.Equal(8, store.Seal!.Legacy);
            await store.Audit("user:7", "probe", null, "new");
            await store.Seal.FlushAsync();
            var (code, output) = Cli(s);
            Assert.True(code == 0, output);
            await using (var ctx = db.Create())
            {
                Assert.StartsWith(AuditChain.KeyedPrefix, (await ctx.Audit.OrderByDescending(a => a.Sequence).FirstAsync()).Hash);
                Assert.DoesNotContain(await ctx.Audit.Where(a => a.Sequence <= 8).Select(a => a.Hash).ToListAsync(), h => h.StartsWith(AuditChain.KeyedPrefix));
                // Rewriting the legacy prefix with valid SHA-256 links breaks the seal.
                var rows = await ctx.Audit.OrderBy(a => a.Sequence).ToListAsync();
                rows[2].Detail = "edited";
                string previous = rows[1].Hash;
                foreach (var e in rows.Where(r => r.Sequence >= 3 && r.Sequence <= 8))
                {
                    e.PreviousHash = previous;
                    e.Hash = AuditChain.LegacyHashOf(e);
                    previous = e.Hash;
                }
                await ctx.SaveChangesAsync();
            }
            await AssertTampered(s, t, "entry 9");   // entry 9's link no longer matches the rewritten 8
        }
    }
}
