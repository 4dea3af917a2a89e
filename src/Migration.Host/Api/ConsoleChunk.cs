namespace Migration.Host.Api;

/// <summary>What <c>GET /vms/{id}/console?offset=N</c> returns.</summary>
/// <param name="Offset">Console offset of the first byte of <paramref name="Data"/>: the one asked for, or the oldest kept when that is gone.</param>
/// <param name="NextOffset">The offset to ask for next.</param>
/// <param name="Missed">Bytes from the offset asked for that the bounded buffer no longer holds (or, after a restore, never held).</param>
/// <param name="Data">The guest's bytes, base64 in JSON.</param>
/// <param name="Ended">The VM has finished and <paramref name="NextOffset"/> is the end: nothing more will come.</param>
public sealed record ConsoleChunk(long Offset, long NextOffset, long Missed, byte[] Data, VmState State, bool Ended);
