using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using OpenVret.Exposure;
using OpenVret.Exposure.Domain;
using OpenVret.Exposure.Session;
using OpenVret.Protocol;
using OpenVret.Server.Sessions;
using OpenVret.Server.Tests.Support;
using Xunit;

namespace OpenVret.Server.Tests;

/// <summary>One real server (SQLite) for the input-limit tests; uploads go to a folder of its own so a test can see what is left.</summary>
public sealed class InputServer : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    public TestServer.Therapist Therapist { get; private set; } = null!;
    public string UploadFolder { get; } = Path.Combine(Path.GetTempPath(), "openvret-test-uploads-" + Guid.NewGuid().ToString("N")[..10]);
    public const long MaxUnpacked = 8 * 1024 * 1024;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(UploadFolder);
        Server = await TestServer.StartAsync(settings: new()
        {
            ["OpenVret:UploadFolder"] = UploadFolder,
            ["OpenVret:ReplayMaxUnpackedBytes"] = MaxUnpacked.ToString(),
        });
        Therapist = await Server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(UploadFolder, true); } catch (IOException) { }
    }
}

/// <summary>
/// Items 4, 5, 6, 12 and 14 of the hardening issue: bad input is a 400 (or a rejected hub result) naming the field and
/// value, never a 500 or an unhandled hub exception; a patient's safety settings apply; uploads cannot fill the disk.
/// </summary>
public sealed class InputLimitsTests(InputServer fixture) : IClassFixture<InputServer>
{
    private TestServer S => fixture.Server;
    private HttpClient Http => fixture.Therapist.Http;

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage r, string field, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == status, $"expected {(int)status}, got {(int)r.StatusCode}: {body}");
        var p = JsonSerializer.Deserialize<JsonElement>(body);
        Assert.Equal(field, p.GetProperty("field").GetString());
        return p;
    }

    private static JsonObject Hierarchy() => JsonNode.Parse(JsonSerializer.Serialize(TestServer.DemoHierarchy))!.AsObject();
    private static string NewId() => "P-" + Guid.NewGuid().ToString("N")[..8];

    // ------------------------------------------------------------------------------------------- item 4 and 5: hierarchy

    [Theory]
    [InlineData("-5", "hierarchy.heartRateLimitBpm")]
    [InlineData("0", "hierarchy.heartRateLimitBpm")]
    [InlineData("100000", "hierarchy.heartRateLimitBpm")]
    [InlineData("150.5", "hierarchy.heartRateLimitBpm")]
    [InlineData("\"150\"", "hierarchy.heartRateLimitBpm")]
    public async Task A_heart_rate_limit_outside_its_range_or_of_the_wrong_type_is_a_400(string value, string field)
    {
        var h = Hierarchy();
        h["heartRateLimitBpm"] = JsonNode.Parse(value);
        var p = await ProblemAsync(await Http.PostAsJsonAsync("/api/patients", new { id = NewId(), site = "test", hierarchy = h }), field);
        Assert.Equal(value, p.GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("label", "5", "hierarchy.items[0].label")]
    [InlineData("context", "[\"office\"]", "hierarchy.items[0].context")]
    [InlineData("parameters", "\"high\"", "hierarchy.items[0].parameters")]
    [InlineData("anticipatedSuds", "\"20\"", "hierarchy.items[0].anticipatedSuds")]
    public async Task An_item_value_of_the_wrong_type_is_a_400_naming_its_path(string key, string value, string field)
    {
        var h = Hierarchy();
        h["items"]![0]![key] = JsonNode.Parse(value);
        await ProblemAsync(await Http.PostAsJsonAsync("/api/patients", new { id = NewId(), site = "test", hierarchy = h }), field);
    }

    // ------------------------------------------------------------------------------------------- item 14: lengths and numbers

    [Fact]
    public async Task Notes_and_site_are_limited()
    {
        var notes = await Http.PostAsJsonAsync("/api/patients", new { id = NewId(), site = "test", hierarchy = Hierarchy(), notes = new string('n', 5_000_000) });
        await ProblemAsync(notes, "notes");
        var longSite = await Http.PostAsJsonAsync("/api/patients", new { id = NewId(), site = new string('s', 100_000), hierarchy = Hierarchy() });
        var p = await ProblemAsync(longSite, "site");
        Assert.True(p.GetProperty("value").GetString()!.Length < 100, "the error does not echo 100,000 characters");
        await ProblemAsync(await Http.PostAsJsonAsync("/api/patients", new { id = NewId(), site = "<b>clinic</b>", hierarchy = Hierarchy() }), "site");
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsJsonAsync("/api/patients", new { id = NewId(), site = "test", hierarchy = Hierarchy(), notes = "fine" })).StatusCode);
    }

    [Theory]
    [InlineData(-5)]
    [InlineData(0)]
    [InlineData(1_000_000)]
    public async Task A_session_number_must_be_at_least_one_and_sane(int number)
    {
        string patient = NewId();
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsJsonAsync("/api/patients", new { id = patient, site = "test", hierarchy = Hierarchy() })).StatusCode);
        var r = await Http.PostAsJsonAsync("/api/sessions", new { patientId = patient, sessionNumber = number });
        var p = await ProblemAsync(r, "sessionNumber");
        Assert.Equal(number.ToString(), p.GetProperty("value").GetString());
    }

    // ------------------------------------------------------------------------------------------- item 5 and 6: replay upload

    private async Task<string> CreatedSessionAsync() => (await S.CreateSessionAsync(fixture.Therapist, mode: "manual", start: false)).SessionId;

    private static byte[] Csv(int rows = 600)
    {
        var sb = new StringBuilder("ECG,EDA\n");
        for (int i = 0; i < rows; i++) sb.Append((Math.Sin(i / 10.0)).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)).Append(",1.5\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private async Task<HttpResponseMessage> ReplayAsync(string session, byte[] file, string name, string? rate = null, string? speed = null)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(file), "file", name } };
        if (rate is not null) form.Add(new StringContent(rate), "rate");
        if (speed is not null) form.Add(new StringContent(speed), "speed");
        return await Http.PostAsync($"/api/sessions/{session}/replay", form);
    }

    [Theory]
    [InlineData("1e308")]
    [InlineData("0")]
    [InlineData("-250")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public async Task A_replay_rate_must_be_finite_and_sane_and_a_refusal_leaves_the_session_usable(string rate)
    {
        string session = await CreatedSessionAsync();
        var p = await ProblemAsync(await ReplayAsync(session, Csv(), "rec.csv", rate), "rate");
        var ic = System.Globalization.CultureInfo.InvariantCulture;
        Assert.Equal(double.Parse(rate, ic).ToString(ic), p.GetProperty("value").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync($"/api/sessions/{session}/start", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync($"/api/sessions/{session}/end", null)).StatusCode);
    }

    [Fact]
    public async Task A_replay_speed_other_than_max_or_realtime_is_a_400()
    {
        var p = await ProblemAsync(await ReplayAsync(await CreatedSessionAsync(), Csv(), "rec.csv", "250", "warp"), "speed");
        Assert.Equal("warp", p.GetProperty("value").GetString());
    }

    private static byte[] Zip(params (string Name, Action<Stream> Write)[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, write) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
                write(s);
            }
        return ms.ToArray();
    }

    private static Action<Stream> Bytes(byte[] b) => s => s.Write(b);

    private void AssertNothingLeftInTheUploadFolder()
    {
        var left = Directory.EnumerateFileSystemEntries(fixture.UploadFolder, "*", SearchOption.AllDirectories).ToList();
        Assert.True(left.Count == 0, "left behind: " + string.Join(", ", left.Select(Path.GetFileName)));
    }

    private static void AssertNoServerPath(JsonElement problem)
    {
        string text = problem.GetRawText();
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), text);
        Assert.DoesNotContain("openvret-upload", text);
        Assert.DoesNotContain("/unpacked", text);
    }

    [Theory]
    [InlineData("../escape.csv")]
    [InlineData("rec/../../escape.csv")]
    [InlineData("/var/absolute.csv")]
    [InlineData("C:/absolute.csv")]
    public async Task A_zip_entry_that_leaves_its_folder_is_refused(string entry)
    {
        var zip = Zip((entry, Bytes(Csv())));
        var p = await ProblemAsync(await ReplayAsync(await CreatedSessionAsync(), zip, "rec.zip", "250"), "file");
        Assert.Contains(entry, p.GetProperty("detail").GetString());
        AssertNoServerPath(p);
        AssertNothingLeftInTheUploadFolder();
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "escape.csv")));
    }

    [Theory]
    [InlineData("rec/EDA.csv", "rec/EDA.csv")]
    [InlineData("rec/a", "rec/a/b.csv")]
    [InlineData("rec/a/b.csv", "rec/a")]
    public async Task A_zip_whose_entries_share_a_name_is_refused(string first, string second)
    {
        // Found by an outside probe: these were 500s (the second entry could not be unpacked beside the first).
        var zip = Zip((first, Bytes(Csv())), (second, Bytes(Csv())));
        var p = await ProblemAsync(await ReplayAsync(await CreatedSessionAsync(), zip, "rec.zip", "250"), "file");
        Assert.Matches("twice|share a name", p.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_zip_bomb_is_refused_while_streaming_and_nothing_large_is_left()
    {
        // 64 MiB of zeros compresses to ~64 KiB: a ratio near 1000, far past the limit.
        var zeros = new byte[1024 * 1024];
        var bomb = Zip(("rec/ECG.csv", s => { for (int i = 0; i < 64; i++) s.Write(zeros); }));
        Assert.True(bomb.Length < 1024 * 1024);
        var p = await ProblemAsync(await ReplayAsync(await CreatedSessionAsync(), bomb, "bomb.zip", "250"), "file");
        Assert.Matches("compressed size|larger than", p.GetProperty("detail").GetString());
        AssertNoServerPath(p);
        AssertNothingLeftInTheUploadFolder();
    }

    [Fact]
    public async Task A_zip_over_the_unpacked_size_or_entry_count_is_refused()
    {
        // Incompressible data, so the ratio is fine: the total size is what is over (8 MiB in this server).
        var random = new Random(7);
        byte[] Chunk() { var b = new byte[3 * 1024 * 1024]; random.NextBytes(b); return b; }
        var big = Zip(("a.bin", Bytes(Chunk())), ("b.bin", Bytes(Chunk())), ("c.bin", Bytes(Chunk())));
        var p = await ProblemAsync(await ReplayAsync(await CreatedSessionAsync(), big, "big.zip", "250"), "file");
        Assert.Contains("unpacked", p.GetProperty("title").GetString());
        AssertNothingLeftInTheUploadFolder();

        var many = Zip(Enumerable.Range(0, 300).Select(i => ($"f{i}.txt", Bytes("x"u8.ToArray()))).ToArray());
        p = await ProblemAsync(await ReplayAsync(await CreatedSessionAsync(), many, "many.zip", "250"), "file");
        Assert.Contains("entries", p.GetProperty("detail").GetString());
        AssertNothingLeftInTheUploadFolder();
    }

    [Fact]
    public async Task A_good_zip_still_replays()
    {
        var zip = Zip(("rec/signals.csv", Bytes(Csv(20_000))));
        var r = await ReplayAsync(await CreatedSessionAsync(), zip, "rec.zip", "250");
        Assert.True(r.StatusCode == HttpStatusCode.Accepted, await r.Content.ReadAsStringAsync());
        AssertNothingLeftInTheUploadFolder();
    }

    // ------------------------------------------------------------------------------------------- item 12: CSV injection

    [Fact]
    public async Task Formulas_in_the_outcome_dataset_are_neutralised()
    {
        string patient = NewId();
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsJsonAsync("/api/patients", new { id = patient, site = "csvsite", hierarchy = Hierarchy() })).StatusCode);
        var a = await Http.PutAsJsonAsync($"/api/patients/{patient}/assessment", new { age = 30, sex = "=1+1", baselineSeverity = 20.0 });
        Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        string csv = await Http.GetStringAsync("/api/outcome-dataset?site=csvsite");
        var row = csv.Split('\n')[1];
        Assert.Contains("\"'=1+1\"", row);
        Assert.DoesNotContain(",=1+1", row);
    }

    // ------------------------------------------------------------------------------------------- item 5 and 14: hubs

    private sealed record LiveSession(string SessionId, HubConnection Console, HubConnection Device);

    private async Task<LiveSession> LiveAsync()
    {
        var session = await S.CreateSessionAsync(fixture.Therapist);
        var console = await S.ConsoleConnectionAsync(fixture.Therapist);
        await console.InvokeAsync<JsonElement>("Watch", session.SessionId);
        var device = await S.DeviceConnectionAsync((await S.PairAsync(session.Code)).DeviceToken, messagePack: true);
        return new LiveSession(session.SessionId, console, device);
    }

    /// <summary>
    /// Refused on purpose: the server threw a HubException, whose message SignalR passes on after its generic prefix
    /// ("... on the server. HubException: field: ..."); an unhandled exception reaches the client as the bare prefix.
    /// </summary>
    internal static async Task RefusedAsync(Func<Task> call, string field)
    {
        var e = await Assert.ThrowsAsync<HubException>(call);
        Assert.Contains("HubException: ", e.Message);
        Assert.Contains(field, e.Message[e.Message.IndexOf("HubException: ", StringComparison.Ordinal)..]);
    }

    [Fact]
    public async Task Hello_with_a_null_channel_is_refused_naming_the_field()
    {
        var live = await LiveAsync();
        await RefusedAsync(() => live.Device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "x", [null!])), "channels");
        // A channel without a name is refused before anything looks it up in the store (found by FuzzTests after a merge).
        await RefusedAsync(() => live.Device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "x", [new ChannelDeclaration(null!, ChannelKind.Ecg, 250, "mV")])), "channels.name");
        await live.Device.DisposeAsync(); await live.Console.DisposeAsync();
    }

    [Fact]
    public async Task Long_values_are_not_echoed_back_in_errors()
    {
        // An outside probe got 30,000-character values back in hub errors (Watch, Hello, Samples).
        var live = await LiveAsync();
        string huge = new('x', 30_000);
        var hello = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() =>
            live.Device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "x", [new ChannelDeclaration(huge, ChannelKind.Ecg, 250, "mV")])));
        Assert.True(hello.Message.Length < 400, $"{hello.Message.Length} characters");
        await live.Device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "x", []));
        var ack = await live.Device.InvokeAsync<BatchAck>("Samples", new SampleBatch(huge, 0, 0, new float[] { 1 }));
        Assert.Equal(BatchStatus.Rejected, ack.Status);
        Assert.True(ack.Error!.Length < 400 && ack.Channel.Length < 100, $"{ack.Error.Length} / {ack.Channel.Length} characters");
        var watch = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => live.Console.InvokeAsync<JsonElement>("Watch", huge));
        Assert.True(watch.Message.Length < 400, $"{watch.Message.Length} characters");
        await live.Device.DisposeAsync(); await live.Console.DisposeAsync();
    }

    [Fact]
    public async Task Events_with_non_finite_numbers_are_rejected()
    {
        var live = await LiveAsync();
        await live.Device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "x", []));
        var nanTime = await live.Device.InvokeAsync<EventAck>("Event", new ClientEvent(1, double.NaN, ClientEventKind.Suds, 30, null, null));
        Assert.Equal(BatchStatus.Rejected, nanTime.Status);
        Assert.StartsWith("deviceTime", nanTime.Error);
        var nanPose = await live.Device.InvokeAsync<EventAck>("Event", new ClientEvent(2, 10, ClientEventKind.HeadPose, null, null, new HeadPose(double.NaN, 0, true)));
        Assert.Equal(BatchStatus.Rejected, nanPose.Status);
        var nanPoseOther = await live.Device.InvokeAsync<EventAck>("Event", new ClientEvent(3, 10, ClientEventKind.Interaction, null, null, new HeadPose(0, double.PositiveInfinity, true)));
        Assert.Equal(BatchStatus.Rejected, nanPoseOther.Status);
        var nanValue = await live.Device.InvokeAsync<EventAck>("Event", new ClientEvent(4, 10, ClientEventKind.Interaction, double.NaN, null, null));
        Assert.Equal(BatchStatus.Rejected, nanValue.Status);
        Assert.Equal(BatchStatus.Accepted, (await live.Device.InvokeAsync<EventAck>("Event", new ClientEvent(5, 10, ClientEventKind.Suds, 30, null, null))).Status);
        await live.Device.DisposeAsync(); await live.Console.DisposeAsync();
    }

    [Fact]
    public async Task Override_why_is_limited()
    {
        var live = await LiveAsync();
        await RefusedAsync(() => live.Console.InvokeAsync("Override", live.SessionId, "h1", null, null, new string('w', 200_000)), "why");
        await RefusedAsync(() => live.Console.InvokeAsync("EmergencyStop", live.SessionId, new string('w', 5_000)), "why");
        await live.Device.DisposeAsync(); await live.Console.DisposeAsync();
    }

    [Fact]
    public async Task Agent_calls_refuse_null_and_out_of_range_arguments()
    {
        var live = await LiveAsync();
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "interviewer", "therapist", false, 5.0), "intensity");
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "interviewer", "therapist", false, double.NaN), "intensity");
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, null, "therapist", false, 0.2), "persona");
        await live.Console.InvokeAsync<JsonElement>("StartAgent", live.SessionId, "interviewer", "therapist", false, 0.2);
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("AgentSay", live.SessionId, null), "text");
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("AgentSay", live.SessionId, new string('t', 5_000)), "text");
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("AgentSelect", live.SessionId, null), "nodeId");
        await RefusedAsync(() => live.Console.InvokeAsync<JsonElement>("AgentIntensity", live.SessionId, -0.5), "intensity");
        await live.Console.InvokeAsync<bool>("StopAgent", live.SessionId);
        await live.Device.DisposeAsync(); await live.Console.DisposeAsync();
    }
}

/// <summary>A patient's own safety settings reach the session (item 4): the pipeline no longer builds the defaults.</summary>
public sealed class PatientSafetyTests
{
    private static Patient WithSafety(string safety)
    {
        var h = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "demo", "heights-hierarchy.json")),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();
        h["safety"] = JsonNode.Parse(safety);
        return ExposureFiles.ParsePatient(h.ToJsonString(), "test");
    }

    [Fact]
    public void A_patients_lower_suds_ceiling_steps_the_session_down()
    {
        var run = new PipelineTests.Run(setup: new SessionSetup("S-test", WithSafety("""{ "sudsCeiling": 60 }"""), "inhibitory", EngineMode.Suggest, 1, 64));
        run.Stream(70);
        Assert.Equal(SessionPhase.Exposure, run.Pipeline.Phase);
        Assert.False(run.Pipeline.Engine.HoldActive);
        Assert.Equal(BatchStatus.Accepted, run.Event(ClientEventKind.Suds, 65, 1).Status);
        run.Stream(1);
        Assert.True(run.Pipeline.Engine.HoldActive, "SUDS 65 is over this patient's ceiling of 60");
        Assert.Contains(run.Events, e => e.Kind == "safety_alert" && e.Text.Contains("ceiling of 60"));
    }

    [Fact]
    public void A_patients_low_heart_rate_limit_steps_the_session_down_at_that_limit()
    {
        var h = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "demo", "heights-hierarchy.json")),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();
        h["heartRateLimitBpm"] = 90;
        var run = new PipelineTests.Run(setup: new SessionSetup("S-test", ExposureFiles.ParsePatient(h.ToJsonString(), "test"), "inhibitory", EngineMode.Suggest, 1, 64));
        run.Stream(70);
        Assert.Equal(SessionPhase.Exposure, run.Pipeline.Phase);
        run.Device.Arousal = 1.0;
        run.Stream(30);
        var alert = Assert.Single(run.Events.Where(e => e.Kind == "safety_alert" && e.Text.Contains("heart rate")).Take(1));
        Assert.Contains("limit of 90 bpm", alert.Text);
        Assert.True(run.Pipeline.Engine.HoldActive);
    }

    [Fact]
    public void The_default_suds_ceiling_still_applies_without_patient_settings()
    {
        var run = new PipelineTests.Run();
        run.Stream(70);
        Assert.Equal(BatchStatus.Accepted, run.Event(ClientEventKind.Suds, 65, 1).Status);
        run.Stream(1);
        Assert.False(run.Pipeline.Engine.HoldActive);
        Assert.Equal(BatchStatus.Accepted, run.Event(ClientEventKind.Suds, 90, 2).Status);
        run.Stream(1);
        Assert.True(run.Pipeline.Engine.HoldActive);
    }
}
