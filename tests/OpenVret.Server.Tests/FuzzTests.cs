using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using OpenVret.Protocol;
using OpenVret.Server.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Server.Tests;

/// <summary>
/// Property-based fuzzing (FsCheck) against a real server: REST bodies, query strings and path ids, and hub arguments
/// that are malformed, null, NaN, huge or of the wrong type. The properties: no request is answered with a 5xx, and no
/// hub call ends in an unhandled exception (SignalR's bare "unexpected error") or a dropped connection. A deliberate
/// refusal is a 4xx, a rejected result, or a HubException naming the field. The number of cases is bounded (about 30 s).
/// </summary>
public sealed class FuzzTests(InputServer fixture, ITestOutputHelper output) : IClassFixture<InputServer>
{
    private const int RestCases = 250, HubCases = 250;
    private static readonly Config Settings = Config.QuickThrowOnFailure.WithMaxTest(RestCases);

    /// <summary>Arbitrary text: any UTF-16 code unit (lone surrogates and control characters included), up to 40 long.</summary>
    private static readonly Gen<string> AnyText = Gen.Sized(n => Gen.ArrayOf(Gen.Choose(0, 0xFFFF).Select(c => (char)c), Math.Min(n, 40))).Select(cs => new string(cs));

    // ------------------------------------------------------------------------------------------- values

    /// <summary>JSON values that have broken parsers before: wrong kinds, extremes, long text, markup and formulas.</summary>
    private static readonly Gen<JsonNode?> Nasty = Gen.OneOf(
        Gen.Elements<Func<JsonNode?>>(
            () => null, () => true, () => false, () => 0, () => -1, () => -5, () => 1, () => 150, () => 150.5, () => 100_000,
            () => 1e308, () => -1e308, () => 5e-324, () => long.MaxValue, () => int.MinValue,
            () => "", () => " ", () => "x", () => "150", () => "NaN", () => "Infinity", () => "=1+1", () => "=HYPERLINK(\"http://x\")",
            () => "<script>alert(1)</script>", () => "../../etc/passwd", () => "C:\\windows", () => "\u0000", () => "h1", () => "office",
            () => new string('a', 100_001), () => new string('é', 5_000),
            () => new JsonArray(), () => new JsonArray(1, "a", null), () => new JsonObject(), () => new JsonObject { ["a"] = new JsonObject { ["b"] = new JsonArray() } })
            .Select(f => f()),
        Gen.Choose(-1000, 1000).Select(i => (JsonNode?)i),
        AnyText.Select(s => (JsonNode?)s));

    private static JsonNode? Clone(JsonNode? n) => n?.DeepClone();

    /// <summary>A JSON object with the given fields, each present with a good value, a nasty one, or absent.</summary>
    private static Gen<JsonNode?> ObjectOf(params (string Name, JsonNode? Good)[] fields) =>
        Gen.OneOf(
            Gen.CollectToList(fields.Select(f => Gen.Frequency(
                    (3, Gen.Constant<(string, JsonNode?, bool)>((f.Name, Clone(f.Good), true))),
                    (3, Nasty.Select(v => (f.Name, v, true))),
                    (1, Gen.Constant<(string, JsonNode?, bool)>((f.Name, null, false))))))
                .Select(list =>
                {
                    var o = new JsonObject();
                    foreach (var (name, v, present) in list) if (present) o[name] = Clone(v);
                    return (JsonNode?)o;
                }),
            Nasty);

    private static JsonObject Demo() => JsonNode.Parse(JsonSerializer.Serialize(TestServer.DemoHierarchy))!.AsObject();

    /// <summary>The demo hierarchy with one value replaced by a nasty one, anywhere in the tree (or a nasty value instead).</summary>
    private static readonly Gen<JsonNode?> Hierarchies = Gen.OneOf(
        Gen.Zip(Gen.Choose(0, 1000), Nasty).Select(t =>
        {
            var h = Demo();
            var slots = new List<(JsonNode Parent, string? Key, int Index)>();
            void Walk(JsonNode n)
            {
                if (n is JsonObject o) foreach (var kv in o.ToList()) { slots.Add((o, kv.Key, -1)); if (kv.Value is not null) Walk(kv.Value); }
                else if (n is JsonArray a) for (int i = 0; i < a.Count; i++) { slots.Add((a, null, i)); if (a[i] is not null) Walk(a[i]!); }
            }
            Walk(h);
            var (parent, key, index) = slots[t.Item1 % slots.Count];
            if (parent is JsonObject po) po[key!] = Clone(t.Item2); else ((JsonArray)parent)[index] = Clone(t.Item2);
            return (JsonNode?)h;
        }),
        Gen.Zip(Gen.Elements("safety", "heartRateLimitBpm", "extra"), Nasty).Select(t => { var h = Demo(); h[t.Item1] = Clone(t.Item2); return (JsonNode?)h; }),
        Nasty);

    // ------------------------------------------------------------------------------------------- REST

    private sealed record Request(HttpMethod Method, string Path, HttpContent? Body)
    {
        public override string ToString() => $"{Method} {(Path.Length > 120 ? Path[..120] + "..." : Path)} {Shown(Body)}";
        private static string Shown(HttpContent? c)
        {
            if (c is not StringContent s) return c is null ? "" : "(multipart)";
            string text = s.ReadAsStringAsync().GetAwaiter().GetResult();
            return text.Length > 300 ? text[..300] + "..." : text;
        }
    }

    private static HttpContent Json(JsonNode? n) => new StringContent(n?.ToJsonString() ?? "null", Encoding.UTF8, "application/json");

    private static readonly Gen<string> PathIds = Gen.OneOf(
        Gen.Elements("P-fuzz-1", "S-none", "x", "..", "%2e%2e", "a%00b", new string('z', 3000), "=1+1", "<b>", "%", "%%", "P-fuzz-1%2f..%2f"),
        AnyText.Where(s => s.Length > 0 && !s.Any(char.IsSurrogate)).Select(Uri.EscapeDataString));

    private static readonly Gen<string> QueryValues = Gen.OneOf(
        Gen.Elements("", "0", "-1", "1e308", "NaN", "Infinity", "abc", "true", "99999999999999999999", "Rating", "%00", new string('q', 5000)),
        AnyText.Where(s => !s.Any(char.IsSurrogate)).Select(Uri.EscapeDataString));

    private static Gen<Request> RestRequests(string patient, string session)
    {
        string Q(string v) => v;
        var bodies = new List<Gen<Request>>
        {
            Gen.Zip(Gen.Zip(ObjectOf(("id", (JsonNode?)"P-fz"), ("site", "fuzz"), ("notes", "n")), Hierarchies), Gen.Choose(0, 1_000_000)).Select(t =>
            {
                var ((generated, hierarchy), n) = t;
                var body = Clone(generated);
                if (body is JsonObject o)
                {
                    if (o["id"] is JsonValue v && v.ToString() == "P-fz") o["id"] = $"P-fz{n}";
                    o["hierarchy"] = Clone(hierarchy);
                }
                return new Request(HttpMethod.Post, "/api/patients", Json(body));
            }),
            ObjectOf(("text", (JsonNode?)"likes tea")).Select(b => new Request(HttpMethod.Put, $"/api/patients/{patient}/memory", Json(b))),
            ObjectOf(("age", (JsonNode?)30), ("sex", "female"), ("baselineSeverity", 20.5), ("postSeverity", 10), ("followUpSeverity", 5))
                .Select(b => new Request(HttpMethod.Put, $"/api/patients/{patient}/assessment", Json(b))),
            ObjectOf(("patientId", (JsonNode?)patient), ("scheduler", "inhibitory"), ("mode", "suggest"), ("baselineSeconds", 60), ("seed", 3), ("sessionNumber", 2), ("rules", null))
                .Select(b => new Request(HttpMethod.Post, "/api/sessions", Json(b))),
            ObjectOf(("text", (JsonNode?)"{ \"rules\": [] }")).Select(b => new Request(HttpMethod.Post, "/api/rules/validate", Json(b))),
            ObjectOf(("code", (JsonNode?)"ABCDEFGH"), ("deviceName", "fuzz"), ("role", "VrClient")).Select(b => new Request(HttpMethod.Post, "/api/pair", Json(b))),
            ObjectOf(("userName", (JsonNode?)"fuzz.user"), ("password", "a-long-password-1"), ("role", "therapist"), ("site", "fuzz"))
                .Select(b => new Request(HttpMethod.Post, "/api/users", Json(b))),
            // Raw, possibly broken, body text.
            Gen.Zip(Gen.Elements("/api/patients", "/api/sessions", "/api/rules/validate", $"/api/patients/{patient}/assessment"),
                    Gen.Elements("{", "[", "{\"id\":", "nul", "\"", "{\"a\":1}}", "\u0000", new string('[', 200) + new string(']', 200), "{\"hierarchy\": {\"items\": [" + string.Join(",", Enumerable.Repeat("{}", 2000)) + "]}}"))
                .Select(t => new Request(t.Item1.EndsWith("assessment") ? HttpMethod.Put : HttpMethod.Post, t.Item1, new StringContent(t.Item2, Encoding.UTF8, "application/json"))),
            // Path ids and query strings.
            Gen.Zip(PathIds, Gen.Elements("/api/patients/{0}", "/api/patients/{0}/memory", "/api/sessions/{0}", "/api/sessions/{0}/entries", "/api/sessions/{0}/report",
                    "/api/sessions/{0}/report.png", "/api/sessions/{0}/export", "/api/sessions/{0}/pairing-code"))
                .Select(t => new Request(t.Item2.EndsWith("pairing-code") ? HttpMethod.Post : HttpMethod.Get, string.Format(t.Item2, t.Item1), null)),
            Gen.Zip(Gen.Zip(QueryValues, QueryValues), QueryValues).Select(t => new Request(HttpMethod.Get, $"/api/sessions/{session}/entries?kind={Q(t.Item1.Item1)}&after={Q(t.Item1.Item2)}&limit={Q(t.Item2)}", null)),
            Gen.Zip(QueryValues, QueryValues).Select(t => new Request(HttpMethod.Get, $"/api/outcome-dataset?site={Q(t.Item1)}&pooled={Q(t.Item2)}", null)),
            QueryValues.Select(v => new Request(HttpMethod.Get, $"/api/pairing-qr?code={Q(v)}", null)),
            Gen.Zip(QueryValues, QueryValues).Select(t => new Request(HttpMethod.Get, $"/api/audit?after={Q(t.Item1)}&limit={Q(t.Item2)}", null)),
            // Replay uploads: any rate, speed, file name and bytes (the session is not started, so a good one would run; these are not good).
            Gen.Zip(Gen.Zip(QueryValues, Gen.Elements("max", "realtime", "warp", "", "MAX")), Gen.Zip(Gen.Elements("r.csv", "r.zip", "r.edf", "r.hea", "..", "/etc/passwd", "noext", "a b;.zip"),
                    Gen.Elements(Array.Empty<byte>(), "PK\u0003\u0004garbage"u8.ToArray(), "ECG\n1\n2\n"u8.ToArray(), "0       x"u8.ToArray(), new byte[] { 0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })))
                .Select(t =>
                {
                    var ((rate, speed), (name, bytes)) = t;
                    var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", name }, { new StringContent(Uri.UnescapeDataString(rate)), "rate" }, { new StringContent(speed), "speed" } };
                    return new Request(HttpMethod.Post, $"/api/sessions/{session}/replay", form);
                }),
        };
        return Gen.OneOf(bodies);
    }

    [Fact]
    public async Task No_REST_request_is_answered_with_a_5xx()
    {
        var t = await fixture.Server.LoginAsync();
        string patient = "P-fuzz-1";
        var created = await t.Http.PostAsJsonAsync("/api/patients", new { id = patient, site = "fuzz", hierarchy = TestServer.DemoHierarchy });
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict);
        var session = await t.Http.PostAsJsonAsync("/api/sessions", new { patientId = patient, mode = "manual", baselineSeconds = 60 });
        string sessionId = (await session.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("session").GetProperty("id").GetString()!;
        int count = 0;
        var statuses = new Dictionary<int, int>();
        var property = Prop.ForAll(Arb.From(RestRequests(patient, sessionId)), (Request r) =>
        {
            var response = Task.Run(() => t.Http.SendAsync(new HttpRequestMessage(r.Method, r.Path) { Content = r.Body })).GetAwaiter().GetResult();
            count++;
            int code = (int)response.StatusCode;
            statuses[code] = statuses.GetValueOrDefault(code) + 1;
            string body = code >= 500 ? Task.Run(() => response.Content.ReadAsStringAsync()).GetAwaiter().GetResult() : "";
            return Prop.Label(code < 500, $"{r} -> {code} {body}");
        });
        Check.One(Settings, property);
        output.WriteLine($"{count} requests: " + string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} x{kv.Value}")));
    }

    // ------------------------------------------------------------------------------------------- hubs

    /// <summary>Hub arguments: anything JSON can carry, typed or not; the real session id sometimes, so calls get past the site check.</summary>
    private static Gen<object?> HubArg(string sessionId) => Gen.OneOf(
        Gen.Elements<Func<object?>>(
            () => null, () => "", () => "x", () => "h1", () => "h3", () => "interviewer", () => "therapist", () => "local-keywords", () => new string('w', 200_000),
            () => 5.0, () => -1.0, () => 0.5, () => double.NaN, () => double.PositiveInfinity, () => 1e308, () => 0, () => int.MaxValue, () => true,
            () => new { a = 1 }, () => new[] { 1, 2 }, () => new Dictionary<string, double> { ["floor_height_m"] = double.NaN },
            () => new Dictionary<string, double> { ["floor_height_m"] = 15 }, () => new Dictionary<string, object?> { ["room"] = null, ["lighting"] = 7 },
            () => new Dictionary<string, string> { ["room"] = "moon" }, () => sessionId, () => sessionId, () => sessionId).Select(f => f()),
        AnyText.Select(s => (object?)s));

    private static readonly (string Name, int Arity)[] ConsoleMethods =
    {
        ("Watch", 1), ("Approve", 3), ("Reject", 3), ("Veto", 2), ("Override", 5), ("EmergencyStop", 2), ("Resume", 2), ("ReleaseHold", 2),
        ("SetBiofeedback", 3), ("AcknowledgeAlert", 2), ("RemoveDevice", 3), ("StartAgent", 5), ("AgentSelect", 2), ("AgentSay", 2),
        ("AgentResume", 2), ("AgentIntensity", 2), ("AgentStatus", 1), ("StopAgent", 1),
    };

    private static readonly Gen<double> Numbers = Gen.Elements(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1, 0, 1e308, -1e308, 30, 1000.5, 5e-324);

    private static readonly Gen<ClientEvent?> Events = Gen.OneOf(
        Gen.Constant<ClientEvent?>(null),
        Gen.Zip(Gen.Zip(Gen.Zip(Gen.Choose(-5, 1_000_000).Select(i => (long)i), Numbers), Gen.Elements(Enum.GetValues<ClientEventKind>().Append((ClientEventKind)99).ToArray())),
                Gen.Zip(Gen.Zip(Gen.Elements<double?>(null, double.NaN, 30, -1, 1e308, double.NegativeInfinity), Gen.Elements<string?>(null, "", "hello", new string('u', 3000), "I want to die")),
                    Gen.Elements<HeadPose?>(null, new HeadPose(double.NaN, 0, true), new HeadPose(10, 5, false), new HeadPose(0, double.PositiveInfinity, true), new HeadPose(1e308, -1e308, true))))
            .Select(t => (ClientEvent?)new ClientEvent(t.Item1.Item1.Item1, t.Item1.Item1.Item2, t.Item1.Item2, t.Item2.Item1.Item1, t.Item2.Item1.Item2, t.Item2.Item2)));

    private static readonly Gen<SampleBatch?> Batches = Gen.OneOf(
        Gen.Constant<SampleBatch?>(null),
        Gen.Zip(Gen.Zip(Gen.Elements<string?>(null, "", "ecg", "nope", new string('c', 500)), Gen.Choose(-3, 100).Select(i => (long)i)),
                Gen.Zip(Numbers, Gen.Elements<float[]?>(null, Array.Empty<float>(), new[] { float.NaN, float.PositiveInfinity }, new float[25], new float[3000])))
            .Select(t => (SampleBatch?)new SampleBatch(t.Item1.Item1!, t.Item1.Item2, t.Item2.Item1, t.Item2.Item2!)));

    private static readonly Gen<DeviceHello?> Hellos = Gen.OneOf(
        Gen.Constant<DeviceHello?>(null),
        Gen.Zip(Gen.Zip(Gen.Elements(ProtocolVersion.Current, 0, 2, -1), Gen.Elements<string?>(null, "sw", new string('s', 5000))),
                Gen.Elements<IReadOnlyList<ChannelDeclaration>?>(null, [], [null!], [new ChannelDeclaration(null!, ChannelKind.Ecg, 250, "mV")],
                    [new ChannelDeclaration("ecg", (ChannelKind)42, double.NaN, null!)], [new ChannelDeclaration("ecg", ChannelKind.Ecg, 1e308, new string('u', 100))],
                    [new ChannelDeclaration("ecg", ChannelKind.Ecg, 250, "mV"), new ChannelDeclaration("ecg", ChannelKind.Ecg, 250, "mV")]))
            .Select(t => (DeviceHello?)new DeviceHello(t.Item1.Item1, t.Item1.Item2!, t.Item2!)));

    private static readonly JsonSerializerOptions ShownJson = new(TestServer.Json) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private sealed record HubCall(bool Device, string Method, object?[] Args)
    {
        public override string ToString() => $"{(Device ? "device" : "console")}.{Method}({string.Join(", ", Args.Select(Shown))})";
        private static string Shown(object? a)
        {
            var s = a is null ? "null" : JsonSerializer.Serialize(a, ShownJson);
            return s.Length > 100 ? s[..100] + "..." : s;
        }
    }

    private static Gen<HubCall> HubCalls(string sessionId) => Gen.OneOf(
        Gen.Elements(ConsoleMethods).SelectMany(m => Gen.ArrayOf(HubArg(sessionId), m.Arity).Select(args => new HubCall(false, m.Name, args))),
        Hellos.Select(h => new HubCall(true, "Hello", [h])),
        Batches.Select(b => new HubCall(true, "Samples", [b])),
        Gen.Elements<SampleBatch?[]?>(null, [], [null]).Select(b => new HubCall(true, "SamplesMany", [b])),
        Gen.ArrayOf(Batches, 3).Select(b => new HubCall(true, "SamplesMany", [b])),
        Events.Select(e => new HubCall(true, "Event", [e])),
        Gen.Zip(Gen.Elements("Hello", "Samples", "SamplesMany", "Event"), HubArg(sessionId)).Select(t => new HubCall(true, t.Item1, [t.Item2])));

    [Fact]
    public async Task No_hub_call_ends_in_an_unhandled_exception()
    {
        var s = fixture.Server;
        var t = await s.LoginAsync();
        var session = await s.CreateSessionAsync(t, site: "fuzz");
        var console = await s.ConsoleConnectionAsync(t);
        await console.InvokeAsync<JsonElement>("Watch", session.SessionId);
        var pairing = await s.PairAsync(session.Code);
        var device = await s.DeviceConnectionAsync(pairing.DeviceToken);
        await device.InvokeAsync<HelloAck>("Hello", new DeviceHello(ProtocolVersion.Current, "fuzz", SimDevice.Channels));
        int count = 0, refused = 0;
        var property = Prop.ForAll(Arb.From(HubCalls(session.SessionId)), (HubCall call) =>
        {
            var connection = call.Device ? device : console;
            string outcome = "ok";
            bool ok = true;
            try { Task.Run(() => connection.InvokeCoreAsync(call.Method, typeof(object), call.Args)).GetAwaiter().GetResult(); }
            catch (HubException e)
            {
                refused++;
                outcome = e.Message;
                // A refusal names what is wrong: our HubException ("... HubException: field: ...") or SignalR's argument binding
                // ("Failed to invoke ... due to an error on the server"). The bare "unexpected error" is an exception we did not handle.
                ok = e.Message.Contains("HubException: ", StringComparison.Ordinal) || e.Message.StartsWith("Failed to invoke", StringComparison.Ordinal);
            }
            catch (Exception e) { outcome = e.GetType().Name + ": " + e.Message; ok = false; }
            count++;
            ok &= connection.State == HubConnectionState.Connected;
            return Prop.Label(ok, $"{call} -> {outcome} (connection {connection.State})");
        });
        Check.One(Settings.WithMaxTest(HubCases), property);
        output.WriteLine($"{count} hub calls, {refused} refused");
        await device.DisposeAsync();
        await console.DisposeAsync();
    }
}
