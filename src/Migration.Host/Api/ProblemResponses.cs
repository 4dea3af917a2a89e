using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Migration.Host.Api;

/// <summary>
/// Turns every refusal into an RFC 7807 problem response with one <c>detail</c> line: <see cref="ApiException"/> from
/// the handlers, binding failures (malformed JSON, a query value of the wrong type) from the framework, and — as 500 —
/// anything unexpected, which is also logged.
/// </summary>
internal static class ProblemResponses
{
    public const string ContentType = "application/problem+json";

    public static async Task HandleAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, e.Status, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, e.StatusCode, Describe(e)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
#pragma warning disable CA1031 // The last resort: a problem response instead of a dropped connection.
        catch (Exception e) when (!context.Response.HasStarted)
#pragma warning restore CA1031
        {
            Log.RequestCrashed(logger, e, context.Request.Method, context.Request.Path);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, $"internal error: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
        }
    }

    public static Task WriteAsync(HttpContext context, int status, string detail)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        var problem = new ApiProblem("about:blank", ReasonPhrases.GetReasonPhrase(status), status, detail);
        return context.Response.WriteAsJsonAsync(problem, HostJsonContext.Default.ApiProblem, ContentType, context.RequestAborted);
    }

    private static string Describe(BadHttpRequestException e) => e.InnerException switch
    {
        JsonException json => $"the request body is not valid JSON for this call: {json.Message}",
        _ => e.Message,
    };
}
