namespace Migration.Cli.Bench;

/// <summary>What the benchmark puts in guest memory before a checkpoint; each pattern exercises a different page-codec path.</summary>
internal enum ContentPattern
{
    /// <summary>Incompressible bytes: every page goes out raw.</summary>
    Random,

    /// <summary>Nothing written, so the pages keep the zeros of fresh memory and stay clean in the dirty log.</summary>
    Zero,

    /// <summary>Prose-like pages that LZ4 shrinks two- to threefold.</summary>
    Text,
}
