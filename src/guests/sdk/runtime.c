/*
 * Freestanding runtime for guest programs: the mem* functions GCC may call, string and
 * number helpers, console output and a bump allocator (malloc.c builds on it).
 */
#include "migration.h"

#ifndef GUEST_HOST_BUILD

/*
 * GCC recognises these loops as memset/memcpy patterns and would replace them with calls
 * to the very functions being defined, recursing forever.
 */
#define NO_LIBCALL_PATTERNS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL_PATTERNS void *memset(void *destination, int value, size_t length)
{
    unsigned char *bytes = destination;
    unsigned char byte = (unsigned char)value;
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        *bytes++ = byte;
        length--;
    }
    uint64_t pattern = byte * 0x0101010101010101ull;
    uint64_t *words = (uint64_t *)bytes;
    for (; length >= 8; length -= 8) {
        *words++ = pattern;
    }
    bytes = (unsigned char *)words;
    while (length-- > 0) {
        *bytes++ = byte;
    }
    return destination;
}

NO_LIBCALL_PATTERNS void *memcpy(void *destination, const void *source, size_t length)
{
    unsigned char *to = destination;
    const unsigned char *from = source;
    /* Word copies only when both sides can become aligned together. */
    if ((((uintptr_t)to ^ (uintptr_t)from) & 7) == 0) {
        while (length > 0 && ((uintptr_t)to & 7) != 0) {
            *to++ = *from++;
            length--;
        }
        uint64_t *to_words = (uint64_t *)to;
        const uint64_t *from_words = (const uint64_t *)from;
        for (; length >= 8; length -= 8) {
            *to_words++ = *from_words++;
        }
        to = (unsigned char *)to_words;
        from = (const unsigned char *)from_words;
    }
    while (length-- > 0) {
        *to++ = *from++;
    }
    return destination;
}

NO_LIBCALL_PATTERNS void *memmove(void *destination, const void *source, size_t length)
{
    unsigned char *to = destination;
    const unsigned char *from = source;
    if (to == from || length == 0) {
        return destination;
    }
    if (to < from || to >= from + length) {
        return memcpy(destination, source, length);
    }
    /* Overlap with the destination above the source: copy from the end. */
    while (length-- > 0) {
        to[length] = from[length];
    }
    return destination;
}

int memcmp(const void *left, const void *right, size_t length)
{
    const unsigned char *a = left;
    const unsigned char *b = right;
    for (size_t i = 0; i < length; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

size_t strlen(const char *text)
{
    const char *end = text;
    while (*end != '\0') {
        end++;
    }
    return (size_t)(end - text);
}

int strcmp(const char *left, const char *right)
{
    const unsigned char *a = (const unsigned char *)left;
    const unsigned char *b = (const unsigned char *)right;
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (int)*a - (int)*b;
}

#endif /* !GUEST_HOST_BUILD */

int parse_u64(const char *text, uint64_t *value)
{
    if (text == NULL || *text == '\0') {
        return -1;
    }
    uint64_t base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
        if (*text == '\0') {
            return -1;
        }
    }
    uint64_t result = 0;
    for (; *text != '\0'; text++) {
        char c = *text;
        uint64_t digit;
        if (c >= '0' && c <= '9') {
            digit = (uint64_t)(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = (uint64_t)(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = (uint64_t)(c - 'A' + 10);
        } else {
            return -1;
        }
        if (result > (UINT64_MAX - digit) / base) {
            return -1;
        }
        result = result * base + digit;
    }
    *value = result;
    return 0;
}

size_t format_u64(char *out, uint64_t value)
{
    char reversed[FORMAT_U64_CAPACITY];
    size_t count = 0;
    do {
        reversed[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    for (size_t i = 0; i < count; i++) {
        out[i] = reversed[count - 1 - i];
    }
    out[count] = '\0';
    return count;
}

size_t format_i64(char *out, int64_t value)
{
    if (value < 0) {
        out[0] = '-';
        /* Negating in unsigned arithmetic keeps INT64_MIN representable. */
        return 1 + format_u64(out + 1, 0 - (uint64_t)value);
    }
    return format_u64(out, (uint64_t)value);
}

size_t format_hex64(char *out, uint64_t value)
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 16; i++) {
        out[2 + i] = digits[(value >> (60 - 4 * i)) & 0xF];
    }
    out[18] = '\0';
    return 18;
}

static long write_all(const char *text, size_t length)
{
    size_t done = 0;
    while (done < length) {
        long written = console_write(text + done, length - done);
        if (written < 0) {
            return written;
        }
        if (written == 0) {
            return -GUEST_EAGAIN;
        }
        done += (size_t)written;
    }
    return (long)done;
}

long print(const char *text)
{
    return write_all(text, strlen(text));
}

long print_u64(uint64_t value)
{
    char text[FORMAT_U64_CAPACITY];
    return write_all(text, format_u64(text, value));
}

long print_i64(int64_t value)
{
    char text[FORMAT_I64_CAPACITY];
    return write_all(text, format_i64(text, value));
}

long print_hex64(uint64_t value)
{
    char text[FORMAT_HEX64_CAPACITY];
    return write_all(text, format_hex64(text, value));
}

void line_begin(struct line_buffer *line)
{
    line->length = 0;
}

static void line_append(struct line_buffer *line, const char *text, size_t length)
{
    /* One byte stays free for the newline added by line_end. */
    size_t room = LINE_BUFFER_CAPACITY - 1 - line->length;
    if (length > room) {
        length = room;
    }
    for (size_t i = 0; i < length; i++) {
        line->text[line->length + i] = text[i];
    }
    line->length += length;
}

void line_text(struct line_buffer *line, const char *text)
{
    line_append(line, text, strlen(text));
}

void line_u64(struct line_buffer *line, uint64_t value)
{
    char text[FORMAT_U64_CAPACITY];
    line_append(line, text, format_u64(text, value));
}

void line_i64(struct line_buffer *line, int64_t value)
{
    char text[FORMAT_I64_CAPACITY];
    line_append(line, text, format_i64(text, value));
}

void line_hex64(struct line_buffer *line, uint64_t value)
{
    char text[FORMAT_HEX64_CAPACITY];
    line_append(line, text, format_hex64(text, value));
}

long line_end(struct line_buffer *line)
{
    line->text[line->length++] = '\n';
    long result = write_all(line->text, line->length);
    line->length = 0;
    return result;
}

#ifdef GUEST_HOST_BUILD
/* Stands in for guest RAM above the image when running natively (see host_shim.c). */
static uintptr_t host_heap_start;
static uintptr_t host_heap_limit;

static void host_heap_init(void)
{
    if (host_heap_start == 0) {
        host_heap_bounds(&host_heap_start, &host_heap_limit);
        guest_memory_limit = host_heap_limit;
    }
}

static uintptr_t host_heap_begin(void)
{
    host_heap_init();
    return host_heap_start;
}

static uintptr_t host_heap_end(void)
{
    host_heap_init();
    return host_heap_limit;
}

#define HEAP_START host_heap_begin()
#define HEAP_LIMIT host_heap_end()
uint64_t guest_memory_limit;
#else
extern char __heap_start[];
/* Written by crt0 from a2 after .bss is cleared. */
uint64_t guest_memory_limit;
#define HEAP_START ((uintptr_t)__heap_start)
#define HEAP_LIMIT ((uintptr_t)guest_memory_limit)
#endif

static uintptr_t heap_next;

static uintptr_t heap_position(void)
{
    return heap_next != 0 ? heap_next : HEAP_START;
}

static int alignment_is_valid(size_t alignment)
{
    return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

size_t guest_heap_available(size_t alignment)
{
    if (!alignment_is_valid(alignment)) {
        return 0;
    }
    uintptr_t start = heap_position();
    uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
    uintptr_t limit = HEAP_LIMIT;
    if (aligned < start || aligned >= limit) {
        return 0;
    }
    return limit - aligned;
}

void *guest_alloc_aligned(size_t size, size_t alignment)
{
    if (!alignment_is_valid(alignment)) {
        return NULL;
    }
    if (size > guest_heap_available(alignment)) {
        return NULL;
    }
    uintptr_t start = heap_position();
    uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
    heap_next = aligned + size;
    return (void *)aligned;
}

void *guest_alloc(size_t size)
{
    return guest_alloc_aligned(size, 16);
}

/*
 * For the allocator in malloc.c, which takes its memory from the bump pointer and hands
 * back pages that end at the top. Kept apart from the functions above so that their
 * compiled form, and the images of programs that only use them, stay as they were.
 */
uintptr_t guest_heap_start(void)
{
    return HEAP_START;
}

uintptr_t guest_heap_top(void)
{
    return heap_next != 0 ? heap_next : HEAP_START;
}

uintptr_t guest_heap_limit(void)
{
    return HEAP_LIMIT;
}

void guest_heap_lower_top(uintptr_t top)
{
    uintptr_t current = heap_next != 0 ? heap_next : HEAP_START;
    if (top >= HEAP_START && top < current) {
        heap_next = top;
    }
}
