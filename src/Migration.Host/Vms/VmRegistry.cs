using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Migration.Core.Checkpoints;
using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Host.Api;
using Migration.Host.Network;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.Loader;
using Migration.Networking.Repair;

namespace Migration.Host.Vms;

/// <summary>
/// The daemon's VMs by id. A VM that ends keeps its record (state, exit) until it is deleted. Ids are made here, or
/// — for a VM arriving by migration — taken from the source through <see cref="ReserveIncoming"/>.
/// </summary>
public sealed class VmRegistry : IAsyncDisposable
{
    public const int MaxNameLength = 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, HostedVm> _vms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);
    private readonly int _consoleCapacity;
    private readonly HostNetworks _networks;
    private readonly ILogger _logger;
    private bool _closed;

    public VmRegistry(int consoleCapacity, HostNetworks networks, ILogger<VmRegistry> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consoleCapacity, 1);
        ArgumentNullException.ThrowIfNull(networks);
        _consoleCapacity = consoleCapacity;
        _networks = networks;
        _logger = logger;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _vms.Count;
            }
        }
    }

    public IReadOnlyList<HostedVm> List()
    {
        lock (_lock)
        {
            return [.. _vms.Values.OrderBy(v => v.Spec.CreatedAt).ThenBy(v => v.Id, StringComparer.Ordinal)];
        }
    }

    public HostedVm Get(string id)
    {
        lock (_lock)
        {
            return _vms.GetValueOrDefault(id) ?? throw ApiException.NotFound($"no VM {id} on this host");
        }
    }

    /// <summary>Loads the ELF into a new machine and starts it. Refusals: 400 bad request, 422 ELF refused, 507 no memory.</summary>
    public HostedVm Create(CreateVmRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Guest))
        {
            throw ApiException.BadRequest("guest: give the path of a RISC-V ELF file");
        }

        var memory = request.Memory ?? GuestMemory.DefaultSize;
        if (memory < GuestMemory.MinimumSize || memory > GuestMemory.MaximumSize || memory % GuestMemory.PageSize != 0)
        {
            throw ApiException.BadRequest(
                $"memory: {memory} bytes is not a whole number of {GuestMemory.PageSize >> 10} KiB pages between {GuestMemory.MinimumSize >> 20} MiB and {GuestMemory.MaximumSize >> 30} GiB");
        }

        var ports = PortSpec.ToPortMap(request.Ports);
        var arguments = request.Args ?? [];
        if (arguments.Any(a => a is null))
        {
            throw ApiException.BadRequest("args: every argument must be a string");
        }

        var guest = FullPath(request.Guest, "guest");
        var name = CheckName(request.Name ?? Path.GetFileNameWithoutExtension(guest));
        var serviceAddress = request.ServiceAddress is null ? null : ParseServiceAddress(request.ServiceAddress);
        string id;
        lock (_lock)
        {
            id = NewId();
        }

        var vm = new HostedVm(new VmSpec(id, name, guest, [.. arguments], DateTimeOffset.UtcNow, ports, ServiceAddress: serviceAddress?.ToString()), _consoleCapacity, _logger);
        var network = CreateNetwork(vm, serviceAddress);
        RiscVMachine machine;
        try
        {
            machine = RiscVMachine.Load(guest, new MachineOptions
            {
                MemorySize = memory,
                Console = vm.ConsoleStream,
                Arguments = vm.Spec.Arguments,
                Network = network,
                Ports = ports,
            });
        }
        catch (ElfLoadException e)
        {
            network.Dispose();
            throw ApiException.Unprocessable(e.Message, e);
        }
        catch (ArgumentException e)
        {
            // Arguments too long for the argument block, or an image that leaves no room for it.
            network.Dispose();
            throw ApiException.Unprocessable($"{Path.GetFileName(guest)}: {e.Message}", e);
        }
        catch (InsufficientMemoryException e)
        {
            network.Dispose();
            throw ApiException.InsufficientStorage($"{Path.GetFileName(guest)}: {e.Message}", e);
        }

        if (serviceAddress is not null)
        {
            try
            {
                serviceAddress.Claim();
            }
            catch (ServiceAddressException e)
            {
                machine.Dispose();
                throw ApiException.Unprocessable(e.Message, e);
            }
        }

        Register(vm, machine, [], start: true, v => Log.Created(_logger, v.Id, guest, memory));
        return vm;
    }

    /// <summary>Rebuilds the machine a checkpoint file holds (with its chain) as a new VM — with a new id unless one is asked for — and starts it.</summary>
    public async Task<HostedVm> RestoreAsync(RestoreVmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.File))
        {
            throw ApiException.BadRequest("file: give the path of a checkpoint file (.mck)");
        }

        var ports = PortSpec.ToPortMap(request.Ports);
        var file = FullPath(request.File, "file");
        var name = CheckName(request.Name ?? Path.GetFileNameWithoutExtension(file));
        if (request.Id is not null && !VmId.IsValid(request.Id))
        {
            throw ApiException.BadRequest($"id: '{request.Id}' is not a VM id (vm-xxxxxx)");
        }

        string id;
        lock (_lock)
        {
            ThrowIfClosed();
            if (request.Id is { } asked && (_vms.ContainsKey(asked) || _reserved.Contains(asked)))
            {
                throw ApiException.Conflict($"{asked} is on this host already: delete it before resuming a checkpoint under its id");
            }

            id = request.Id ?? NewId();
            _reserved.Add(id);
        }

        try
        {
            var vm = new HostedVm(new VmSpec(id, name, null, [], DateTimeOffset.UtcNow, ports, file), _consoleCapacity, _logger);
            ResumedMachine resumed;
            try
            {
                resumed = await RiscVCheckpoint.ResumeFileAsync(
                    file, new MachineOptions { Console = vm.ConsoleStream, Network = CreateNetwork(vm, null), Ports = ports }, cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointException e)
            {
                throw ApiException.Unprocessable(e.Message, e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ApiException.Unprocessable($"{file}: {e.Message}", e);
            }
            catch (InsufficientMemoryException e)
            {
                throw ApiException.InsufficientStorage($"{file}: {e.Message}", e);
            }

            Register(vm, resumed.Machine, resumed.Rebindings, start: true, v => Log.Restored(_logger, v.Id, file));
            return vm;
        }
        finally
        {
            Release(id);
        }
    }

    /// <summary>
    /// Holds <paramref name="spec"/>'s id for a VM arriving by migration: the destination's seam. The engine builds the
    /// machine with <see cref="IncomingVm.CreateMachineOptions"/>, then commits it (registered, started) after the
    /// hand-over, or disposes the reservation to discard it. 400 for a malformed id, 409 when the id is in use here.
    /// </summary>
    public IncomingVm ReserveIncoming(VmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!VmId.IsValid(spec.Id))
        {
            throw ApiException.BadRequest($"'{spec.Id}' is not a VM id (lowercase letters, digits, '-' and '_', at most {VmId.MaxLength})");
        }

        CheckName(spec.Name);
        lock (_lock)
        {
            ThrowIfClosed();
            if (_vms.ContainsKey(spec.Id) || !_reserved.Add(spec.Id))
            {
                throw ApiException.Conflict($"a VM {spec.Id} already exists on this host");
            }
        }

        return new IncomingVm(this, new HostedVm(spec, _consoleCapacity, _logger));
    }

    /// <summary>Terminates the VM, frees its memory and host ports, and forgets it. 404 when there is no such VM.</summary>
    public async Task DeleteAsync(string id)
    {
        HostedVm? vm;
        lock (_lock)
        {
            if (!_vms.Remove(id, out vm))
            {
                throw ApiException.NotFound($"no VM {id} on this host");
            }
        }

        await vm.TerminateAsync().ConfigureAwait(false);
        Log.Deleted(_logger, id);
    }

    /// <summary>Terminates every VM; the registry refuses new ones from then on.</summary>
    public async ValueTask DisposeAsync()
    {
        HostedVm[] vms;
        lock (_lock)
        {
            _closed = true;
            vms = [.. _vms.Values];
            _vms.Clear();
        }

        await Task.WhenAll(vms.Select(vm => vm.TerminateAsync())).ConfigureAwait(false);
    }

    /// <summary>Adds the VM with its machine and starts it; <paramref name="announce"/> logs its arrival before the guest can log its end.</summary>
    internal void Register(HostedVm vm, RiscVMachine machine, IReadOnlyList<SocketRebinding> rebindings, bool start, Action<HostedVm> announce)
    {
        lock (_lock)
        {
            if (_closed || _vms.ContainsKey(vm.Id))
            {
                machine.Dispose();
                ThrowIfClosed();
                throw ApiException.Conflict($"a VM {vm.Id} already exists on this host");
            }

            vm.Attach(machine, rebindings);
            _vms.Add(vm.Id, vm);
            announce(vm);
            if (start)
            {
                vm.Start();
            }
        }
    }

    internal void Arrived(HostedVm vm) => Log.Arrived(_logger, vm.Id);

    /// <summary>A backend for an arriving VM, with the service address it brings (claimed here when it starts).</summary>
    internal IHostNetwork CreateNetwork(HostedVm vm) =>
        CreateNetwork(vm, vm.Spec.ServiceAddress is { } text ? ParseServiceAddress(text) : null);

    internal void Release(string id)
    {
        lock (_lock)
        {
            _reserved.Remove(id);
        }
    }

    private IHostNetwork CreateNetwork(HostedVm vm, ServiceAddress? serviceAddress)
    {
        var network = _networks.Create(serviceAddress, vm.Id);
        vm.Network = _networks.Backend;
        return network;
    }

    private static ServiceAddress ParseServiceAddress(string text)
    {
        try
        {
            return ServiceAddress.Parse(text);
        }
        catch (ServiceAddressException e)
        {
            throw ApiException.BadRequest($"serviceAddress: {e.Message}");
        }
    }

    private static string FullPath(string path, string field)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest($"{field}: '{path}' is not a path: {e.Message}");
        }
    }

    private static string CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw ApiException.BadRequest($"name: '{name}' must be 1 to {MaxNameLength} printable characters");
        }

        return name;
    }

    /// <summary>A fresh id, unused and unreserved; called under the lock.</summary>
    private string NewId()
    {
        ThrowIfClosed();
        string id;
        do
        {
            id = VmId.New();
        }
        while (_vms.ContainsKey(id) || _reserved.Contains(id));
        return id;
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, "the host is shutting down");
        }
    }
}
