namespace OpenVret.Signals;

/// <summary>
/// Bad input to a signal routine. The message always names the field and the offending value, so that a
/// caller (or a therapist's console) can say exactly what was wrong.
/// </summary>
public sealed class SignalInputException : ArgumentException
{
    private readonly string _text;
    public string Field { get; }
    public string Value { get; }
    public string Problem { get; }

    public SignalInputException(string field, string value, string problem) : base(null, field)
    {
        Field = field;
        Value = value;
        Problem = problem;
        _text = $"{field} = {value}: {problem}";
    }

    public override string Message => _text;
}
