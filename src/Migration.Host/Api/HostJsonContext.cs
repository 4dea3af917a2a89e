using System.Text.Json;
using System.Text.Json.Serialization;

namespace Migration.Host.Api;

/// <summary>
/// The API's JSON, generated at build time; the daemon and <see cref="Client.ApiClient"/> share it, so both ends agree on
/// names (camelCase), enums (by name) and nulls (left out).
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(VmInfo))]
[JsonSerializable(typeof(List<VmInfo>))]
[JsonSerializable(typeof(CreateVmRequest))]
[JsonSerializable(typeof(RestoreVmRequest))]
[JsonSerializable(typeof(CheckpointRequest))]
[JsonSerializable(typeof(CheckpointJobResult))]
[JsonSerializable(typeof(MigrateVmRequest))]
[JsonSerializable(typeof(MigrationJobResult))]
[JsonSerializable(typeof(MigrationJobProgress))]
[JsonSerializable(typeof(ConsoleChunk))]
[JsonSerializable(typeof(HostInfo))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(List<JobInfo>))]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class HostJsonContext : JsonSerializerContext
{
}
