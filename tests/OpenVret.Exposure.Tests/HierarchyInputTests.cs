using Xunit;

namespace OpenVret.Exposure.Tests;

/// <summary>
/// A hierarchy is clinical input: every value is type-checked and range-checked at parse time, and the error
/// names the field path and the value (never an InvalidOperationException from the JSON reader).
/// </summary>
public sealed class HierarchyInputTests
{
    private const string Item = """{ "id": "h1", "label": "2nd floor", "scenario": "heights", "parameters": { "floor_height_m": 6 }, "anticipatedSuds": 20 }""";

    private static string Hierarchy(string top = "", string item = Item) => $$"""{ "patient": "P-test" {{(top.Length > 0 ? ", " + top : "")}}, "items": [ {{item}} ] }""";

    private static ExposureInputException Refused(string json)
    {
        var e = Record.Exception(() => ExposureFiles.ParsePatient(json, "hierarchy"));
        Assert.NotNull(e);
        return Assert.IsType<ExposureInputException>(e);
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("100000")]
    [InlineData("89")]
    [InlineData("221")]
    public void HeartRateLimitOutsideItsRangeIsRefusedWithTheReason(string value)
    {
        var e = Refused(Hierarchy($"\"heartRateLimitBpm\": {value}"));
        Assert.Equal("heartRateLimitBpm", e.Field);
        Assert.Equal(value, e.Value);
        Assert.Contains("between 90 and 220 bpm", e.Message);
    }

    [Theory]
    [InlineData("150.5")]
    [InlineData("\"150\"")]
    [InlineData("null")]
    [InlineData("[150]")]
    [InlineData("1e400")]
    public void HeartRateLimitOfTheWrongKindIsRefused(string value)
    {
        var e = Refused(Hierarchy($"\"heartRateLimitBpm\": {value}"));
        Assert.Equal("heartRateLimitBpm", e.Field);
        Assert.Contains("whole number", e.Message);
    }

    [Theory]
    [InlineData("arousalCeiling", "0.3")]
    [InlineData("arousalCeiling", "1")]
    [InlineData("arousalCeilingSeconds", "0")]
    [InlineData("arousalCeilingSeconds", "100000")]
    [InlineData("sudsCeiling", "10")]
    [InlineData("sudsCeiling", "101")]
    [InlineData("avoidanceSeconds", "-1")]
    [InlineData("sensorSilenceSeconds", "600")]
    public void SafetySettingsOutsideTheirRangeAreRefusedWithTheReason(string key, string value)
    {
        var e = Refused(Hierarchy($"\"safety\": {{ \"{key}\": {value} }}"));
        Assert.Equal($"safety.{key}", e.Field);
        Assert.Equal(value, e.Value);
        Assert.Contains("between", e.Message);
    }

    [Theory]
    [InlineData("\"safety\": { \"sudsCeiling\": \"70\" }", "safety.sudsCeiling")]
    [InlineData("\"safety\": { \"sudsCieling\": 70 }", "safety.sudsCieling")]
    [InlineData("\"safety\": [70]", "safety")]
    [InlineData("\"heartRateLimitBPM\": 120", "heartRateLimitBPM")]
    public void SafetySettingsOfTheWrongKindOrNameAreRefused(string top, string field)
    {
        var e = Refused(Hierarchy(top));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void SafetySettingsWithinRangeAreKept()
    {
        var p = ExposureFiles.ParsePatient(Hierarchy("\"heartRateLimitBpm\": 120, \"safety\": { \"sudsCeiling\": 60, \"arousalCeiling\": 0.7 }"), "hierarchy");
        Assert.Equal(120, p.PersonalHeartRateLimitBpm);
        Assert.Equal(60, p.Safety.SudsCeiling);
        Assert.Equal(0.7, p.Safety.ArousalCeiling);
        Assert.Equal(15, p.Safety.ArousalCeilingSeconds);
    }

    [Theory]
    [InlineData("""{ "id": "h1", "label": 5, "scenario": "heights", "anticipatedSuds": 20 }""", "items[0].label", "5")]
    [InlineData("""{ "id": 7, "scenario": "heights", "anticipatedSuds": 20 }""", "items[0].id", "7")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "context": ["office"], "anticipatedSuds": 20 }""", "items[0].context", "[\"office\"]")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "context": { "room": 3 }, "anticipatedSuds": 20 }""", "items[0].context.room", "3")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "parameters": [1, 2], "anticipatedSuds": 20 }""", "items[0].parameters", "[1, 2]")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "anticipatedSuds": 20.5 }""", "items[0].anticipatedSuds", "20.5")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "anticipatedSuds": "20" }""", "items[0].anticipatedSuds", "\"20\"")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "anticipatedSuds": 1e12 }""", "items[0].anticipatedSuds", "1e12")]
    [InlineData("""{ "id": "h1", "scenario": "heights", "parameters": { "floor_height_m": 1e400 }, "anticipatedSuds": 20 }""", "items[0].parameters.floor_height_m", "1e400")]
    [InlineData("42", "items[0]", "42")]
    public void ItemValuesOfTheWrongKindNameTheFieldAndValue(string item, string field, string value)
    {
        var e = Refused(Hierarchy(item: item));
        Assert.Equal(field, e.Field);
        Assert.Equal(value, e.Value);
    }

    [Fact]
    public void OverlongLabelsAndTooManyItemsAreRefused()
    {
        var e = Refused(Hierarchy(item: $$"""{ "id": "h1", "label": "{{new string('x', 201)}}", "scenario": "heights", "anticipatedSuds": 20 }"""));
        Assert.Equal("items[0].label", e.Field);
        var many = string.Join(", ", Enumerable.Range(0, 101).Select(i => $$"""{ "id": "h{{i}}", "scenario": "heights", "anticipatedSuds": 20 }"""));
        e = Refused($$"""{ "patient": "P-test", "items": [ {{many}} ] }""");
        Assert.Equal("items", e.Field);
    }
}
