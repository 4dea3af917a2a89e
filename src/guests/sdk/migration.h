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
 *     16..32  sockets, below
 *
 * Socket hypercalls
 *   BSD sockets on the host's network stack, addressed by handles: small non-negative
 *   integers chosen by the host. Flags, option levels and names, errno values and the
 *   structures are those of Linux, whose x86-64 layouts equal RV64's:
 *     struct sockaddr_in   16 bytes: u16 family = 2, u16 port (big-endian),
 *                          u32 address (big-endian), 8 zero bytes
 *     struct sockaddr_in6  28 bytes: u16 family = 10, u16 port (big-endian),
 *                          u32 flowinfo, 16-byte address, u32 scope id
 *     struct pollfd        8 bytes: i32 handle, i16 events, i16 revents
 *   Address lengths are uint32 (socklen_t); `*addrlen` is the buffer size on the way in
 *   and the full address size on the way out, as in Linux. int arguments arrive
 *   sign-extended to 64 bits (RV64 calling convention); only their low 32 bits count.
 *     16 socket(domain, type, protocol)            handle
 *          domain AF_INET 2 / AF_INET6 10; type SOCK_STREAM 1 / SOCK_DGRAM 2, optionally
 *          | SOCK_NONBLOCK 0x800; protocol 0, IPPROTO_TCP 6 or IPPROTO_UDP 17
 *     17 bind(h, const addr *, addrlen)            0
 *     18 listen(h, backlog)                        0
 *     19 accept(h, addr *, uint32 *addrlen, flags) new handle; addr and addrlen may be
 *          NULL; flags 0 or SOCK_NONBLOCK. Non-blocking and nothing pending: -EAGAIN
 *     20 connect(h, const addr *, addrlen)         0; blocking sockets wait for the
 *          outcome; non-blocking ones return -EINPROGRESS, then completion shows as
 *          POLLOUT and the outcome as SO_ERROR
 *     21 send(h, const buf *, len, flags)          bytes taken, possibly fewer than len;
 *          -EAGAIN when non-blocking and the send queue is full; -EPIPE after
 *          shutdown(SHUT_WR) or when the peer reset (never a signal)
 *     22 recv(h, buf *, len, flags)                bytes; 0 = orderly end of stream;
 *          -EAGAIN when non-blocking and nothing is queued; -ECONNRESET
 *     23 sendto(h, const buf *, len, flags, const addr *, addrlen)    bytes (UDP)
 *     24 recvfrom(h, buf *, len, flags, addr *, uint32 *addrlen)      bytes (UDP);
 *          addr and addrlen may be NULL; a datagram longer than len is truncated
 *     25 shutdown(h, how)                          0; SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2
 *     26 close(h)                                  0; the handle may be reused
 *     27 setsockopt(h, level, name, const val *, len)    0
 *     28 getsockopt(h, level, name, val *, uint32 *len)  0, *len = bytes stored
 *          SOL_SOCKET 1: SO_REUSEADDR 2, SO_TYPE 3, SO_ERROR 4 (read and cleared),
 *          SO_SNDBUF 7, SO_RCVBUF 8, SO_KEEPALIVE 9, SO_LINGER 13;
 *          IPPROTO_TCP 6: TCP_NODELAY 1. Values are int32; SO_LINGER is
 *          struct { int32 onoff; int32 seconds; }
 *     29 getsockname(h, addr *, uint32 *addrlen)   0
 *     30 getpeername(h, addr *, uint32 *addrlen)   0; -ENOTCONN when not connected
 *     31 poll_until(struct pollfd *, nfds, deadline_ns)
 *          number of entries with non-zero revents, 0 once the deadline passed.
 *          deadline_ns is ABSOLUTE on clock_monotonic (hypercall 2), so a call restarted
 *          after the machine was paused or moved does not wait longer; -1 waits forever,
 *          0 does not wait. POLLIN 1, POLLOUT 4; POLLERR 8, POLLHUP 0x10 and POLLNVAL
 *          0x20 (bad handle) are reported whether asked for or not. A listening socket
 *          is POLLIN while a connection awaits accept.
 *     32 set_blocking(h, blocking)                 0; 1 = blocking, 0 = non-blocking
 *   send, recv, sendto and recvfrom take flags = 0; the programs here pass no others.
 *
 * HTIF
 *   Every image also holds the 8-byte, 8-byte aligned symbols tohost and fromhost in a
 *   64-byte aligned section .tohost (the host finds them by ELF symbol name). Storing
 *   (code << 1) | 1 to tohost ends the run with exit code `code`.
 *
 * Building for the development host
 *   With GUEST_HOST_BUILD defined, hypercall6 is an ordinary function provided by
 *   host_shim.c, so the same programs run natively and give the reference output that
 *   the RISC-V build must reproduce bit for bit. The socket calls there are the Linux
 *   calls themselves (handles are file descriptors), and the heap is an mmap of
 *   GUEST_HOST_HEAP_MIB MiB (default 1024).
 */
#ifndef GUEST_MIGRATION_H
#define GUEST_MIGRATION_H

#define HYPERCALL_EXIT 0
#define HYPERCALL_CONSOLE_WRITE 1
#define HYPERCALL_CLOCK_MONOTONIC 2
#define HYPERCALL_YIELD 3
#define HYPERCALL_SLEEP_UNTIL 4
#define HYPERCALL_SOCKET_FIRST 16
#define HYPERCALL_SOCKET 16
#define HYPERCALL_BIND 17
#define HYPERCALL_LISTEN 18
#define HYPERCALL_ACCEPT 19
#define HYPERCALL_CONNECT 20
#define HYPERCALL_SEND 21
#define HYPERCALL_RECV 22
#define HYPERCALL_SENDTO 23
#define HYPERCALL_RECVFROM 24
#define HYPERCALL_SHUTDOWN 25
#define HYPERCALL_CLOSE 26
#define HYPERCALL_SETSOCKOPT 27
#define HYPERCALL_GETSOCKOPT 28
#define HYPERCALL_GETSOCKNAME 29
#define HYPERCALL_GETPEERNAME 30
#define HYPERCALL_POLL_UNTIL 31
#define HYPERCALL_SET_BLOCKING 32
#define HYPERCALL_SOCKET_LAST 32

#define GUEST_EBADF 9
#define GUEST_EAGAIN 11
#define GUEST_EFAULT 14
#define GUEST_EINVAL 22
#define GUEST_EMFILE 24
#define GUEST_EPIPE 32
#define GUEST_ENOSYS 38
#define GUEST_ENOTSOCK 88
#define GUEST_EDESTADDRREQ 89
#define GUEST_EMSGSIZE 90
#define GUEST_ENOPROTOOPT 92
#define GUEST_EPROTONOSUPPORT 93
#define GUEST_EOPNOTSUPP 95
#define GUEST_EAFNOSUPPORT 97
#define GUEST_EADDRINUSE 98
#define GUEST_EADDRNOTAVAIL 99
#define GUEST_ECONNABORTED 103
#define GUEST_ECONNRESET 104
#define GUEST_EISCONN 106
#define GUEST_ENOTCONN 107
#define GUEST_ETIMEDOUT 110
#define GUEST_ECONNREFUSED 111
#define GUEST_EALREADY 114
#define GUEST_EINPROGRESS 115

/* Socket constants, with Linux's values; prefixed so they never clash with libc's. */
#define GUEST_AF_INET 2
#define GUEST_AF_INET6 10
#define GUEST_SOCK_STREAM 1
#define GUEST_SOCK_DGRAM 2
#define GUEST_SOCK_NONBLOCK 0x800
#define GUEST_IPPROTO_TCP 6
#define GUEST_IPPROTO_UDP 17
#define GUEST_SHUT_RD 0
#define GUEST_SHUT_WR 1
#define GUEST_SHUT_RDWR 2
#define GUEST_SOL_SOCKET 1
#define GUEST_SO_REUSEADDR 2
#define GUEST_SO_TYPE 3
#define GUEST_SO_ERROR 4
#define GUEST_SO_SNDBUF 7
#define GUEST_SO_RCVBUF 8
#define GUEST_SO_KEEPALIVE 9
#define GUEST_SO_LINGER 13
#define GUEST_TCP_NODELAY 1
#define GUEST_POLLIN 0x1
#define GUEST_POLLOUT 0x4
#define GUEST_POLLERR 0x8
#define GUEST_POLLHUP 0x10
#define GUEST_POLLNVAL 0x20
#define GUEST_INADDR_ANY 0x00000000u
#define GUEST_INADDR_LOOPBACK 0x7F000001u

#define GUEST_PAGE_SIZE 4096

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

#define NANOSECONDS_PER_SECOND 1000000000ull

#ifdef GUEST_HOST_BUILD
long hypercall6(long number, long arg0, long arg1, long arg2, long arg3, long arg4,
                long arg5);
/* The native stand-in for guest RAM above the image, set up by host_shim.c. */
void host_heap_bounds(uintptr_t *start, uintptr_t *limit);
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

/* Socket structures (see the ABI above); both machines are little-endian. */
struct guest_sockaddr_in {
    uint16_t family;
    uint16_t port;    /* big-endian */
    uint32_t address; /* big-endian */
    uint8_t zero[8];
};

struct guest_sockaddr_in6 {
    uint16_t family;
    uint16_t port;    /* big-endian */
    uint32_t flowinfo;
    uint8_t address[16];
    uint32_t scope_id;
};

struct guest_pollfd {
    int32_t fd; /* a socket handle */
    int16_t events;
    int16_t revents;
};

struct guest_linger {
    int32_t onoff;
    int32_t seconds;
};

_Static_assert(sizeof(struct guest_sockaddr_in) == 16, "sockaddr_in is 16 bytes");
_Static_assert(sizeof(struct guest_sockaddr_in6) == 28, "sockaddr_in6 is 28 bytes");
_Static_assert(sizeof(struct guest_pollfd) == 8, "pollfd is 8 bytes");

/* Shifts rather than __builtin_bswap*, which RV64IM would turn into libgcc calls. */
static inline uint16_t guest_htons(uint16_t value)
{
    return (uint16_t)((value << 8) | (value >> 8));
}

static inline uint32_t guest_htonl(uint32_t value)
{
    return (value << 24) | ((value & 0xFF00u) << 8) | ((value >> 8) & 0xFF00u) |
           (value >> 24);
}

static inline uint16_t guest_ntohs(uint16_t value)
{
    return guest_htons(value);
}

static inline uint32_t guest_ntohl(uint32_t value)
{
    return guest_htonl(value);
}

/* An IPv4 socket address from a host-order address and port. */
static inline void guest_sockaddr_in_init(struct guest_sockaddr_in *out, uint32_t address,
                                          uint16_t port)
{
    out->family = GUEST_AF_INET;
    out->port = guest_htons(port);
    out->address = guest_htonl(address);
    for (int i = 0; i < 8; i++) {
        out->zero[i] = 0;
    }
}

/* 0.0.0.0:port */
static inline void guest_sockaddr_in_any(struct guest_sockaddr_in *out, uint16_t port)
{
    guest_sockaddr_in_init(out, GUEST_INADDR_ANY, port);
}

/* 127.0.0.1:port */
static inline void guest_sockaddr_in_loopback(struct guest_sockaddr_in *out, uint16_t port)
{
    guest_sockaddr_in_init(out, GUEST_INADDR_LOOPBACK, port);
}

#define GUEST_ARG(value) ((long)(uintptr_t)(value))

static inline int sock_socket(int domain, int type, int protocol)
{
    return (int)hypercall6(HYPERCALL_SOCKET, domain, type, protocol, 0, 0, 0);
}

static inline int sock_bind(int handle, const void *address, uint32_t length)
{
    return (int)hypercall6(HYPERCALL_BIND, handle, GUEST_ARG(address), length, 0, 0, 0);
}

static inline int sock_listen(int handle, int backlog)
{
    return (int)hypercall6(HYPERCALL_LISTEN, handle, backlog, 0, 0, 0, 0);
}

/* address and length may be NULL; flags 0 or GUEST_SOCK_NONBLOCK for the new handle. */
static inline int sock_accept(int handle, void *address, uint32_t *length, int flags)
{
    return (int)hypercall6(HYPERCALL_ACCEPT, handle, GUEST_ARG(address), GUEST_ARG(length),
                           flags, 0, 0);
}

static inline int sock_connect(int handle, const void *address, uint32_t length)
{
    return (int)hypercall6(HYPERCALL_CONNECT, handle, GUEST_ARG(address), length, 0, 0, 0);
}

static inline long sock_send(int handle, const void *buffer, size_t length, int flags)
{
    return hypercall6(HYPERCALL_SEND, handle, GUEST_ARG(buffer), (long)length, flags, 0, 0);
}

static inline long sock_recv(int handle, void *buffer, size_t length, int flags)
{
    return hypercall6(HYPERCALL_RECV, handle, GUEST_ARG(buffer), (long)length, flags, 0, 0);
}

static inline long sock_sendto(int handle, const void *buffer, size_t length, int flags,
                               const void *address, uint32_t address_length)
{
    return hypercall6(HYPERCALL_SENDTO, handle, GUEST_ARG(buffer), (long)length, flags,
                      GUEST_ARG(address), address_length);
}

static inline long sock_recvfrom(int handle, void *buffer, size_t length, int flags,
                                 void *address, uint32_t *address_length)
{
    return hypercall6(HYPERCALL_RECVFROM, handle, GUEST_ARG(buffer), (long)length, flags,
                      GUEST_ARG(address), GUEST_ARG(address_length));
}

static inline int sock_shutdown(int handle, int how)
{
    return (int)hypercall6(HYPERCALL_SHUTDOWN, handle, how, 0, 0, 0, 0);
}

static inline int sock_close(int handle)
{
    return (int)hypercall6(HYPERCALL_CLOSE, handle, 0, 0, 0, 0, 0);
}

static inline int sock_setsockopt(int handle, int level, int name, const void *value,
                                  uint32_t length)
{
    return (int)hypercall6(HYPERCALL_SETSOCKOPT, handle, level, name, GUEST_ARG(value),
                           length, 0);
}

static inline int sock_getsockopt(int handle, int level, int name, void *value,
                                  uint32_t *length)
{
    return (int)hypercall6(HYPERCALL_GETSOCKOPT, handle, level, name, GUEST_ARG(value),
                           GUEST_ARG(length), 0);
}

/* For the int32 options (all but SO_LINGER). */
static inline int sock_set_int_option(int handle, int level, int name, int32_t value)
{
    return sock_setsockopt(handle, level, name, &value, sizeof(value));
}

static inline int sock_getsockname(int handle, void *address, uint32_t *length)
{
    return (int)hypercall6(HYPERCALL_GETSOCKNAME, handle, GUEST_ARG(address),
                           GUEST_ARG(length), 0, 0, 0);
}

static inline int sock_getpeername(int handle, void *address, uint32_t *length)
{
    return (int)hypercall6(HYPERCALL_GETPEERNAME, handle, GUEST_ARG(address),
                           GUEST_ARG(length), 0, 0, 0);
}

/* deadline_ns: absolute clock_monotonic time, -1 = forever, 0 = just look. */
static inline int sock_poll_until(struct guest_pollfd *fds, int count, int64_t deadline_ns)
{
    return (int)hypercall6(HYPERCALL_POLL_UNTIL, GUEST_ARG(fds), count, (long)deadline_ns, 0,
                           0, 0);
}

/* timeout_ms < 0 waits forever, 0 does not wait. */
static inline int sock_poll(struct guest_pollfd *fds, int count, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : 0;
    if (timeout_ms > 0) {
        deadline = (int64_t)(clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000u);
    }
    return sock_poll_until(fds, count, deadline);
}

static inline int sock_set_blocking(int handle, int blocking)
{
    return (int)hypercall6(HYPERCALL_SET_BLOCKING, handle, blocking, 0, 0, 0, 0);
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

/*
 * The bump pointer as seen by the allocator in malloc.c: the heap's bounds, its current
 * top, and lowering the top to give back memory that ends there.
 */
uintptr_t guest_heap_start(void);
uintptr_t guest_heap_limit(void);
uintptr_t guest_heap_top(void);
void guest_heap_lower_top(uintptr_t top);

/*
 * General-purpose allocator (sdk/malloc.c) over the same heap, taking its memory from the bump pointer
 * as it needs it, so guest_alloc and guest_malloc can be mixed. Blocks are 16-byte
 * aligned and not cleared (guest_calloc clears). Requests up to 4 KiB come from size
 * classes carved out of 64 KiB runs; larger ones are whole pages with a 16-byte header,
 * taken first-fit from an address-ordered free list that merges neighbours and hands
 * the topmost pages back to the bump pointer. Every function returns NULL when memory
 * is exhausted and never traps. guest_free(NULL) does nothing; guest_realloc(p, 0)
 * frees p and returns NULL; a failed guest_realloc leaves p untouched.
 */
void *guest_malloc(size_t size);
void *guest_calloc(size_t count, size_t size);
void *guest_realloc(void *pointer, size_t size);
void guest_free(void *pointer);
/* Bytes the block can hold, at least the size asked for. */
size_t guest_malloc_usable_size(const void *pointer);

struct guest_malloc_stats {
    size_t heap_size;     /* guest_memory_limit - __heap_start */
    size_t in_use;        /* usable bytes of the blocks handed out */
    size_t free_estimate; /* untouched heap + free pages + free small blocks */
};
void guest_malloc_stats(struct guest_malloc_stats *stats);

#endif /* __ASSEMBLER__ */
#endif /* GUEST_MIGRATION_H */
