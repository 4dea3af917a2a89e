namespace Migration.Core.Pages;

/// <summary>One row of a batch's page table; <see cref="PayloadOffset"/> counts from the start of the batch.</summary>
public readonly record struct PageEntry(int Index, int PageNumber, PageKind Kind, int PayloadOffset, int Length);
