/*
 * kv [PORT]
 *
 * In-memory key-value server on 0.0.0.0:PORT (default 6379) speaking enough of the Redis
 * protocol (RESP2) for redis-cli and redis-benchmark: a stateful workload with many
 * connections for live migration.
 *
 * Commands (names case-insensitive):
 *   PING [msg], ECHO msg, SET key value [NX|XX] [GET] [KEEPTTL], GET, DEL key..., EXISTS
 *   key..., INCR, DECR, INCRBY, DECRBY, APPEND, STRLEN, SETNX, TTL (always -1 or -2),
 *   MSET key value..., MGET key..., DBSIZE, FLUSHALL / FLUSHDB [ASYNC|SYNC], INFO,
 *   SELECT 0, QUIT; CONFIG GET knows only save ("") and appendonly ("no") and answers an
 *   empty array for other names, COMMAND (any form) an empty array, CLIENT subcommands
 *   +OK. Keys never expire: SET with EX/PX/EXAT/PXAT is an
 *   error. Anything else: -ERR unknown command 'NAME'.
 * Requests are RESP arrays of bulk strings or inline lines ("PING\r\n", words separated
 * by blanks, with "..." or '...' quoting). Pipelined requests are answered in order.
 *
 * Memory: keys live in one chained hash table that doubles when it holds as many keys as
 * buckets, moving a few buckets per command (and more while idle) so that no single
 * command pays for a whole rehash. A key costs its entry (20 bytes + key + value,
 * rounded up to the allocator's size class) plus one or two bucket pointers. Commands
 * that add data are refused with -OOM once free memory falls below a reserve, which is
 * kept for connection buffers and replies, so a full server still answers every client;
 * an allocation that fails anyway is also answered with -OOM.
 *
 * Limits, as in Redis: a bulk string over 512 MiB or more than 1048576 array elements
 * is a protocol error, and a client whose unparsed input would pass 1 GiB is refused; a
 * protocol error is answered, then the connection is closed.
 *
 * Output:
 *   kv: listening on PORT
 *   kv: ...                                     a failure, then exit code 1
 * Bad arguments: a usage line and exit code 2.
 *
 * Sources: this file accepts and polls connections and moves their bytes; kv_resp.c
 * parses requests and encodes replies, kv_commands.c runs commands, kv_store.c holds
 * the keys and decides when memory is low. kv_client.h is the record they share.
 */
#include "kv_client.h"
#include "kv_commands.h"
#include "kv_resp.h"
#include "kv_store.h"

#define DEFAULT_PORT 6379
#define MAX_CLIENTS 1024
#define LISTEN_BACKLOG 511
#define ACCEPTS_PER_WAKE 64
#define ACCEPT_PAUSE_NS 100000000ull

#define BUFFER_INITIAL 16384
/* A drained buffer larger than this is shrunk back, so one big reply is not kept. */
#define BUFFER_KEEP (64 * 1024)
#define RECV_MIN_ROOM 4096
#define MAX_QUERY_BUFFER (1ull << 30)
/* Stop running a client's commands while this much output waits for it. */
#define OUTPUT_HIGH_WATER (1u << 20)
/* Every command starts with this much output room, enough for any error reply. */
#define REPLY_RESERVE 256

uint64_t start_time;
uint16_t listen_port;
size_t client_count;
uint64_t connections_received;

/* On the heap rather than in .bss, which would count against the image size. */
static struct client **clients;
static struct guest_pollfd *polls;

static void client_free(struct client *c)
{
    guest_free(c->in);
    guest_free(c->out);
    guest_free(c->args);
    guest_free(c);
}

static void client_close(struct client *c)
{
    if (c->handle >= 0) {
        sock_close(c->handle);
        c->handle = -1;
    }
}

/* Replaces a buffer that grew for one large request or reply by a small one. */
static void shrink_buffer(char **buffer, size_t *capacity)
{
    if (*capacity <= BUFFER_KEEP) {
        return;
    }
    char *smaller = guest_realloc(*buffer, BUFFER_INITIAL);
    if (smaller != NULL) {
        *buffer = smaller;
        *capacity = guest_malloc_usable_size(smaller);
    }
}

/* Sends pending output; returns 0, or -1 when the connection failed. */
static int client_flush(struct client *c)
{
    while (c->out_start < c->out_end) {
        size_t length = c->out_end - c->out_start;
        long sent = sock_send(c->handle, c->out + c->out_start, length, 0);
        if (sent == -GUEST_EAGAIN) {
            break;
        }
        if (sent <= 0) {
            return -1;
        }
        c->out_start += (size_t)sent;
        if ((size_t)sent < length) {
            break; /* the send queue is full; POLLOUT tells when it drains */
        }
    }
    if (c->out_start == c->out_end) {
        c->out_start = 0;
        c->out_end = 0;
        shrink_buffer(&c->out, &c->out_capacity);
    }
    return 0;
}

static void client_process(struct client *c)
{
    while (!c->closing && c->in_start < c->in_end) {
        if (out_pending(c) >= OUTPUT_HIGH_WATER) {
            break;
        }
        c->reply_failed = 0;
        if (!out_reserve(c, REPLY_RESERVE)) {
            c->reply_failed = 0;
            if (out_pending(c) > 0) {
                break; /* resumes once some output is sent */
            }
            c->closing = 1;
            break;
        }
        int parsed = parse_request(c);
        if (parsed == 0 || parsed == -1) {
            break;
        }
        if (parsed == -2) {
            reply_oom(c);
            c->closing = 1;
            break;
        }
        if (parsed == 1) {
            execute_command(c);
        }
        c->in_start += c->pos;
        parse_reset(c);
    }
    if (c->in_start == c->in_end) {
        c->in_start = 0;
        c->in_end = 0;
        if (c->kind == 0) {
            shrink_buffer(&c->in, &c->in_capacity);
        }
    }
}

/* Makes room to receive into; returns 0 when the request cannot be buffered. */
static int input_room(struct client *c)
{
    size_t needed = c->in_end - c->in_start + RECV_MIN_ROOM;
    if (c->need > 0 && c->need > needed) {
        needed = c->need;
    }
    if (c->in_capacity - c->in_end >= RECV_MIN_ROOM && c->in_capacity - c->in_start >= needed) {
        return 1;
    }
    if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    if (c->in_capacity >= needed) {
        return 1;
    }
    if (needed > MAX_QUERY_BUFFER) {
        protocol_error(c, "query buffer limit exceeded");
        return 0;
    }
    size_t capacity = c->in_capacity * 2;
    if (capacity < needed) {
        capacity = needed;
    }
    char *grown = guest_realloc(c->in, capacity);
    if (grown == NULL && capacity > needed) {
        grown = guest_realloc(c->in, needed);
    }
    if (grown == NULL) {
        reply_oom(c);
        c->closing = 1;
        return 0;
    }
    c->in = grown;
    c->in_capacity = guest_malloc_usable_size(grown);
    return 1;
}

static void client_read(struct client *c)
{
    if (!input_room(c)) {
        return;
    }
    long received = sock_recv(c->handle, c->in + c->in_end, c->in_capacity - c->in_end, 0);
    if (received > 0) {
        c->in_end += (size_t)received;
        client_process(c);
    } else if (received == 0) {
        c->read_closed = 1;
    } else if (received != -GUEST_EAGAIN) {
        client_close(c);
    }
}

static int client_wants_input(const struct client *c)
{
    return !c->closing && !c->read_closed && out_pending(c) < OUTPUT_HIGH_WATER;
}

static void client_event(struct client *c, int revents)
{
    if (revents & (GUEST_POLLERR | GUEST_POLLNVAL)) {
        client_close(c);
        return;
    }
    if (revents & (GUEST_POLLIN | GUEST_POLLHUP)) {
        if (client_wants_input(c)) {
            client_read(c);
        } else if (!(revents & GUEST_POLLOUT) && out_pending(c) == 0) {
            /* Hung up while nothing was asked of it: nothing more can happen. */
            client_close(c);
        }
        if (c->handle < 0) {
            return;
        }
    }
    if (out_pending(c) > 0) {
        if (client_flush(c) < 0) {
            client_close(c);
            return;
        }
        /* Requests held back while the output was full can run now. */
        if (c->in_start < c->in_end && !c->closing && out_pending(c) < OUTPUT_HIGH_WATER) {
            client_process(c);
            if (client_flush(c) < 0) {
                client_close(c);
                return;
            }
        }
    }
    if ((c->closing || c->read_closed) && out_pending(c) == 0) {
        client_close(c);
    }
}

static struct client *client_new(int handle)
{
    struct client *c = guest_calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->handle = handle;
    c->in = guest_malloc(BUFFER_INITIAL);
    c->out = guest_malloc(BUFFER_INITIAL);
    c->args_capacity = 8;
    c->args = guest_malloc(c->args_capacity * sizeof(*c->args));
    if (c->in == NULL || c->out == NULL || c->args == NULL) {
        client_free(c);
        return NULL;
    }
    c->in_capacity = guest_malloc_usable_size(c->in);
    c->out_capacity = guest_malloc_usable_size(c->out);
    c->id = ++connections_received;
    parse_reset(c);
    return c;
}

static uint64_t accept_clients(int listener)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE && client_count < MAX_CLIENTS; i++) {
        int handle = sock_accept(listener, NULL, NULL, GUEST_SOCK_NONBLOCK);
        if (handle == -GUEST_EAGAIN) {
            return 0;
        }
        if (handle == -GUEST_ECONNABORTED) {
            continue;
        }
        if (handle < 0) {
            return clock_monotonic_ns() + ACCEPT_PAUSE_NS;
        }
        struct client *c = client_new(handle);
        if (c == NULL) {
            /* Best effort: the socket buffer takes this without any of our memory. */
            sock_send(handle, OOM_ERROR, sizeof(OOM_ERROR) - 1, 0);
            sock_close(handle);
            continue;
        }
        sock_set_int_option(handle, GUEST_IPPROTO_TCP, GUEST_TCP_NODELAY, 1);
        clients[client_count++] = c;
    }
    return 0;
}

static void report(const char *what, long value)
{
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "kv: ");
    line_text(&line, what);
    line_text(&line, " ");
    line_i64(&line, value);
    line_end(&line);
}

static int usage(void)
{
    print("usage: kv [PORT]   (default 6379)\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t port = DEFAULT_PORT;
    if (argc > 2 || (argc == 2 && parse_u64(argv[1], &port) != 0) || port == 0 ||
        port > 65535) {
        return usage();
    }
    listen_port = (uint16_t)port;
    start_time = clock_monotonic_ns();

    int store_ready = store_init();
    clients = guest_malloc(MAX_CLIENTS * sizeof(*clients));
    polls = guest_malloc((MAX_CLIENTS + 1) * sizeof(*polls));
    if (!store_ready || clients == NULL || polls == NULL) {
        print("kv: not enough memory\n");
        return 1;
    }

    int listener = sock_socket(GUEST_AF_INET, GUEST_SOCK_STREAM | GUEST_SOCK_NONBLOCK, 0);
    if (listener < 0) {
        report("socket failed:", listener);
        return 1;
    }
    sock_set_int_option(listener, GUEST_SOL_SOCKET, GUEST_SO_REUSEADDR, 1);
    struct guest_sockaddr_in address;
    guest_sockaddr_in_any(&address, listen_port);
    int result = sock_bind(listener, &address, sizeof(address));
    if (result < 0) {
        report("bind failed:", result);
        return 1;
    }
    result = sock_listen(listener, LISTEN_BACKLOG);
    if (result < 0) {
        report("listen failed:", result);
        return 1;
    }

    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "kv: listening on ");
    line_u64(&line, port);
    line_end(&line);

    uint64_t accept_paused_until = 0;
    for (;;) {
        int64_t deadline = -1;
        if (store_rehashing()) {
            deadline = 0; /* just look, then move buckets while nothing is asked */
        } else if (accept_paused_until != 0) {
            if (clock_monotonic_ns() >= accept_paused_until) {
                accept_paused_until = 0;
            } else {
                deadline = (int64_t)accept_paused_until;
            }
        }
        int accepting = accept_paused_until == 0 && client_count < MAX_CLIENTS;
        polls[0].fd = listener;
        polls[0].events = accepting ? GUEST_POLLIN : 0;
        polls[0].revents = 0;
        for (size_t i = 0; i < client_count; i++) {
            struct client *c = clients[i];
            int16_t events = 0;
            if (client_wants_input(c)) {
                events |= GUEST_POLLIN;
            }
            if (out_pending(c) > 0) {
                events |= GUEST_POLLOUT;
            }
            polls[1 + i].fd = c->handle;
            polls[1 + i].events = events;
            polls[1 + i].revents = 0;
        }
        size_t polled = client_count;
        int ready = sock_poll_until(polls, (int)(1 + polled), deadline);
        if (ready < 0) {
            report("poll_until failed:", ready);
            return 1;
        }
        if (ready == 0 && store_rehashing()) {
            store_rehash_idle();
        }

        for (size_t i = 0; i < polled; i++) {
            if (polls[1 + i].revents != 0) {
                client_event(clients[i], polls[1 + i].revents);
            }
        }
        size_t kept = 0;
        for (size_t i = 0; i < client_count; i++) {
            if (clients[i]->handle >= 0) {
                clients[kept++] = clients[i];
            } else {
                client_free(clients[i]);
            }
        }
        client_count = kept;

        if (polls[0].revents != 0) {
            if (polls[0].revents & (GUEST_POLLERR | GUEST_POLLNVAL)) {
                report("listener failed, revents", polls[0].revents);
                return 1;
            }
            accept_paused_until = accept_clients(listener);
        }
    }
}
