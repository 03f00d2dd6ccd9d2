using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenVret.Server.Data;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>
/// The outside probe's tampering, done as an attacker who can write the database but has no key: each must be
/// reported by GET /api/audit/verify (intact = false) and by `openvret audit verify` (exit code 1), naming the
/// first bad entry or checkpoint. Only the server's public surface is used here (the same calls ran against the
/// plain SHA-256 chain, which let every one of them pass).
/// </summary>
public class AuditTamperTests
{
    private static Task<TestServer> Start(string? postgres = null) =>
        TestServer.StartAsync(postgres, new() { ["OpenVret:AuditCheckpointSeconds"] = "0" });

    /// <summary>The attacker's tool: the plain SHA-256 link (the formula is public).</summary>
    private static string Sha(AuditEntry e)
    {
        var sb = new StringBuilder();
        void Field(string s) => sb.Append(s.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(s).Append('|');
        Field(e.PreviousHash); Field(e.Sequence.ToString(CultureInfo.InvariantCulture)); Field(e.At.UtcTicks.ToString(CultureInfo.InvariantCulture));
        Field(e.Actor); Field(e.Action); Field(e.SessionId ?? ""); Field(e.Detail);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>Recomputes every link from <paramref name="from"/> on with plain SHA-256, as an attacker without the key can.</summary>
    private static async Task Rechain(SessionDb ctx, long from)
    {
        var rows = await ctx.Audit.OrderBy(a => a.Sequence).ToListAsync();
        string previous = new('0', 64);
        foreach (var e in rows)
        {
            if (e.Sequence >= from) { e.PreviousHash = previous; e.Hash = Sha(e); }
            previous = e.Hash;
        }
        await ctx.SaveChangesAsync();
    }

    private static async Task<long> Fill(TestServer s, int n)
    {
        var store = s.Services.GetRequiredService<StoreWriter>();
        await Task.WhenAll(Enumerable.Range(1, n).Select(i => store.Audit("user:7", "probe", null, $"entry {i}")));
        await using var ctx = s.Services.GetRequiredService<DbFactory>().Create();
        long count = await ctx.Audit.CountAsync();
        await WaitForCheckpoint(s, count);
        return count;
    }

    /// <summary>The server checkpoints beside its writer: wait (with a deadline) until a checkpoint covers <paramref name="count"/> entries.</summary>
    public static async Task WaitForCheckpoint(TestServer s, long count)
    {
        var file = Path.Combine(s.DataFolder, "audit-checkpoints", "checkpoints.jsonl");
        for (var until = DateTime.UtcNow.AddSeconds(5); DateTime.UtcNow < until; await Task.Delay(20))
        {
            if (!File.Exists(file)) continue;
            var last = File.ReadAllLines(file).LastOrDefault(l => l.Length > 0);
            if (last is not null && JsonDocument.Parse(last).RootElement.GetProperty("count").GetInt64() >= count) return;
        }
    }

    private static Task<JsonElement> Api(TestServer.Therapist t) => t.Http.GetFromJsonAsync<JsonElement>("/api/audit/verify");

    private static (int Code, string Output) Cli(TestServer s)
    {
        var output = new StringWriter();
        int code = OpenVret.Cli.ServerCommands.Verify(s.DataFolder, s.Postgres, output);
        return (code, output.ToString());
    }

    /// <summary>Both checks report tampering and name <paramref name="named"/> (an entry or a checkpoint).</summary>
    private static async Task AssertTampered(TestServer s, TestServer.Therapist t, string named)
    {
        var (code, output) = Cli(s);
        Assert.True(code == 1, $"exit code {code}: {output}");
        Assert.Contains(named, output);
        var api = await Api(t);
        Assert.False(api.GetProperty("intact").GetBoolean(), api.ToString());
        Assert.Contains(named, api.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_intact_store_verifies_and_names_its_checkpoints()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        long count = await Fill(s, 10);
        var (code, output) = Cli(s);
        Assert.True(code == 0, output);
        Assert.Contains("chain intact", output);
        var api = await Api(t);
        Assert.True(api.GetProperty("intact").GetBoolean(), api.ToString());
        Assert.True(api.GetProperty("checkpoints").GetInt64() >= 1, api.ToString());
        Assert.True(api.GetProperty("entries").GetInt64() >= count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(-1)]   // all
    public async Task Deleting_the_newest_entries_is_detected(int n)
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        long count = await Fill(s, 60);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
            await ctx.Audit.Where(a => n < 0 || a.Sequence > count - n).ExecuteDeleteAsync();
        await AssertTampered(s, t, "checkpoint");
    }

    [Fact]
    public async Task Editing_an_entry_and_rechaining_with_plain_SHA256_is_detected()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        await Fill(s, 20);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            var victim = await ctx.Audit.SingleAsync(a => a.Sequence == 5);
            victim.Detail = "nothing happened";
            await ctx.SaveChangesAsync();
            await Rechain(ctx, 5);
        }
        await AssertTampered(s, t, "entry 5");
    }

    [Fact]
    public async Task Setting_a_missing_session_id_to_an_empty_one_is_detected()
    {
        // An outside probe: NULL -> '' in SessionId passed verification (both hashed as an empty field).
        await using var s = await Start();
        var t = await s.LoginAsync();
        await Fill(s, 20);
        long victim;
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            victim = await ctx.Audit.Where(a => a.SessionId == null && a.Hash.StartsWith("h1:")).Select(a => a.Sequence).FirstAsync();
            await ctx.Audit.Where(a => a.Sequence == victim).ExecuteUpdateAsync(u => u.SetProperty(a => a.SessionId, ""));
        }
        await AssertTampered(s, t, $"entry {victim}");
    }

    [Fact]
    public async Task Editing_an_entry_and_rechaining_with_the_keyed_prefix_but_no_key_is_detected()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        await Fill(s, 20);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            var rows = await ctx.Audit.OrderBy(a => a.Sequence).ToListAsync();
            string previous = rows[5].PreviousHash;
            foreach (var e in rows.Skip(5))
            {
                if (e.Sequence == 6) e.Actor = "user:1";
                e.PreviousHash = previous;
                e.Hash = "h1:" + Sha(e);   // looks like a keyed link, is not one
                previous = e.Hash;
            }
            await ctx.SaveChangesAsync();
        }
        await AssertTampered(s, t, "entry 6");
    }

    [Fact]
    public async Task A_forged_entry_appended_to_the_chain_is_detected()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        long count = await Fill(s, 5);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            var head = await ctx.Audit.OrderByDescending(a => a.Sequence).FirstAsync();
            var forged = new AuditEntry { Sequence = head.Sequence + 1, At = head.At.AddSeconds(1), Actor = "user:1", Action = "data_export", Detail = "nothing", PreviousHash = head.Hash, Hash = "" };
            forged.Hash = Sha(forged);
            ctx.Audit.Add(forged);
            await ctx.SaveChangesAsync();
        }
        await AssertTampered(s, t, $"entry {count + 1}");
    }

    [Fact]
    public async Task Reordering_entries_and_rechaining_is_detected()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        await Fill(s, 10);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            var a = await ctx.Audit.SingleAsync(x => x.Sequence == 3);
            var b = await ctx.Audit.SingleAsync(x => x.Sequence == 4);
            (a.At, a.Actor, a.Action, a.SessionId, a.Detail, b.At, b.Actor, b.Action, b.SessionId, b.Detail) =
                (b.At, b.Actor, b.Action, b.SessionId, b.Detail, a.At, a.Actor, a.Action, a.SessionId, a.Detail);
            await ctx.SaveChangesAsync();
            await Rechain(ctx, 3);
        }
        await AssertTampered(s, t, "entry 3");
    }

    [Fact]
    public async Task Deleting_a_middle_entry_and_renumbering_the_rest_is_detected()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        await Fill(s, 10);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            await ctx.Audit.Where(a => a.Sequence == 4).ExecuteDeleteAsync();
            await ctx.Database.ExecuteSqlRawAsync("UPDATE \"Audit\" SET \"Sequence\" = -(\"Sequence\" - 1) WHERE \"Sequence\" > 4");
            await ctx.Database.ExecuteSqlRawAsync("UPDATE \"Audit\" SET \"Sequence\" = -\"Sequence\" WHERE \"Sequence\" < 0");
            ctx.ChangeTracker.Clear();
            await Rechain(ctx, 4);
        }
        await AssertTampered(s, t, "entry 4");
    }

    [Fact]
    public async Task A_restart_keeps_verifying_and_truncation_across_it_is_detected()
    {
        await using var s = await Start();
        var t = await s.LoginAsync();
        await Fill(s, 10);
        await s.RestartAsync();
        t = await s.LoginAsync();   // a new process: a new session cookie
        long count = await Fill(s, 10);
        var (code, output) = Cli(s);
        Assert.True(code == 0, output);
        var api = await Api(t);
        Assert.True(api.GetProperty("intact").GetBoolean(), api.ToString());
        Assert.True(api.GetProperty("checkpoints").GetInt64() >= 2, api.ToString());
        // The last entry written before the restart, and everything after it, removed.
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
            await ctx.Audit.Where(a => a.Sequence > count - 12).ExecuteDeleteAsync();
        await AssertTampered(s, t, "checkpoint");
    }

    [PostgresFact]
    public async Task On_PostgreSQL_truncation_and_rechaining_are_detected()
    {
        await using var s = await Start(await TestPostgres.NewDatabaseAsync());
        var t = await s.LoginAsync();
        long count = await Fill(s, 20);
        Assert.Equal(0, Cli(s).Code);
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
        {
            var victim = await ctx.Audit.SingleAsync(a => a.Sequence == 7);
            victim.Detail = "edited";
            await ctx.SaveChangesAsync();
            await Rechain(ctx, 7);
        }
        await AssertTampered(s, t, "entry 7");
        await using (var ctx = s.Services.GetRequiredService<DbFactory>().Create())
            await ctx.Audit.Where(a => a.Sequence >= 7).ExecuteDeleteAsync();
        await AssertTampered(s, t, "checkpoint");
    }
}
