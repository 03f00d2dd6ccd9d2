using OpenVret.Exposure.Rules;
using Xunit;

namespace OpenVret.Exposure.Tests;

public sealed class RuleFileTests
{
    [Fact]
    public void TheDefaultRuleSetLoadsWithoutConflicts()
    {
        var rules = RuleSet.Default();
        Assert.True(rules.Rules.Count >= 4);
        Assert.Empty(rules.FindConflicts());
        Assert.All(rules.Rules, r => Assert.Contains("(", r.Explain)); // every explanation cites its source
    }

    [Theory]
    [InlineData("""
        {
          "rules": [
            { "id": "a", "priority": 10, "when": [ { "field": "sud", "op": ">", "value": 3 } ], "then": "vary", "explain": "x" }
          ]
        }
        """, 3, "rules[0].when[0].field = sud")]
    [InlineData("""
        {
          "rules": [
            { "id": "a", "priority": 10,
              "when": [ { "field": "suds", "op": "=>", "value": 3 } ], "then": "vary", "explain": "x" }
          ]
        }
        """, 4, "rules[0].when[0].op = =>")]
    [InlineData("""
        { "rules": [
            { "id": "a", "priority": 10, "when": [ { "field": "suds", "op": ">", "value": 3 } ],
              "then": "jump", "explain": "x" } ] }
        """, 3, "rules[0].then = jump")]
    [InlineData("""
        { "rules": [
            { "id": "a", "priority": 10, "when": [ { "field": "suds", "op": ">", "value": 3 } ], "then": "vary", "explain": "x" },
            { "id": "a", "priority": 20, "when": [ { "field": "suds", "op": ">", "value": 3 } ], "then": "vary", "explain": "x" } ] }
        """, 3, "duplicate rule id (first on line 2)")]
    [InlineData("""
        { "rules": [
            { "id": "a", "priority": 10, "when": [ { "field": "suds", "op": ">", "value": "high" } ], "then": "vary", "explain": "x" } ] }
        """, 2, "rules[0].when[0].value = \"high\"")]
    [InlineData("""
        { "rules": [
            { "id": "a", "priority": 10, "when": [ { "field": "suds", "op": ">", "value": 3 } ], "then": "vary", "explain": "SUDS {sudz}" } ] }
        """, 2, "rules[0].explain = {sudz}")]
    [InlineData("""
        { "rules": [
            { "id": "a", "priority": 10 "when": [] } ] }
        """, 2, "invalid JSON")]
    [InlineData("""
        { "rules": [
            { "id": "a", "priority": 10, "when": [ { "field": "suds", "op": ">", "value": 3 } ], "then": "vary", "explain": "x", "colour": "red" } ] }
        """, 2, "rules[0].colour")]
    public void InvalidRuleFilesGivePreciseErrors(string text, int line, string expected)
    {
        var e = Assert.Throws<ExposureInputException>(() => RuleSet.Parse(text, "test.json"));
        Assert.Equal(line, e.Line);
        Assert.Contains(expected, e.Message);
        Assert.StartsWith($"line {line}:", e.Message);
    }

    [Fact]
    public void ConflictingRulesAreDetected()
    {
        var e = Assert.Throws<ExposureInputException>(() => RuleSet.Parse("""
            { "rules": [
                { "id": "up", "priority": 50, "when": [ { "field": "suds", "op": "<", "value": 30 } ], "then": "step_up", "explain": "low" },
                { "id": "down", "priority": 50, "when": [ { "field": "suds", "op": "<=", "value": 40 }, { "field": "trial_count", "op": ">", "value": 2 } ], "then": "step_down", "explain": "odd" }
            ] }
            """, "c.json"));
        Assert.Contains("'up' (line 2) and 'down' (line 3)", e.Message);
        // Exclusive conditions at the same priority are fine.
        RuleSet.Parse("""
            { "rules": [
                { "id": "up", "priority": 50, "when": [ { "field": "suds", "op": "<", "value": 30 } ], "then": "step_up", "explain": "low" },
                { "id": "down", "priority": 50, "when": [ { "field": "suds", "op": ">=", "value": 30 } ], "then": "step_down", "explain": "high" }
            ] }
            """, "ok.json");
    }

    [Fact]
    public void RulesFireByPriorityAndFillTheirExplanation()
    {
        var set = RuleSet.Parse("""
            // comments are allowed
            { "rules": [
                { "id": "low", "priority": 10, "when": [ { "field": "suds", "op": ">=", "value": 0 } ], "then": "vary", "explain": "any {suds}" },
                { "id": "high", "priority": 90, "when": [ { "field": "suds", "op": ">=", "value": 70 } ], "then": "step_down", "explain": "SUDS {suds} is high" }
            ] }
            """, "p.json");
        var values = new Dictionary<string, double> { ["suds"] = 75 };
        var r = set.FirstFiring(values)!;
        Assert.Equal("high", r.Id);
        Assert.Equal("SUDS 75 is high", r.Explanation(values));
        Assert.Null(set.FirstFiring(new Dictionary<string, double>())); // no data, no rule
    }
}
