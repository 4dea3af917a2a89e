/*
 * General-purpose allocator (see migration.h), in a file of its own so that programs
 * which do not use it link exactly the runtime they always did.
 *
 * Small blocks have no header: a byte map with one entry per 64 KiB window of the heap
 * tells guest_free which size class a window's run serves (0 = not a run), and the run
 * header sits at the start of the window. A run keeps its own free list plus a pointer
 * to its never-used tail, so a new run touches no memory beyond what is handed out.
 * Runs with free blocks are on their class's partial list; a run that empties goes back
 * to the page pool unless it is the class's only partial run, which avoids creating and
 * dropping a run on every allocation at a run boundary.
 *
 * Page extents (free runs of whole pages) are kept in address order so that freeing can
 * merge with both neighbours; an extent that reaches the bump pointer is given back to
 * it, so memory freed by guest_malloc users becomes available to guest_alloc again.
 */
#include "migration.h"

#define RUN_SHIFT 16
#define RUN_SIZE ((uintptr_t)1 << RUN_SHIFT)
#define SMALL_MAX 4096
#define SMALL_CLASS_COUNT 28
#define LARGE_HEADER_SIZE 16
#define LARGE_MAGIC 0x4C617267654C6172ull

/* 16-byte steps to 128, then four classes per power of two. */
static const uint16_t small_class_sizes[SMALL_CLASS_COUNT] = {
    16,   32,   48,   64,   80,   96,   112,  128,  160,  192,  224,  256,  320,  384,
    448,  512,  640,  768,  896,  1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
};

struct run {
    struct run *next;
    struct run *prev;
    void *free_list;
    uint32_t used;
    uint32_t capacity;
    uint32_t fresh;      /* offset of the first never-used block */
    uint32_t block_size;
    uint32_t size_class;
    uint32_t reserved;
};

#define RUN_HEADER_SIZE ((sizeof(struct run) + 15) & ~(size_t)15)

struct extent {
    size_t size;
    struct extent *next;
};

struct large_header {
    size_t size; /* bytes including the header, a whole number of pages */
    uint64_t magic;
};

static int malloc_ready;
static uintptr_t run_map_base;
static size_t run_map_windows;
static uint8_t *run_map;
static struct run *partial_runs[SMALL_CLASS_COUNT];
static struct extent *free_extents;
static size_t extent_free_bytes;
static size_t small_free_bytes;
static size_t malloc_in_use;

static uintptr_t align_up(uintptr_t value, uintptr_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

static uintptr_t bump_top(void)
{
    return guest_heap_top();
}

static size_t bump_room(uintptr_t from)
{
    uintptr_t limit = guest_heap_limit();
    return from < limit ? (size_t)(limit - from) : 0;
}

static void *bump_take(size_t size, uintptr_t alignment)
{
    return guest_alloc_aligned(size, alignment);
}

static int malloc_init(void)
{
    if (malloc_ready) {
        return 1;
    }
    uintptr_t base = guest_heap_start() & ~(RUN_SIZE - 1);
    uintptr_t limit = align_up(guest_heap_limit(), RUN_SIZE);
    if (limit <= base) {
        return 0;
    }
    size_t windows = (size_t)((limit - base) >> RUN_SHIFT);
    uint8_t *map = bump_take(windows, 16);
    if (map == NULL) {
        return 0;
    }
    memset(map, 0, windows);
    run_map_base = base;
    run_map_windows = windows;
    run_map = map;
    malloc_ready = 1;
    return 1;
}

/* Adds [start, start + size) to the free extents; both page aligned. */
static void pages_give(uintptr_t start, size_t size)
{
    struct extent *previous = NULL;
    struct extent *next = free_extents;
    while (next != NULL && (uintptr_t)next < start) {
        previous = next;
        next = next->next;
    }
    struct extent *merged = (struct extent *)start;
    merged->size = size;
    merged->next = next;
    if (next != NULL && start + size == (uintptr_t)next) {
        merged->size += next->size;
        merged->next = next->next;
    }
    if (previous != NULL && (uintptr_t)previous + previous->size == start) {
        previous->size += merged->size;
        previous->next = merged->next;
        merged = previous;
    } else if (previous != NULL) {
        previous->next = merged;
    } else {
        free_extents = merged;
    }
    extent_free_bytes += size;

    /* The extent list is sorted, so only the merged extent can touch the bump pointer. */
    if ((uintptr_t)merged + merged->size == bump_top() && merged->next == NULL) {
        extent_free_bytes -= merged->size;
        guest_heap_lower_top((uintptr_t)merged);
        if (previous != NULL && previous != merged) {
            previous->next = NULL;
        } else {
            struct extent **link = &free_extents;
            while (*link != merged) {
                link = &(*link)->next;
            }
            *link = NULL;
        }
    }
}

/* Takes an aligned piece of whole pages, from the free extents or else the bump pointer. */
static void *pages_take(size_t size, size_t alignment)
{
    struct extent **link = &free_extents;
    for (struct extent *e = free_extents; e != NULL; link = &e->next, e = e->next) {
        uintptr_t start = (uintptr_t)e;
        uintptr_t end = start + e->size;
        uintptr_t aligned = align_up(start, alignment);
        if (aligned >= end || end - aligned < size) {
            continue;
        }
        struct extent *rest = e->next;
        uintptr_t tail = aligned + size;
        if (tail < end) {
            struct extent *right = (struct extent *)tail;
            right->size = end - tail;
            right->next = rest;
            rest = right;
        }
        if (aligned > start) {
            e->size = aligned - start;
            e->next = rest;
        } else {
            *link = rest;
        }
        extent_free_bytes -= size;
        return (void *)aligned;
    }

    uintptr_t before = align_up(bump_top(), GUEST_PAGE_SIZE);
    void *block = bump_take(size, alignment);
    if (block != NULL && (uintptr_t)block > before) {
        /* Keep the pages skipped for alignment instead of losing them. */
        pages_give(before, (uintptr_t)block - before);
    }
    return block;
}

static unsigned small_class_of(size_t size)
{
    if (size <= 128) {
        return size == 0 ? 0 : (unsigned)((size - 1) >> 4);
    }
    size_t rest = size - 1;
    unsigned power = 7;
    while ((rest >> (power + 1)) != 0) {
        power++;
    }
    return 8 + (power - 7) * 4 + (unsigned)((rest - ((size_t)1 << power)) >> (power - 2));
}

static void run_unlink(struct run *run)
{
    if (run->prev != NULL) {
        run->prev->next = run->next;
    } else {
        partial_runs[run->size_class] = run->next;
    }
    if (run->next != NULL) {
        run->next->prev = run->prev;
    }
    run->next = NULL;
    run->prev = NULL;
}

static void run_push(struct run *run)
{
    struct run *head = partial_runs[run->size_class];
    run->prev = NULL;
    run->next = head;
    if (head != NULL) {
        head->prev = run;
    }
    partial_runs[run->size_class] = run;
}

static void *small_alloc(unsigned size_class)
{
    struct run *run = partial_runs[size_class];
    if (run == NULL) {
        run = pages_take(RUN_SIZE, RUN_SIZE);
        if (run == NULL) {
            return NULL;
        }
        uint32_t block_size = small_class_sizes[size_class];
        run->free_list = NULL;
        run->used = 0;
        run->block_size = block_size;
        run->capacity = (uint32_t)((RUN_SIZE - RUN_HEADER_SIZE) / block_size);
        run->fresh = (uint32_t)RUN_HEADER_SIZE;
        run->size_class = size_class;
        run->reserved = 0;
        run_push(run);
        run_map[((uintptr_t)run - run_map_base) >> RUN_SHIFT] = (uint8_t)(size_class + 1);
        small_free_bytes += (size_t)run->capacity * block_size;
    }
    void *block = run->free_list;
    if (block != NULL) {
        run->free_list = *(void **)block;
    } else {
        block = (char *)run + run->fresh;
        run->fresh += run->block_size;
    }
    run->used++;
    if (run->used == run->capacity) {
        run_unlink(run);
    }
    small_free_bytes -= run->block_size;
    malloc_in_use += run->block_size;
    return block;
}

static void small_free(struct run *run, void *block)
{
    *(void **)block = run->free_list;
    run->free_list = block;
    if (run->used == run->capacity) {
        run_push(run);
    }
    run->used--;
    small_free_bytes += run->block_size;
    malloc_in_use -= run->block_size;
    if (run->used == 0 && (run->prev != NULL || run->next != NULL)) {
        run_unlink(run);
        run_map[((uintptr_t)run - run_map_base) >> RUN_SHIFT] = 0;
        small_free_bytes -= (size_t)run->capacity * run->block_size;
        pages_give((uintptr_t)run, RUN_SIZE);
    }
}

/* The run holding `pointer`, or NULL for a large block (or a pointer not from here). */
static struct run *run_of(const void *pointer)
{
    uintptr_t address = (uintptr_t)pointer;
    if (!malloc_ready || address < run_map_base) {
        return NULL;
    }
    size_t window = (size_t)((address - run_map_base) >> RUN_SHIFT);
    if (window >= run_map_windows || run_map[window] == 0) {
        return NULL;
    }
    return (struct run *)(address & ~(RUN_SIZE - 1));
}

static struct large_header *large_of(const void *pointer)
{
    uintptr_t address = (uintptr_t)pointer;
    if (!malloc_ready || (address & (GUEST_PAGE_SIZE - 1)) != LARGE_HEADER_SIZE) {
        return NULL;
    }
    struct large_header *header = (struct large_header *)(address - LARGE_HEADER_SIZE);
    return header->magic == LARGE_MAGIC ? header : NULL;
}

/* Whole pages for a large block of `size` usable bytes; 0 if that overflows. */
static size_t large_bytes(size_t size)
{
    if (size > SIZE_MAX - LARGE_HEADER_SIZE - GUEST_PAGE_SIZE) {
        return 0;
    }
    return (size_t)align_up(size + LARGE_HEADER_SIZE, GUEST_PAGE_SIZE);
}

void *guest_malloc(size_t size)
{
    if (!malloc_init()) {
        return NULL;
    }
    if (size <= SMALL_MAX) {
        return small_alloc(small_class_of(size));
    }
    size_t bytes = large_bytes(size);
    if (bytes == 0) {
        return NULL;
    }
    struct large_header *header = pages_take(bytes, GUEST_PAGE_SIZE);
    if (header == NULL) {
        return NULL;
    }
    header->size = bytes;
    header->magic = LARGE_MAGIC;
    malloc_in_use += bytes - LARGE_HEADER_SIZE;
    return (char *)header + LARGE_HEADER_SIZE;
}

void *guest_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    void *block = guest_malloc(count * size);
    if (block != NULL) {
        memset(block, 0, count * size);
    }
    return block;
}

void guest_free(void *pointer)
{
    if (pointer == NULL) {
        return;
    }
    struct run *run = run_of(pointer);
    if (run != NULL) {
        small_free(run, pointer);
        return;
    }
    struct large_header *header = large_of(pointer);
    if (header == NULL) {
        return; /* not ours: ignoring it beats corrupting the lists */
    }
    header->magic = 0;
    malloc_in_use -= header->size - LARGE_HEADER_SIZE;
    pages_give((uintptr_t)header, header->size);
}

size_t guest_malloc_usable_size(const void *pointer)
{
    struct run *run = run_of(pointer);
    if (run != NULL) {
        return run->block_size;
    }
    struct large_header *header = large_of(pointer);
    return header != NULL ? header->size - LARGE_HEADER_SIZE : 0;
}

/* Resizes a large block where it is; returns 1 on success. */
static int large_resize_in_place(struct large_header *header, size_t bytes)
{
    uintptr_t start = (uintptr_t)header;
    uintptr_t end = start + header->size;
    if (bytes <= header->size) {
        size_t spare = header->size - bytes;
        if (spare != 0) {
            header->size = bytes;
            malloc_in_use -= spare;
            pages_give(start + bytes, spare);
        }
        return 1;
    }
    size_t extra = bytes - header->size;
    if (end == bump_top()) {
        if (bump_take(extra, 1) == NULL) {
            return 0;
        }
    } else {
        struct extent **link = &free_extents;
        while (*link != NULL && (uintptr_t)*link < end) {
            link = &(*link)->next;
        }
        struct extent *neighbour = *link;
        if ((uintptr_t)neighbour != end || neighbour->size < extra) {
            return 0;
        }
        if (neighbour->size == extra) {
            *link = neighbour->next;
        } else {
            struct extent *right = (struct extent *)(end + extra);
            right->size = neighbour->size - extra;
            right->next = neighbour->next;
            *link = right;
        }
        extent_free_bytes -= extra;
    }
    header->size = bytes;
    malloc_in_use += extra;
    return 1;
}

void *guest_realloc(void *pointer, size_t size)
{
    if (pointer == NULL) {
        return guest_malloc(size);
    }
    if (size == 0) {
        guest_free(pointer);
        return NULL;
    }
    size_t old_size = guest_malloc_usable_size(pointer);
    if (old_size == 0) {
        return NULL;
    }
    if (old_size <= SMALL_MAX) {
        /* Stay in the block unless it would end up less than half used. */
        if (size <= old_size && (size > old_size / 2 || old_size <= 16)) {
            return pointer;
        }
    } else if (size > SMALL_MAX) {
        size_t bytes = large_bytes(size);
        if (bytes != 0 &&
            large_resize_in_place((struct large_header *)((char *)pointer -
                                                          LARGE_HEADER_SIZE),
                                  bytes)) {
            return pointer;
        }
    }
    void *moved = guest_malloc(size);
    if (moved == NULL) {
        return NULL;
    }
    memcpy(moved, pointer, old_size < size ? old_size : size);
    guest_free(pointer);
    return moved;
}

void guest_malloc_stats(struct guest_malloc_stats *stats)
{
    uintptr_t start = guest_heap_start();
    uintptr_t limit = guest_heap_limit();
    stats->heap_size = limit > start ? (size_t)(limit - start) : 0;
    stats->in_use = malloc_in_use;
    stats->free_estimate = bump_room(bump_top()) + extent_free_bytes + small_free_bytes;
}
