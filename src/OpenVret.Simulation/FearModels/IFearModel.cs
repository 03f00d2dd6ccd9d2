using OpenVret.Exposure.Domain;

namespace OpenVret.Simulation;

/// <summary>
/// A generative model of one virtual patient's fear: the latent state an in-silico trial treats and measures.
/// Only the virtual patient (through its <see cref="MeasurementModel"/>) and the trial's outcome assessment read
/// it; schedulers never do (they see <see cref="ObservedState"/> and ratings only).
/// </summary>
public interface IFearModel
{
    /// <summary>Short name used in reports: "associative", "latent-cause", "dual-process".</summary>
    string Name { get; }
    /// <summary>Learned fear (0-1) of a stimulus of this intensity in this context on this day: no short-term state.</summary>
    double Expectancy(double intensity, ExposureContext context, double day);
    /// <summary>Fear (0-1) felt at this moment, including short-term (within-session) processes.</summary>
    double Fear(double intensity, ExposureContext context, double day, double minute);
    /// <summary>Time passes with the stimulus present at the given felt fear.</summary>
    void Expose(double intensity, double fear, double minutes);
    /// <summary>End of an exposure trial with the outcome that occurred (0 = none of the feared outcome). Returns the prediction error.</summary>
    double Learn(double intensity, ExposureContext context, double day, double outcome);
    /// <summary>An unsignalled aversive event (the feared outcome without the stimulus) in a context: the reinstatement manipulation.</summary>
    void Reinstate(ExposureContext context, double day);
}

/// <summary>The generative fear models an in-silico trial can run under.</summary>
public static class FearModels
{
    public static readonly string[] Names = { "associative", "latent-cause", "dual-process" };

    /// <summary>
    /// The context in which fear was acquired (outside VR, never used in treatment): the "A" of ABA renewal. The
    /// models that bind memories to contexts learn their acquisition memory here.
    /// </summary>
    public static readonly ExposureContext AcquisitionContext = new("acquisition_site", "daylight", "midday", "street_noise");

    public static IFearModel Create(string name, FearParameters p) => name switch
    {
        "associative" => new FearModel(p),
        "latent-cause" => new LatentCauseFearModel(p),
        "dual-process" => new DualProcessFearModel(p),
        _ => throw new OpenVret.Exposure.ExposureInputException("model", name, "one of " + string.Join(", ", Names)),
    };

    /// <summary>Fear drive of a stimulus: stronger for more intense stimuli (shared intensity gradient of all models).</summary>
    public static double Gradient(double intensity, double exponent) => Math.Pow(0.25 + 0.75 * Math.Clamp(intensity, 0, 1), exponent);
}
