/*
 * kv's client record, shared by the server loop (kv.c), the protocol (kv_resp.c) and the
 * commands (kv_commands.c): requests are parsed in place in `in` and replies are built
 * directly in `out`, so every module works on the same buffers instead of copying.
 */
#ifndef KV_CLIENT_H
#define KV_CLIENT_H

#include "migration.h"

/* A string literal, so a client that could not be given any memory can still be told. */
#define OOM_ERROR "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

/* Offsets rather than pointers: the input buffer may move while a request is read. */
struct argument {
    uint32_t offset; /* from in_start */
    uint32_t length;
};

struct client {
    int handle;
    uint8_t closing;     /* close once the output is sent; read and run nothing more */
    uint8_t read_closed; /* the peer sent everything it will */
    uint8_t reply_failed;
    uint64_t id;

    char *in;
    size_t in_capacity;
    size_t in_start;
    size_t in_end;

    char *out;
    size_t out_capacity;
    size_t out_start;
    size_t out_end;

    /* Parser state for the request at in_start, kept across reads. */
    char kind;   /* 0 = not started, '*' = RESP array, 'i' = inline */
    size_t pos;  /* next byte to parse, from in_start */
    size_t need; /* bytes from in_start the request needs at least, 0 = unknown */
    long expected;
    long bulk; /* length of the bulk string being read, -1 while its header is */
    size_t argc;
    struct argument *args;
    size_t args_capacity;
};

static inline size_t out_pending(const struct client *c)
{
    return c->out_end - c->out_start;
}

#endif /* KV_CLIENT_H */
