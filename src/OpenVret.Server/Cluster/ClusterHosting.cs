using System.Net;
using Orleans.Configuration;
using Orleans.Serialization;
using OpenVret.Server.Sessions;

namespace OpenVret.Server.Cluster;

/// <summary>Cluster mode: this process is a silo (co-hosted with the web server) of an Orleans cluster kept in PostgreSQL.</summary>
public static class ClusterHosting
{
    /// <summary>Protocol and session types cross nodes as JSON (the store's JSON options), so protocol assemblies need no Orleans attributes.</summary>
    public static void Serializer(ISerializerBuilder b) =>
        b.AddJsonSerializer(isSupported: t => t.Namespace?.StartsWith("OpenVret", StringComparison.Ordinal) == true, jsonSerializerOptions: SessionActor.Json);

    public static void Configure(WebApplicationBuilder builder, ServerOptions options)
    {
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = "openvret"; });
            silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
            silo.Services.AddSerializer(Serializer);
            // Membership in the clinic network's PostgreSQL database, through Orleans' ADO.NET provider (schema: OrleansSchema).
            silo.UseAdoNetClustering(o => { o.Invariant = OrleansSchema.Invariant; o.ConnectionString = options.PostgresConnection; });
            silo.Services.Configure<ClusterMembershipOptions>(o =>
            {
                // A dead node is noticed within seconds: sessions move and hold instead of waiting.
                o.ProbeTimeout = TimeSpan.FromSeconds(2);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            });
        });
        builder.Services.AddSingleton<NodeRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRelay>());
        builder.Services.AddSingleton<ISessionDirectory, ClusterDirectory>();
    }
}
