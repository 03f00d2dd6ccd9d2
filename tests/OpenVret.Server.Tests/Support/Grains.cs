using Orleans;
using Orleans.Runtime;

namespace OpenVret.Server.Tests.Support;

public static class Grains
{
    /// <summary>
    /// Waits until the grain has no activation left on any silo (Orleans' management grain lists the active grains),
    /// e.g. after asking it to deactivate: the next call then activates it afresh.
    /// </summary>
    public static Task DeactivatedAsync(IGrainFactory factory, IAddressable grain, string what)
    {
        var id = grain.GetGrainId();
        var management = factory.GetGrain<IManagementGrain>(0);
        return Until.TrueAsync(async () => !(await management.GetActiveGrains(id.Type)).Contains(id), what);
    }
}
