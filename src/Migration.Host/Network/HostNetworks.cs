using Migration.Core.Sockets;
using Migration.Host.Api;
using Migration.Networking.Plain;
using Migration.Networking.Repair;

namespace Migration.Host.Network;

/// <summary>
/// The daemon's choice of socket backend, made once at start, and the maker of each VM's backend instance. With TCP
/// repair on one network stack (hosts on loopback) all VMs share one <see cref="NetworkLock"/>; a VM with a service
/// address moves its address instead and takes no lock.
/// </summary>
public sealed class HostNetworks
{
    private readonly NetworkLock? _lock;

    private HostNetworks(NetworkBackend backend, string? fallbackReason, NetworkLock? networkLock)
    {
        Backend = backend;
        FallbackReason = fallbackReason;
        _lock = networkLock;
    }

    public NetworkBackend Backend { get; }

    /// <summary>Why an automatic choice did not take TCP repair; null when it did, or when the backend was asked for by name.</summary>
    public string? FallbackReason { get; }

    /// <param name="requested">The backend asked for; null chooses: repair when this process may use it, else plain.</param>
    /// <exception cref="HostConfigurationException">Repair was asked for by name and is not available here.</exception>
    public static HostNetworks Choose(NetworkBackend? requested)
    {
        if (requested == NetworkBackend.Plain)
        {
            return new HostNetworks(NetworkBackend.Plain, null, null);
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

        return requested == NetworkBackend.Repair
            ? throw new HostConfigurationException($"network backend repair is not available here: {reason}")
            : new HostNetworks(NetworkBackend.Plain, reason, null);
    }

    /// <summary>A backend for one VM, which its machine then owns. A service address needs TCP repair: 400 on a plain host.</summary>
    public IHostNetwork Create(ServiceAddress? serviceAddress)
    {
        if (Backend == NetworkBackend.Repair)
        {
            return serviceAddress is null ? new RepairHostNetwork(_lock) : new RepairHostNetwork(serviceAddress);
        }

        return serviceAddress is null
            ? new PlainHostNetwork()
            : throw ApiException.BadRequest($"serviceAddress: a service address moves with TCP repair, and this host uses the plain backend{(FallbackReason is null ? "" : $" ({FallbackReason})")}");
    }

    /// <summary>One line for the daemon's start: which backend, and why when it fell back.</summary>
    public string Describe() => Backend switch
    {
        NetworkBackend.Repair => $"network repair: connections survive migration (TCP repair; network lock: nftables table inet {NetworkLock.TableName})",
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

        try
        {
            _lock.Leave();
        }
        finally
        {
            _lock.Dispose();
        }
    }
}
