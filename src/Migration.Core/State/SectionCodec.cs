using MessagePack;

namespace Migration.Core.State;

/// <summary>
/// Turns contracts into sections and back. Reading treats the body as hostile: MessagePack's untrusted-data mode
/// bounds nesting and hashing, and every failure names the section.
/// </summary>
public static class SectionCodec
{
    private static readonly MessagePackSerializerOptions Untrusted =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    public static StateSection Encode<T>(string name, int version, T value) =>
        new(name, version, MessagePackSerializer.Serialize(value, MessagePackSerializerOptions.Standard));

    /// <summary>Decodes a section of a version this build reads; other versions are refused by name and number.</summary>
    public static T Decode<T>(StateSection section, int supportedVersion)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section.Version != supportedVersion)
        {
            throw new StateSectionException(section.Name, $"version {section.Version} is not supported; this build reads {supportedVersion}");
        }

        try
        {
            var value = MessagePackSerializer.Deserialize<T>(section.Body, Untrusted, out var read)
                ?? throw new StateSectionException(section.Name, "the body is nil");
            if (read != section.Body.Length)
            {
                throw new StateSectionException(section.Name, $"{section.Body.Length - read} bytes follow the body");
            }

            return value;
        }
        catch (MessagePackSerializationException e)
        {
            throw new StateSectionException(section.Name, $"undecodable body: {OneLine(Innermost(e).Message)}", e);
        }
    }

    /// <summary>An argument check inside a constructor adds "Actual value was …" on a line of its own; a refusal is one line.</summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
