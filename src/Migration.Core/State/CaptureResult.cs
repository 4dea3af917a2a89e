using Migration.Core.Pages;
using Migration.Core.Streams;

namespace Migration.Core.State;

public sealed record CaptureResult(StreamSummary Stream, PageBatchStats Pages, int Sockets, TimeSpan Elapsed);
