using System.Globalization;
using Migration.Host.Api;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Migration.Cli.Commands;

/// <summary>The tables of <c>vm list</c> and <c>vm show</c>. Cells are plain text: a name with brackets is not markup.</summary>
internal static class VmTables
{
    public static Table List(IReadOnlyList<VmInfo> vms)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var heading in new[] { "ID", "NAME", "STATE", "MEMORY", "PORTS", "AGE", "FROM" })
        {
            table.AddColumn(new TableColumn(new Text(heading)));
        }

        foreach (var vm in vms)
        {
            table.AddRow(Cells(vm.Id, vm.Name, VmText.State(vm), VmText.Size(vm.Memory), VmText.Ports(vm), VmText.Age(vm.CreatedAt), Origin(vm)));
        }

        return table;
    }

    public static IRenderable Details(VmInfo vm)
    {
        var c = CultureInfo.InvariantCulture;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string key, string value) => grid.AddRow(Cells(key, value));
        Row("id", vm.Id);
        Row("name", vm.Name);
        Row("state", vm.State.ToString());
        if (vm.Unresolved is { } unresolved)
        {
            Row("held", unresolved);
        }
        if (vm.Exit is { } exit)
        {
            Row("exit", VmText.Exit(exit));
        }

        Row("memory", VmText.Size(vm.Memory));
        Row("network", vm.Network.ToString().ToLowerInvariant());
        if (vm.ServiceAddress is { } serviceAddress)
        {
            Row("service address", serviceAddress);
        }

        Row("from", Origin(vm));
        if (vm.Arguments.Count > 0)
        {
            Row("args", string.Join(' ', vm.Arguments));
        }

        Row("created", string.Create(c, $"{vm.CreatedAt:u} ({VmText.Age(vm.CreatedAt)} ago)"));
        Row("console", string.Create(c, $"{vm.ConsoleBytes:N0} bytes"));
        Row("instructions", string.Create(c, $"{vm.InstructionsRetired:N0}"));
        if (vm.Ports.Count == 0)
        {
            Row("ports", "-");
            return grid;
        }

        var ports = new Table().Border(TableBorder.Rounded);
        foreach (var heading in new[] { "GUEST", "PROTO", "HOST", "ASKED" })
        {
            ports.AddColumn(new TableColumn(new Text(heading)));
        }

        foreach (var p in vm.Ports)
        {
            ports.AddRow(Cells(p.GuestPort.ToString(c), p.Protocol ?? "-", p.Host ?? "(not bound yet)", p.Requested ?? "-"));
        }

        return new Rows(grid, ports);
    }

    private static string Origin(VmInfo vm) => vm.Guest ?? (vm.RestoredFrom is { } file ? "checkpoint " + file : "-");

    private static IRenderable[] Cells(params string[] values) => [.. values.Select(v => new Text(v))];
}
