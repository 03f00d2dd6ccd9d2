using System.Text;
using System.Text.Json;

namespace OpenVret.Exposure.Rules;

/// <summary>A JSON value with the line it starts on, so rule-file errors can point at the exact line.</summary>
internal abstract record LNode(int Line)
{
    public sealed record Obj(int Line, IReadOnlyList<(string Key, int KeyLine, LNode Value)> Members) : LNode(Line)
    {
        public LNode? this[string key] => Members.FirstOrDefault(m => m.Key == key).Value;
    }
    public sealed record Arr(int Line, IReadOnlyList<LNode> Items) : LNode(Line);
    public sealed record Str(int Line, string Value) : LNode(Line);
    public sealed record Num(int Line, double Value, string Raw) : LNode(Line);
    public sealed record Bool(int Line, bool Value) : LNode(Line);
    public sealed record Null(int Line) : LNode(Line);

    public string Describe() => this switch
    {
        Str s => $"\"{s.Value}\"",
        Num n => n.Raw,
        Bool b => b.Value ? "true" : "false",
        Null => "null",
        Arr => "[...]",
        _ => "{...}",
    };
}

/// <summary>Parses JSON with comments (// and /* */) and trailing commas into <see cref="LNode"/>s.</summary>
internal static class LocatedJson
{
    public static LNode Parse(string text, string source)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lineStarts = new List<int> { 0 };
        for (int i = 0; i < bytes.Length; i++) if (bytes[i] == '\n') lineStarts.Add(i + 1);
        int LineOf(long offset)
        {
            int idx = lineStarts.BinarySearch((int)offset);
            return (idx >= 0 ? idx : ~idx - 1) + 1;
        }
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read()) throw new ExposureInputException(source, "empty", "no JSON in the file", 1);
            var node = ReadValue(ref reader, LineOf);
            if (reader.Read()) throw new ExposureInputException(source, "extra content", "the file continues after its top-level value", LineOf(reader.TokenStartIndex));
            return node;
        }
        catch (JsonException e)
        {
            throw new ExposureInputException(source, "invalid JSON", e.Message.Split(" LineNumber:")[0].TrimEnd('.', ' '), (int)(e.LineNumber ?? 0) + 1);
        }
    }

    private static LNode ReadValue(ref Utf8JsonReader r, Func<long, int> lineOf)
    {
        int line = lineOf(r.TokenStartIndex);
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    var members = new List<(string, int, LNode)>();
                    while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                    {
                        string key = r.GetString()!;
                        int keyLine = lineOf(r.TokenStartIndex);
                        r.Read();
                        members.Add((key, keyLine, ReadValue(ref r, lineOf)));
                    }
                    return new LNode.Obj(line, members);
                }
            case JsonTokenType.StartArray:
                {
                    var items = new List<LNode>();
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) items.Add(ReadValue(ref r, lineOf));
                    return new LNode.Arr(line, items);
                }
            case JsonTokenType.String: return new LNode.Str(line, r.GetString()!);
            case JsonTokenType.Number: return new LNode.Num(line, r.GetDouble(), Encoding.UTF8.GetString(r.ValueSpan));
            case JsonTokenType.True: return new LNode.Bool(line, true);
            case JsonTokenType.False: return new LNode.Bool(line, false);
            default: return new LNode.Null(line);
        }
    }
}
