namespace OpenVret.Exposure;

/// <summary>Bad input to the exposure engine; the message names the field (and the line, for files) and the value.</summary>
public sealed class ExposureInputException : ArgumentException
{
    private readonly string _text;
    public string Field { get; }
    public string Value { get; }
    public int? Line { get; }

    public ExposureInputException(string field, string value, string problem, int? line = null) : base(null, field)
    {
        Field = field; Value = value; Line = line;
        _text = line is int l ? $"line {l}: {field} = {value}: {problem}" : $"{field} = {value}: {problem}";
    }

    public override string Message => _text;
}
