using Migration.Core.Sockets;
using Migration.Host.Api;
using System.Net;
using Migration.Networking.Plain;
using Migration.Networking.Relay;
using Migration.Networking.Repair;

namespace Migration.Host.Network;

/// <summary>
/// The daemon's choice of socket backend, made once at start, and the maker of each VM's backend instance. With TCP
/// repair on one network stack (hosts on loopback) all VMs share one <see cref="NetworkLock"/>; a VM with a service
/// address moves its address instead and takes no lock. With the relay, each VM's backend links to the relay under the
/// VM's id (which a migration keeps), authenticated with the host's secret.
/// </summary>
public sealed class HostNetworks
{
    private readonly NetworkLock? _lock;
    private readonly IPEndPoint? _relay;
    private readonly ReadOnlyMemory<byte> _secret;

    private HostNetworks(NetworkBackend backend, string? fallbackReason, NetworkLock? networkLock, IPEndPoint? relay = null, ReadOnlyMemory<byte> secret = default)
    {
        Backend = backend;
        FallbackReason = fallbackReason;
        _lock = networkLock;
        _relay = relay;
        _secret = secret;
    }

    public NetworkBackend Backend { get; }

    /// <summary>Why an automatic choice did not take TCP repair; null when it did, or when the backend was asked for by name.</summary>
    public string? FallbackReason { get; }

    /// <param name="requested">The backend asked for; null chooses: repair when this process may use it, else the relay when <paramref name="relay"/> is given, else plain.</param>
    /// <param name="relay">The relay's address, for the relay backend.</param>
    /// <param name="secret">The host's secret, which the relay shares.</param>
    /// <exception cref="HostConfigurationException">Repair was asked for by name and is not available here, or the relay without an address.</exception>
    public static HostNetworks Choose(NetworkBackend? requested, IPEndPoint? relay = null, ReadOnlyMemory<byte> secret = default)
    {
        if (requested == NetworkBackend.Plain)
        {
            return new HostNetworks(NetworkBackend.Plain, null, null);
        }

        if (requested == NetworkBackend.Relay)
        {
            return relay is null
                ? throw new HostConfigurationException("network backend relay needs the relay's address (--relay HOST:PORT)")
                : new HostNetworks(NetworkBackend.Relay, null, null, relay, secret);
        }

        var reason = RepairSupport.Probe();
        if (reason is null)
        {
            try
            {
                var networkLock = NetworkLock.Open();
                try
                {
                    networkLock.Join();
                }
                catch
                {
                    networkLock.Dispose();
                    throw;
                }

                return new HostNetworks(NetworkBackend.Repair, null, networkLock);
            }
            catch (NetworkLockException e)
            {
                reason = e.Message;
            }
        }

        if (requested == NetworkBackend.Repair)
        {
            throw new HostConfigurationException($"network backend repair is not available here: {reason}");
        }

        return relay is not null
            ? new HostNetworks(NetworkBackend.Relay, reason, null, relay, secret)
            : new HostNetworks(NetworkBackend.Plain, reason, null);
    }

    /// <summary>A backend for one VM, which its machine then owns. A service address needs TCP repair: 400 on other hosts.</summary>
    /// <param name="vmId">The VM's id: the relay knows the VM's clients by it, on whichever host the VM runs.</param>
    public IHostNetwork Create(ServiceAddress? serviceAddress, string vmId)
    {
        if (Backend == NetworkBackend.Repair)
        {
            return serviceAddress is null ? new RepairHostNetwork(_lock) : new RepairHostNetwork(serviceAddress);
        }

        if (Backend == NetworkBackend.Relay)
        {
            if (serviceAddress is not null)
            {
                throw ApiException.BadRequest("serviceAddress: a service address moves with TCP repair; this host uses the relay, which holds the clients itself");
            }

            var relay = new RelayHostNetwork(_relay!, _secret, vmId);
            try
            {
                relay.Connect();
            }
            catch (RelayException e)
            {
                relay.Dispose();
                throw ApiException.ServiceUnavailable(e.Message, e);
            }

            return relay;
        }

        return serviceAddress is null
            ? new PlainHostNetwork()
            : throw ApiException.BadRequest($"serviceAddress: a service address moves with TCP repair, and this host uses the plain backend{(FallbackReason is null ? "" : $" ({FallbackReason})")}");
    }

    /// <summary>One line for the daemon's start: which backend, and why when it fell back.</summary>
    public string Describe() => Backend switch
    {
        NetworkBackend.Repair => $"network repair: connections survive migration (TCP repair; network lock: nftables table inet {NetworkLock.TableName})",
        NetworkBackend.Relay => $"network relay: connections survive migration through the relay at {_relay}{(FallbackReason is null ? "" : $"; TCP repair is not available: {FallbackReason}")}",
        _ when FallbackReason is not null => $"network plain: connections are reset on migration; TCP repair is not available: {FallbackReason}",
        _ => "network plain: connections are reset on migration (asked for)",
    };

    /// <summary>Removes the lock table when no other host uses it and nothing is locked; for the daemon's stop.</summary>
    /// <exception cref="NetworkLockException">nftables refused; the table stays.</exception>
    public void Close()
    {
        if (_lock is null)
        {
            return;
        }

        _lock.LeaveAndDispose();
    }
}
