/*
 * Native stand-in for the machine's hypercalls, used only with GUEST_HOST_BUILD so that
 * guest programs can run on the development host and produce reference output.
 *
 * The socket calls map one to one onto Linux's, whose flags, option names, errno values
 * and structure layouts the ABI adopts, so arguments pass through unchanged. Handles are
 * the file descriptors themselves.
 *
 * GUEST_HOST_HEAP_MIB sets the size of the native heap (default 1024 MiB), so that memory
 * exhaustion can be tried without a machine of that size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migration.h"

#define DEFAULT_HEAP_MIB 1024u

_Static_assert(sizeof(struct guest_pollfd) == sizeof(struct pollfd), "pollfd layout");
_Static_assert(GUEST_SOCK_NONBLOCK == SOCK_NONBLOCK, "SOCK_NONBLOCK");
_Static_assert(GUEST_POLLIN == POLLIN && GUEST_POLLOUT == POLLOUT && GUEST_POLLERR == POLLERR &&
                   GUEST_POLLHUP == POLLHUP && GUEST_POLLNVAL == POLLNVAL,
               "poll bits");
_Static_assert(GUEST_SO_LINGER == SO_LINGER && GUEST_SO_ERROR == SO_ERROR &&
                   GUEST_TCP_NODELAY == TCP_NODELAY,
               "option names");
_Static_assert(GUEST_EINPROGRESS == EINPROGRESS && GUEST_ECONNRESET == ECONNRESET &&
                   GUEST_EAGAIN == EAGAIN && GUEST_EPIPE == EPIPE,
               "errno values");

void host_heap_bounds(uintptr_t *start, uintptr_t *limit)
{
    size_t mib = DEFAULT_HEAP_MIB;
    const char *text = getenv("GUEST_HOST_HEAP_MIB");
    if (text != NULL) {
        uint64_t value;
        if (parse_u64(text, &value) != 0 || value == 0 || value > (1u << 20)) {
            fprintf(stderr, "GUEST_HOST_HEAP_MIB: expected a size in MiB, got '%s'\n", text);
            exit(2);
        }
        mib = (size_t)value;
    }
    size_t size = mib << 20;
    /* NORESERVE: untouched heap costs nothing, as in a guest. */
    void *heap = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (heap == MAP_FAILED) {
        perror("mmap heap");
        exit(2);
    }
    *start = (uintptr_t)heap;
    *limit = (uintptr_t)heap + size;
}

static long host_console_write(const void *buffer, size_t length)
{
    ssize_t written = write(STDOUT_FILENO, buffer, length);
    return written < 0 ? -errno : (long)written;
}

static uint64_t host_clock_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)now.tv_nsec;
}

static long host_sleep_until(uint64_t deadline_ns)
{
    struct timespec deadline = {
        .tv_sec = (time_t)(deadline_ns / NANOSECONDS_PER_SECOND),
        .tv_nsec = (long)(deadline_ns % NANOSECONDS_PER_SECOND),
    };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {
    }
    return 0;
}

static long result_of(long value)
{
    return value < 0 ? -errno : value;
}

static void *pointer_of(long value)
{
    return (void *)(uintptr_t)value;
}

/* Keeps the console (and stdin, stderr) out of reach of the socket calls. */
static int socket_handle(long value)
{
    int handle = (int)value;
    return handle > STDERR_FILENO ? handle : -1;
}

static long host_poll_until(struct pollfd *fds, nfds_t count, int64_t deadline_ns)
{
    for (;;) {
        struct timespec timeout = { 0, 0 };
        struct timespec *wait = &timeout;
        if (deadline_ns == -1) {
            wait = NULL;
        } else if (deadline_ns > 0) {
            uint64_t now = host_clock_ns();
            if ((uint64_t)deadline_ns > now) {
                uint64_t left = (uint64_t)deadline_ns - now;
                timeout.tv_sec = (time_t)(left / NANOSECONDS_PER_SECOND);
                timeout.tv_nsec = (long)(left % NANOSECONDS_PER_SECOND);
            }
        }
        int ready = ppoll(fds, count, wait, NULL);
        if (ready >= 0 || errno != EINTR) {
            return result_of(ready);
        }
    }
}

static long host_set_blocking(int handle, int blocking)
{
    int flags = fcntl(handle, F_GETFL);
    if (flags < 0) {
        return -errno;
    }
    flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
    return fcntl(handle, F_SETFL, flags) < 0 ? -errno : 0;
}

static long host_socket_call(long number, long arg0, long arg1, long arg2, long arg3,
                             long arg4, long arg5)
{
    int handle = socket_handle(arg0);
    if (number != HYPERCALL_SOCKET && number != HYPERCALL_POLL_UNTIL && handle < 0) {
        return -GUEST_EBADF;
    }
    switch (number) {
    case HYPERCALL_SOCKET:
        return result_of(socket((int)arg0, (int)arg1 | SOCK_CLOEXEC, (int)arg2));
    case HYPERCALL_BIND:
        return result_of(bind(handle, pointer_of(arg1), (socklen_t)arg2));
    case HYPERCALL_LISTEN:
        return result_of(listen(handle, (int)arg1));
    case HYPERCALL_ACCEPT:
        return result_of(accept4(handle, pointer_of(arg1), pointer_of(arg2),
                                 ((int)arg3 & SOCK_NONBLOCK) | SOCK_CLOEXEC));
    case HYPERCALL_CONNECT:
        return result_of(connect(handle, pointer_of(arg1), (socklen_t)arg2));
    case HYPERCALL_SEND:
        return result_of(send(handle, pointer_of(arg1), (size_t)arg2, (int)arg3 | MSG_NOSIGNAL));
    case HYPERCALL_RECV:
        return result_of(recv(handle, pointer_of(arg1), (size_t)arg2, (int)arg3));
    case HYPERCALL_SENDTO:
        return result_of(sendto(handle, pointer_of(arg1), (size_t)arg2, (int)arg3 | MSG_NOSIGNAL,
                                pointer_of(arg4), (socklen_t)arg5));
    case HYPERCALL_RECVFROM:
        return result_of(recvfrom(handle, pointer_of(arg1), (size_t)arg2, (int)arg3,
                                  pointer_of(arg4), pointer_of(arg5)));
    case HYPERCALL_SHUTDOWN:
        return result_of(shutdown(handle, (int)arg1));
    case HYPERCALL_CLOSE:
        return result_of(close(handle));
    case HYPERCALL_SETSOCKOPT:
        return result_of(setsockopt(handle, (int)arg1, (int)arg2, pointer_of(arg3),
                                    (socklen_t)arg4));
    case HYPERCALL_GETSOCKOPT:
        return result_of(getsockopt(handle, (int)arg1, (int)arg2, pointer_of(arg3),
                                    pointer_of(arg4)));
    case HYPERCALL_GETSOCKNAME:
        return result_of(getsockname(handle, pointer_of(arg1), pointer_of(arg2)));
    case HYPERCALL_GETPEERNAME:
        return result_of(getpeername(handle, pointer_of(arg1), pointer_of(arg2)));
    case HYPERCALL_POLL_UNTIL:
        return host_poll_until(pointer_of(arg0), (nfds_t)arg1, (int64_t)arg2);
    case HYPERCALL_SET_BLOCKING:
        return host_set_blocking(handle, (int)arg1);
    default:
        return -GUEST_ENOSYS;
    }
}

long hypercall6(long number, long arg0, long arg1, long arg2, long arg3, long arg4,
                long arg5)
{
    switch (number) {
    case HYPERCALL_EXIT:
        exit((int)arg0);
    case HYPERCALL_CONSOLE_WRITE:
        return host_console_write((const void *)(uintptr_t)arg0, (size_t)arg1);
    case HYPERCALL_CLOCK_MONOTONIC:
        return (long)host_clock_ns();
    case HYPERCALL_YIELD:
        sched_yield();
        return 0;
    case HYPERCALL_SLEEP_UNTIL:
        return host_sleep_until((uint64_t)arg0);
    default:
        if (number >= HYPERCALL_SOCKET_FIRST && number <= HYPERCALL_SOCKET_LAST) {
            return host_socket_call(number, arg0, arg1, arg2, arg3, arg4, arg5);
        }
        return -GUEST_ENOSYS;
    }
}
