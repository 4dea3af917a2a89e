/*
 * echo [PORT]
 * echo --connect A.B.C.D PORT [COUNT]
 *
 * TCP and UDP echo server on 0.0.0.0:PORT (default 7), for exercising the socket
 * hypercalls and live migration with connections open.
 *
 * With --connect the guest is the client instead: it opens COUNT (default 1) TCP
 * connections to A.B.C.D:PORT and echoes what arrives on each, the same way; it exits 0
 * once every connection has ended. This is how a connection the guest started is put
 * through migrations.
 *
 * TCP: every byte a client sends comes back, in order, on the same connection. All
 * sockets are non-blocking and one poll_until drives them, so any number of clients (up
 * to MAX_CONNECTIONS) are served at once. Bytes the client is not ready to take wait in
 * a per-connection buffer; while it is more than half full, that client is not read, so
 * a client that sends without reading is slowed by TCP instead of filling memory. When a
 * client shuts down its sending side, what is still pending is sent, then the server
 * shuts down its own sending side and closes.
 *
 * UDP: each datagram is sent back to its sender; one that cannot be sent at once is
 * dropped, as UDP allows.
 *
 * Output:
 *   echo: listening on PORT (tcp+udp)
 *   echo: connecting COUNT to PORT              client mode; then, at exit,
 *   echo: connections ended
 *   echo: ...                                   a failure, then exit code 1
 * Bad arguments: a usage line and exit code 2.
 */
#include "migration.h"

#define DEFAULT_PORT 7
#define MAX_CONNECTIONS 1024
#define LISTEN_BACKLOG 512
/* Largest recv and the per-connection buffer; also fits any UDP datagram. */
#define CHUNK_SIZE 65536
/* Read a client only while its pending output leaves at least this much room. */
#define READ_ROOM (CHUNK_SIZE / 2)
#define ACCEPTS_PER_WAKE 64
#define DATAGRAMS_PER_WAKE 64
/* After accept fails for lack of handles or memory, retry after this long. */
#define ACCEPT_PAUSE_NS 100000000ull

struct connection {
    int handle;
    int read_closed;
    char *pending; /* CHUNK_SIZE bytes while output is pending, else NULL */
    size_t start;
    size_t end;
};

/* On the heap rather than in .bss, which would count against the image size. */
static struct connection **connections;
static size_t connection_count;
/* Listener, UDP socket and every connection. */
static struct guest_pollfd *polls;
static char *scratch;

static void report(const char *what, long value)
{
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "echo: ");
    line_text(&line, what);
    line_text(&line, " ");
    line_i64(&line, value);
    line_end(&line);
}

static void connection_close(struct connection *c)
{
    sock_close(c->handle);
    c->handle = -1;
    guest_free(c->pending);
    c->pending = NULL;
}

/* Sends what is pending; returns 0, or -1 once the connection is closed. */
static int connection_flush(struct connection *c)
{
    while (c->start < c->end) {
        long sent = sock_send(c->handle, c->pending + c->start, c->end - c->start, 0);
        if (sent == -GUEST_EAGAIN) {
            return 0;
        }
        if (sent <= 0) {
            connection_close(c);
            return -1;
        }
        c->start += (size_t)sent;
    }
    /* Idle connections hold no buffer, so thousands of them cost little. */
    guest_free(c->pending);
    c->pending = NULL;
    c->start = 0;
    c->end = 0;
    return 0;
}

static void connection_read(struct connection *c)
{
    long received;
    if (c->pending == NULL) {
        /* The common case: echo straight from the scratch buffer, keep only the rest. */
        received = sock_recv(c->handle, scratch, CHUNK_SIZE, 0);
        if (received > 0) {
            long sent = sock_send(c->handle, scratch, (size_t)received, 0);
            if (sent == -GUEST_EAGAIN) {
                sent = 0;
            }
            if (sent < 0) {
                connection_close(c);
                return;
            }
            if (sent < received) {
                c->pending = guest_malloc(CHUNK_SIZE);
                if (c->pending == NULL) {
                    /* Dropping bytes silently would break the echo; end it visibly. */
                    connection_close(c);
                    return;
                }
                c->start = 0;
                c->end = (size_t)(received - sent);
                memcpy(c->pending, scratch + sent, c->end);
            }
        }
    } else {
        if (c->start > 0) {
            memmove(c->pending, c->pending + c->start, c->end - c->start);
            c->end -= c->start;
            c->start = 0;
        }
        received = sock_recv(c->handle, c->pending + c->end, CHUNK_SIZE - c->end, 0);
        if (received > 0) {
            c->end += (size_t)received;
            if (connection_flush(c) < 0) {
                return;
            }
        }
    }
    if (received == 0) {
        c->read_closed = 1;
    } else if (received < 0 && received != -GUEST_EAGAIN) {
        connection_close(c);
    }
}

static void connection_event(struct connection *c, int revents)
{
    if (revents & (GUEST_POLLERR | GUEST_POLLNVAL)) {
        connection_close(c);
        return;
    }
    if (c->pending != NULL && (revents & (GUEST_POLLOUT | GUEST_POLLHUP))) {
        if (connection_flush(c) < 0) {
            return;
        }
    }
    /* POLLHUP without POLLIN still has an end of stream (or an error) to read. */
    if (!c->read_closed && (revents & (GUEST_POLLIN | GUEST_POLLHUP)) &&
        c->end - c->start <= CHUNK_SIZE - READ_ROOM) {
        connection_read(c);
        if (c->handle < 0) {
            return;
        }
    }
    if (c->read_closed && c->pending == NULL) {
        sock_shutdown(c->handle, GUEST_SHUT_WR);
        connection_close(c);
    }
}

/* Takes an open connection into the table; returns 0, or -1 when there is no room. */
static int connection_add(int handle)
{
    struct connection *c = guest_malloc(sizeof(*c));
    if (c == NULL) {
        return -1;
    }
    sock_set_int_option(handle, GUEST_IPPROTO_TCP, GUEST_TCP_NODELAY, 1);
    c->handle = handle;
    c->read_closed = 0;
    c->pending = NULL;
    c->start = 0;
    c->end = 0;
    connections[connection_count++] = c;
    return 0;
}

/* Returns the time until which accepting should pause, or 0. */
static uint64_t accept_clients(int listener)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE && connection_count < MAX_CONNECTIONS; i++) {
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
        if (connection_add(handle) < 0) {
            sock_close(handle);
            return clock_monotonic_ns() + ACCEPT_PAUSE_NS;
        }
    }
    return 0;
}

static void echo_datagrams(int udp)
{
    for (int i = 0; i < DATAGRAMS_PER_WAKE; i++) {
        struct guest_sockaddr_in6 from; /* room for either family */
        uint32_t from_length = sizeof(from);
        long received = sock_recvfrom(udp, scratch, CHUNK_SIZE, 0, &from, &from_length);
        if (received < 0) {
            /* -EAGAIN, or an ICMP error from an earlier reply: nothing to answer. */
            return;
        }
        sock_sendto(udp, scratch, (size_t)received, 0, &from, from_length);
    }
}

static int open_socket(int type, uint16_t port, const char *name)
{
    int handle = sock_socket(GUEST_AF_INET, type | GUEST_SOCK_NONBLOCK, 0);
    if (handle < 0) {
        report(name, handle);
        return handle;
    }
    sock_set_int_option(handle, GUEST_SOL_SOCKET, GUEST_SO_REUSEADDR, 1);
    struct guest_sockaddr_in address;
    guest_sockaddr_in_any(&address, port);
    int result = sock_bind(handle, &address, sizeof(address));
    if (result < 0) {
        report("bind failed:", result);
        sock_close(handle);
        return result;
    }
    return handle;
}

static int usage(void)
{
    print("usage: echo [PORT]   (default 7)\n"
          "       echo --connect A.B.C.D PORT [COUNT]\n");
    return 2;
}

/* Dotted-quad IPv4 into a host-order address; 0 on success. */
static int parse_ipv4(const char *text, uint32_t *address)
{
    uint32_t value = 0;
    for (int part = 0; part < 4; part++) {
        char digits[4];
        size_t length = 0;
        while (*text >= '0' && *text <= '9' && length < 3) {
            digits[length++] = *text++;
        }
        digits[length] = '\0';
        uint64_t octet;
        if (length == 0 || parse_u64(digits, &octet) != 0 || octet > 255) {
            return -1;
        }
        value = (value << 8) | (uint32_t)octet;
        if (part < 3 && *text++ != '.') {
            return -1;
        }
    }
    if (*text != '\0') {
        return -1;
    }
    *address = value;
    return 0;
}

static int strings_equal(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Opens COUNT non-blocking connections; they complete (or fail, as POLLERR) in the loop. */
static int connect_clients(uint32_t address, uint16_t port, uint64_t count)
{
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "echo: connecting ");
    line_u64(&line, count);
    line_text(&line, " to ");
    line_u64(&line, port);
    line_end(&line);
    for (uint64_t i = 0; i < count; i++) {
        int handle = sock_socket(GUEST_AF_INET, GUEST_SOCK_STREAM | GUEST_SOCK_NONBLOCK, 0);
        if (handle < 0) {
            report("tcp socket failed:", handle);
            return -1;
        }
        struct guest_sockaddr_in remote;
        guest_sockaddr_in_init(&remote, address, port);
        int result = sock_connect(handle, &remote, sizeof(remote));
        if (result < 0 && result != -GUEST_EINPROGRESS) {
            report("connect failed:", result);
            return -1;
        }
        if (connection_add(handle) < 0) {
            print("echo: not enough memory\n");
            return -1;
        }
    }
    return 0;
}

/*
 * The event loop. A listener and UDP socket below 0 are left out (client mode): the
 * connections are then all there will be, and the loop ends when the last one has.
 */
static int serve(int listener, int udp)
{
    size_t base = listener >= 0 ? 2 : 0;
    uint64_t accept_paused_until = 0;
    for (;;) {
        int64_t deadline = -1;
        if (accept_paused_until != 0) {
            if (clock_monotonic_ns() >= accept_paused_until) {
                accept_paused_until = 0;
            } else {
                deadline = (int64_t)accept_paused_until;
            }
        }
        /* A full table leaves new clients in the backlog until a slot frees up. */
        int accepting = accept_paused_until == 0 && connection_count < MAX_CONNECTIONS;
        if (base == 2) {
            polls[0].fd = listener;
            polls[0].events = accepting ? GUEST_POLLIN : 0;
            polls[0].revents = 0;
            polls[1].fd = udp;
            polls[1].events = GUEST_POLLIN;
            polls[1].revents = 0;
        } else if (connection_count == 0) {
            print("echo: connections ended\n");
            return 0;
        }
        for (size_t i = 0; i < connection_count; i++) {
            struct connection *c = connections[i];
            int16_t events = 0;
            if (!c->read_closed && c->end - c->start <= CHUNK_SIZE - READ_ROOM) {
                events |= GUEST_POLLIN;
            }
            if (c->pending != NULL) {
                events |= GUEST_POLLOUT;
            }
            polls[base + i].fd = c->handle;
            polls[base + i].events = events;
            polls[base + i].revents = 0;
        }
        size_t polled = connection_count;
        int ready = sock_poll_until(polls, (int)(base + polled), deadline);
        if (ready < 0) {
            report("poll_until failed:", ready);
            return 1;
        }

        for (size_t i = 0; i < polled; i++) {
            if (polls[base + i].revents != 0) {
                connection_event(connections[i], polls[base + i].revents);
            }
        }
        /* Drop closed connections, keeping the order of the rest. */
        size_t kept = 0;
        for (size_t i = 0; i < connection_count; i++) {
            if (connections[i]->handle >= 0) {
                connections[kept++] = connections[i];
            } else {
                guest_free(connections[i]);
            }
        }
        connection_count = kept;

        if (base == 0) {
            continue;
        }
        if (polls[1].revents != 0) {
            echo_datagrams(udp);
        }
        if (polls[0].revents != 0) {
            if (polls[0].revents & (GUEST_POLLERR | GUEST_POLLNVAL)) {
                report("listener failed, revents", polls[0].revents);
                return 1;
            }
            accept_paused_until = accept_clients(listener);
        }
    }
}

int main(int argc, char **argv)
{
    uint64_t port = DEFAULT_PORT;
    uint32_t remote = 0;
    uint64_t clients = 0;
    if (argc >= 2 && strings_equal(argv[1], "--connect")) {
        clients = 1;
        if (argc < 4 || argc > 5 || parse_ipv4(argv[2], &remote) != 0 ||
            parse_u64(argv[3], &port) != 0 || (argc == 5 && parse_u64(argv[4], &clients) != 0) ||
            clients == 0 || clients > MAX_CONNECTIONS) {
            return usage();
        }
    } else if (argc > 2 || (argc == 2 && parse_u64(argv[1], &port) != 0)) {
        return usage();
    }
    if (port == 0 || port > 65535) {
        return usage();
    }
    scratch = guest_malloc(CHUNK_SIZE);
    connections = guest_malloc(MAX_CONNECTIONS * sizeof(*connections));
    polls = guest_malloc((MAX_CONNECTIONS + 2) * sizeof(*polls));
    if (scratch == NULL || connections == NULL || polls == NULL) {
        print("echo: not enough memory\n");
        return 1;
    }
    if (clients > 0) {
        return connect_clients(remote, (uint16_t)port, clients) < 0 ? 1 : serve(-1, -1);
    }
    int listener = open_socket(GUEST_SOCK_STREAM, (uint16_t)port, "tcp socket failed:");
    if (listener < 0) {
        return 1;
    }
    int result = sock_listen(listener, LISTEN_BACKLOG);
    if (result < 0) {
        report("listen failed:", result);
        return 1;
    }
    int udp = open_socket(GUEST_SOCK_DGRAM, (uint16_t)port, "udp socket failed:");
    if (udp < 0) {
        return 1;
    }

    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "echo: listening on ");
    line_u64(&line, port);
    line_text(&line, " (tcp+udp)");
    line_end(&line);

    return serve(listener, udp);
}
