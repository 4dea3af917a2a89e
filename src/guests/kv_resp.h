/*
 * kv's wire protocol, RESP2: requests (RESP arrays of bulk strings, or inline lines)
 * parsed in place in a client's input, and replies appended to its output.
 */
#ifndef KV_RESP_H
#define KV_RESP_H

#include "kv_client.h"

/* Redis's proto-max-bulk-len; APPEND must not build a value no request could carry. */
#define MAX_BULK_LENGTH (512u << 20)

/*
 * Replies. A reply that cannot be buffered sets c->reply_failed and appends nothing
 * more, so a command can be taken back whole (see execute_command).
 */
int out_reserve(struct client *c, size_t length);
void reply_bytes(struct client *c, const char *bytes, size_t length);
void reply_text(struct client *c, const char *text);
void reply_number(struct client *c, char prefix, int64_t value);
void reply_bulk(struct client *c, const char *bytes, size_t length);
void reply_sanitized(struct client *c, const char *text, size_t length, size_t limit);

/* In the header so that a command's closing reply costs no extra call. */
static inline void reply_integer(struct client *c, int64_t value)
{
    reply_number(c, ':', value);
}

static inline void reply_array(struct client *c, int64_t count)
{
    reply_number(c, '*', count);
}

static inline void reply_nil(struct client *c)
{
    reply_bytes(c, "$-1\r\n", 5);
}

static inline void reply_ok(struct client *c)
{
    reply_bytes(c, "+OK\r\n", 5);
}

static inline void reply_oom(struct client *c)
{
    reply_bytes(c, OOM_ERROR, sizeof(OOM_ERROR) - 1);
}

/* Arguments of the parsed request; index 0 is the command name. */
static inline const char *arg_bytes(const struct client *c, size_t index)
{
    return c->in + c->in_start + c->args[index].offset;
}

static inline size_t arg_length(const struct client *c, size_t index)
{
    return c->args[index].length;
}

int arg_is(const struct client *c, size_t index, const char *word);
int parse_int64(const char *text, size_t length, int64_t *value);

/*
 * Requests. parse_request returns 1 when args holds a complete command, 2 for an empty
 * request to skip, 0 when more input is needed (need = the bytes required, if known), -1
 * after a protocol error, -2 when memory for the arguments ran out. After a command,
 * the request's c->pos bytes are consumed and parse_reset readies the next one.
 */
static inline void parse_reset(struct client *c)
{
    c->kind = 0;
    c->pos = 0;
    c->need = 0;
    c->expected = -1;
    c->bulk = -1;
    c->argc = 0;
}

int parse_request(struct client *c);
/* Also for limits found outside the parser; returns -1 for parse_request to pass on. */
int protocol_error(struct client *c, const char *message);

#endif /* KV_RESP_H */
