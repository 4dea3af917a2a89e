namespace Migration.Host.Api;

/// <summary>An RFC 7807 problem details body, as every error response carries it; <see cref="Detail"/> is the one line to show a person.</summary>
public sealed record ApiProblem(string Type, string Title, int Status, string Detail);
