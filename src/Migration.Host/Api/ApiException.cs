using Microsoft.AspNetCore.Http;

namespace Migration.Host.Api;

/// <summary>
/// A request the API refuses, with the HTTP status and the one-line detail of its problem response. Thrown by the
/// daemon's handlers (and turned into problem details there) and by <see cref="Client.ApiClient"/> when the daemon answers with one.
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException()
        : this(StatusCodes.Status500InternalServerError, "internal error")
    {
    }

    public ApiException(string message)
        : this(StatusCodes.Status500InternalServerError, message)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = StatusCodes.Status500InternalServerError;
    }

    public ApiException(int status, string detail, Exception? innerException = null)
        : base(detail, innerException)
    {
        Status = status;
    }

    public int Status { get; }

    public static ApiException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    public static ApiException NotFound(string detail) => new(StatusCodes.Status404NotFound, detail);

    public static ApiException Conflict(string detail) => new(StatusCodes.Status409Conflict, detail);

    public static ApiException Unprocessable(string detail, Exception? inner = null) => new(StatusCodes.Status422UnprocessableEntity, detail, inner);

    public static ApiException ServiceUnavailable(string detail, Exception? inner = null) => new(StatusCodes.Status503ServiceUnavailable, detail, inner);

    public static ApiException InsufficientStorage(string detail, Exception? inner = null) => new(StatusCodes.Status507InsufficientStorage, detail, inner);
}
