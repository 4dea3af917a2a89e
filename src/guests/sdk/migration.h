/*
 * Guest SDK: the machine's entry convention, its hypercall ABI and small freestanding
 * helpers for RV64IM guest programs.
 *
 * Entry convention
 *   The ELF entry point _start is at 0x80000000, the base of guest RAM. On entry:
 *     a0  argc
 *     a1  argv: guest address of a NULL-terminated array of 8-byte pointers to
 *         NUL-terminated strings; argv[0] is the program name
 *     a2  lowest guest address of the host's argument block, which is the exclusive upper
 *         limit of memory the guest may use as heap: [__heap_start, a2)
 *   crt0 sets gp and sp (__stack_top, a 256 KiB stack), zeroes .bss, stores a2 in
 *   guest_memory_limit, calls main(argc, argv) and exits with main's return value.
 *   The SDK installs no trap handler: any exception stops the machine.
 *
 * Hypercall ABI (ecall)
 *   Number in a7, arguments in a0..a5, result in a0. A negative result is -errno using
 *   Linux errno numbers (GUEST_E* below). Unknown numbers return -ENOSYS (-38).
 *     0  exit(code)                  does not return
 *     1  console_write(buf, len)     bytes written, or -errno
 *     2  clock_monotonic()           virtual monotonic clock in nanoseconds (uint64)
 *     3  yield()                     0; gives the host thread a chance to run others
 *     4  sleep_until(deadline_ns)    0 once clock_monotonic() >= deadline_ns; blocks.
 *                                    The deadline is absolute so the host may restart
 *                                    the call after an interruption without drift.
 *     5..15   unassigned
 *     16..    reserved for socket calls
 *
 * HTIF
 *   Every image also holds the 8-byte, 8-byte aligned symbols tohost and fromhost in a
 *   64-byte aligned section .tohost (the host finds them by ELF symbol name). Storing
 *   (code << 1) | 1 to tohost ends the run with exit code `code`.
 *
 * Building for the development host
 *   With GUEST_HOST_BUILD defined, hypercall6 is an ordinary function provided by
 *   host_shim.c, so the same programs run natively and give the reference output that
 *   the RISC-V build must reproduce bit for bit.
 */
#ifndef GUEST_MIGRATION_H
#define GUEST_MIGRATION_H

#define HYPERCALL_EXIT 0
#define HYPERCALL_CONSOLE_WRITE 1
#define HYPERCALL_CLOCK_MONOTONIC 2
#define HYPERCALL_YIELD 3
#define HYPERCALL_SLEEP_UNTIL 4
#define HYPERCALL_SOCKET_FIRST 16

#define GUEST_EBADF 9
#define GUEST_EAGAIN 11
#define GUEST_EFAULT 14
#define GUEST_EINVAL 22
#define GUEST_ENOSYS 38

#define GUEST_PAGE_SIZE 4096

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

#define NANOSECONDS_PER_SECOND 1000000000ull

#ifdef GUEST_HOST_BUILD
long hypercall6(long number, long arg0, long arg1, long arg2, long arg3, long arg4,
                long arg5);
#else
static inline long hypercall6(long number, long arg0, long arg1, long arg2, long arg3,
                              long arg4, long arg5)
{
    register long a0 __asm__("a0") = arg0;
    register long a1 __asm__("a1") = arg1;
    register long a2 __asm__("a2") = arg2;
    register long a3 __asm__("a3") = arg3;
    register long a4 __asm__("a4") = arg4;
    register long a5 __asm__("a5") = arg5;
    register long a7 __asm__("a7") = number;
    /* "memory": the host reads and writes guest buffers named by the arguments. */
    __asm__ volatile("ecall"
                     : "+r"(a0)
                     : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
                     : "memory");
    return a0;
}
#endif

static inline __attribute__((noreturn)) void guest_exit(int code)
{
    hypercall6(HYPERCALL_EXIT, code, 0, 0, 0, 0, 0);
    /* Only reachable if the host ignores the call; never run past it. */
    for (;;) {
    }
}

static inline long console_write(const void *buffer, size_t length)
{
    return hypercall6(HYPERCALL_CONSOLE_WRITE, (long)(uintptr_t)buffer, (long)length, 0, 0,
                      0, 0);
}

static inline uint64_t clock_monotonic_ns(void)
{
    return (uint64_t)hypercall6(HYPERCALL_CLOCK_MONOTONIC, 0, 0, 0, 0, 0, 0);
}

static inline long guest_yield(void)
{
    return hypercall6(HYPERCALL_YIELD, 0, 0, 0, 0, 0, 0);
}

static inline long sleep_until_ns(uint64_t deadline_ns)
{
    return hypercall6(HYPERCALL_SLEEP_UNTIL, (long)deadline_ns, 0, 0, 0, 0, 0);
}

/* Memory and strings (freestanding versions; GCC may emit calls to the mem* ones). */
void *memset(void *destination, int value, size_t length);
void *memcpy(void *destination, const void *source, size_t length);
void *memmove(void *destination, const void *source, size_t length);
int memcmp(const void *left, const void *right, size_t length);
size_t strlen(const char *text);
int strcmp(const char *left, const char *right);

/* Parses decimal, or hexadecimal with a 0x prefix. Returns 0, or -1 on junk/overflow. */
int parse_u64(const char *text, uint64_t *value);

/*
 * Formatting without snprintf. Each writes a NUL-terminated string into `out` and returns
 * its length. format_hex64 always writes "0x" and 16 lowercase digits.
 */
#define FORMAT_U64_CAPACITY 21
#define FORMAT_I64_CAPACITY 21
#define FORMAT_HEX64_CAPACITY 19
size_t format_u64(char *out, uint64_t value);
size_t format_i64(char *out, int64_t value);
size_t format_hex64(char *out, uint64_t value);

/* Console output; each call writes its text completely or stops at the first error. */
long print(const char *text);
long print_u64(uint64_t value);
long print_i64(int64_t value);
long print_hex64(uint64_t value);

/*
 * A line assembled piecewise and written with one console_write, so that each line
 * reaches the host console whole. Text beyond the capacity is dropped.
 */
#define LINE_BUFFER_CAPACITY 160
struct line_buffer {
    size_t length;
    char text[LINE_BUFFER_CAPACITY];
};
void line_begin(struct line_buffer *line);
void line_text(struct line_buffer *line, const char *text);
void line_u64(struct line_buffer *line, uint64_t value);
void line_i64(struct line_buffer *line, int64_t value);
void line_hex64(struct line_buffer *line, uint64_t value);
/* Appends '\n' and writes the line. */
long line_end(struct line_buffer *line);

/*
 * Bump allocator over [__heap_start, guest_memory_limit). Memory is never freed and is
 * not cleared. Returns NULL when the request does not fit. guest_alloc aligns to 16.
 */
extern uint64_t guest_memory_limit;
void *guest_alloc(size_t size);
void *guest_alloc_aligned(size_t size, size_t alignment);
/* Bytes left for guest_alloc at the given alignment. */
size_t guest_heap_available(size_t alignment);

#endif /* __ASSEMBLER__ */
#endif /* GUEST_MIGRATION_H */
