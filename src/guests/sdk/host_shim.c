/*
 * Native stand-in for the machine's hypercalls, used only with GUEST_HOST_BUILD so that
 * guest programs can run on the development host and produce reference output.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "migration.h"

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

long hypercall6(long number, long arg0, long arg1, long arg2, long arg3, long arg4,
                long arg5)
{
    (void)arg2;
    (void)arg3;
    (void)arg4;
    (void)arg5;
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
        return -GUEST_ENOSYS;
    }
}
