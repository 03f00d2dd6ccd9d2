using System.Net;
using System.Net.Sockets;

namespace OpenVret.Server.Tests.Support;

public static class TestPorts
{
    /// <summary>A loopback TCP port free right now (the OS picks it).</summary>
    public static int Free()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }
}
