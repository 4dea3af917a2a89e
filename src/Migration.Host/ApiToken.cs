using System.Security.Cryptography;
using System.Text;

namespace Migration.Host;

/// <summary>
/// The bearer token a daemon on a loopback port requires: loopback is reachable by every user of the machine, so the
/// port alone would hand the host's VMs to anyone. 32 random bytes, base64url; <see cref="ToString"/> hides it, so it
/// cannot reach a log by accident.
/// </summary>
public sealed class ApiToken
{
    public const int RandomBytes = 32;

    private readonly byte[] _value;

    private ApiToken(string text)
    {
        Text = text;
        _value = Encoding.ASCII.GetBytes(text);
    }

    /// <summary>The token as sent in <c>Authorization: Bearer …</c> and kept in the token file.</summary>
    public string Text { get; }

    public static ApiToken Generate() => new(Base64Url(RandomNumberGenerator.GetBytes(RandomBytes)));

    public static ApiToken FromText(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        return new ApiToken(text.Trim());
    }

    /// <summary>
    /// True when the header is <c>Bearer</c> followed by this token. The comparison takes the same time wherever the
    /// first wrong byte is, so the response time tells a guesser nothing about the token.
    /// </summary>
    public bool Accepts(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var offered = Encoding.UTF8.GetBytes(authorization.AsSpan(scheme.Length).Trim().ToString());
        return CryptographicOperations.FixedTimeEquals(offered, _value);
    }

    public override string ToString() => "(token)";

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
