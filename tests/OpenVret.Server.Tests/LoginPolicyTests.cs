using Microsoft.Extensions.DependencyInjection;
using OpenVret.Exposure.Session;
using OpenVret.Server.Data;
using OpenVret.Server.Security;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>The password policy's rules one by one, and the login limits on a fake clock (docs/security.md).</summary>
public class LoginPolicyTests
{
    [Fact]
    public async Task A_login_ends_after_the_idle_limit_and_at_the_absolute_limit_however_active()
    {
        await using var s = await TestServer.StartAsync();
        var options = s.Services.GetRequiredService<ServerOptions>();   // defaults: 120 min idle, 12 h absolute
        var clock = new ManualTimeProvider(DateTimeOffset.Parse("2026-12-02T08:00:00Z"));
        var logins = new LoginSessions(s.Services.GetRequiredService<DbFactory>(), options, clock);

        var idle = await logins.CreateAsync(1);
        clock.Advance(TimeSpan.FromMinutes(119));
        Assert.True(await logins.ValidateAsync(idle));
        clock.Advance(TimeSpan.FromMinutes(121));
        Assert.False(await logins.ValidateAsync(idle));

        var busy = await logins.CreateAsync(1);
        var started = clock.GetUtcNow();
        while (clock.GetUtcNow() - started < TimeSpan.FromHours(12) - TimeSpan.FromMinutes(30))
        {
            Assert.True(await logins.ValidateAsync(busy));
            clock.Advance(TimeSpan.FromMinutes(30));
        }
        clock.Advance(TimeSpan.FromMinutes(31));
        Assert.False(await logins.ValidateAsync(busy));
    }

    [Theory]
    [InlineData("short-one", "at least 12")]
    [InlineData("dr-lee-is-my-name", "user name")]
    [InlineData("eel-rd-backwards-x", "user name")]
    [InlineData("aaaaaaaaaaaaaaa", "too simple")]
    [InlineData("abababababababab", "too simple")]
    [InlineData("xyzxyzxyzxyzxyz", "too simple")]
    [InlineData("abcdefghijklmn", "too simple")]
    [InlineData("horse-98765432", "too simple")]
    [InlineData("Password123!", "common")]
    [InlineData("P@ssw0rd2026!!", "common")]
    [InlineData("qwertyuiop1234", "common")]
    [InlineData("Iloveyou!!!!!!", "common")]
    [InlineData("!!Sunshine2025", "common")]
    [InlineData("Welcome-2026-", "common")]
    [InlineData("letmein letmein", "too simple")]
    [InlineData("trustno1trustno1", "too simple")]
    [InlineData("Football#12345", "common")]
    public void The_policy_refuses_weak_passwords(string password, string expected)
    {
        var why = PasswordPolicy.Check(password, "dr-lee");
        Assert.NotNull(why);
        Assert.Contains(expected, why);
        Assert.DoesNotContain(password, why);
    }

    [Theory]
    [InlineData("amber-otter-window-51")]
    [InlineData("correct horse battery")]
    [InlineData("Tv8#qLm2!zR4")]
    [InlineData("a-long-password-1")]
    public void The_policy_accepts_reasonable_passwords(string password) => Assert.Null(PasswordPolicy.Check(password, "dr-lee"));

    [Fact]
    public void The_policy_caps_the_length_and_ships_a_common_list()
    {
        Assert.Contains("at most 256", PasswordPolicy.Check(string.Concat(Enumerable.Repeat("amber-otter-window-51 ", 20)), "dr-lee"));
        Assert.Null(PasswordPolicy.Check(string.Join("-", Enumerable.Range(0, 80).Select(i => $"w{i * 7919 % 1000}"))[..256], "dr-lee"));
        Assert.True(PasswordPolicy.CommonCount >= 300, $"{PasswordPolicy.CommonCount} common passwords");
    }
}
