namespace Migration.Core.Pages;

public sealed class PageDecodeOptions
{
    private readonly int _maxDegreeOfParallelism = Environment.ProcessorCount;

    public static PageDecodeOptions Default { get; } = new();

    public ZeroPageWrite ZeroPages { get; init; } = ZeroPageWrite.Skip;

    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _maxDegreeOfParallelism = value;
        }
    }
}
