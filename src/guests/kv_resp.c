/*
 * RESP2 for kv: replies appended to a client's output buffer, and requests parsed in
 * place in its input buffer. Parsing is incremental because a request may arrive in any
 * number of reads; the parser's position is kept in the client between them.
 */
#include "kv_resp.h"

/* Redis's limits, so clients see the same protocol errors as from Redis. */
#define MAX_MULTIBULK_LENGTH (1024 * 1024)
#define MAX_INLINE_LENGTH (64 * 1024)

/* ---- replies ---- */

/* Makes room for `length` more output bytes; on failure marks the reply as failed. */
int out_reserve(struct client *c, size_t length)
{
    if (c->out_capacity - c->out_end >= length) {
        return 1;
    }
    if (c->out_start > 0) {
        memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
        if (c->out_capacity - c->out_end >= length) {
            return 1;
        }
    }
    size_t needed = c->out_end + length;
    size_t capacity = c->out_capacity * 2 > needed ? c->out_capacity * 2 : needed;
    char *grown = guest_realloc(c->out, capacity);
    if (grown == NULL && capacity > needed) {
        grown = guest_realloc(c->out, needed);
    }
    if (grown == NULL) {
        c->reply_failed = 1;
        return 0;
    }
    c->out = grown;
    c->out_capacity = guest_malloc_usable_size(grown);
    return 1;
}

void reply_bytes(struct client *c, const char *bytes, size_t length)
{
    if (c->reply_failed || !out_reserve(c, length)) {
        return;
    }
    memcpy(c->out + c->out_end, bytes, length);
    c->out_end += length;
}

void reply_text(struct client *c, const char *text)
{
    reply_bytes(c, text, strlen(text));
}

/* "<prefix><number>\r\n" */
void reply_number(struct client *c, char prefix, int64_t value)
{
    char text[FORMAT_I64_CAPACITY + 3];
    text[0] = prefix;
    size_t length = 1 + format_i64(text + 1, value);
    text[length++] = '\r';
    text[length++] = '\n';
    reply_bytes(c, text, length);
}

void reply_bulk(struct client *c, const char *bytes, size_t length)
{
    if (c->reply_failed || !out_reserve(c, length + FORMAT_U64_CAPACITY + 5)) {
        return;
    }
    reply_number(c, '$', (int64_t)length);
    reply_bytes(c, bytes, length);
    reply_bytes(c, "\r\n", 2);
}

/* Appends `text` with CR, LF and other control bytes made blanks, at most `limit` bytes. */
void reply_sanitized(struct client *c, const char *text, size_t length, size_t limit)
{
    char clean[128];
    if (length > limit) {
        length = limit;
    }
    if (length > sizeof(clean)) {
        length = sizeof(clean);
    }
    for (size_t i = 0; i < length; i++) {
        unsigned char ch = (unsigned char)text[i];
        clean[i] = ch < 0x20 || ch == 0x7F ? ' ' : (char)ch;
    }
    reply_bytes(c, clean, length);
}

/* ---- arguments ---- */

static char ascii_upper(char ch)
{
    return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* Case-insensitive comparison of an argument with an upper-case word. */
int arg_is(const struct client *c, size_t index, const char *word)
{
    size_t length = arg_length(c, index);
    const char *bytes = arg_bytes(c, index);
    for (size_t i = 0; i < length; i++) {
        if (word[i] == '\0' || ascii_upper(bytes[i]) != word[i]) {
            return 0;
        }
    }
    return word[length] == '\0';
}

/* Redis's rules: optional '-', digits, no leading zeros or blanks, fits in int64. */
int parse_int64(const char *text, size_t length, int64_t *value)
{
    if (length == 0 || length > 20) {
        return 0;
    }
    size_t i = 0;
    int negative = text[0] == '-';
    if (negative) {
        i = 1;
        if (length == 1) {
            return 0;
        }
    }
    if (text[i] == '0' && length > i + 1) {
        return 0;
    }
    if (negative && text[i] == '0') {
        return 0;
    }
    uint64_t magnitude = 0;
    for (; i < length; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return 0;
        }
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) {
            return 0;
        }
        magnitude = magnitude * 10 + digit;
    }
    if (negative) {
        if (magnitude > (uint64_t)INT64_MAX + 1) {
            return 0;
        }
        *value = (int64_t)(0 - magnitude);
    } else {
        if (magnitude > (uint64_t)INT64_MAX) {
            return 0;
        }
        *value = (int64_t)magnitude;
    }
    return 1;
}

/* ---- requests ---- */

/* Answers a protocol error; the connection closes once it is sent. */
int protocol_error(struct client *c, const char *message)
{
    reply_text(c, "-ERR Protocol error: ");
    reply_text(c, message);
    reply_text(c, "\r\n");
    c->closing = 1;
    return -1;
}

static int add_argument(struct client *c, size_t offset, size_t length)
{
    if (c->argc == c->args_capacity) {
        size_t capacity = c->args_capacity * 2;
        struct argument *grown = guest_realloc(c->args, capacity * sizeof(*grown));
        if (grown == NULL) {
            return 0;
        }
        c->args = grown;
        c->args_capacity = capacity;
    }
    c->args[c->argc].offset = (uint32_t)offset;
    c->args[c->argc].length = (uint32_t)length;
    c->argc++;
    return 1;
}

/* Offset of the "\r\n" ending the line at `from`, or -1 while it is incomplete. */
static long find_crlf(const struct client *c, size_t from)
{
    const char *base = c->in + c->in_start;
    size_t available = c->in_end - c->in_start;
    for (size_t i = from; i + 1 < available; i++) {
        if (base[i] == '\r' && base[i + 1] == '\n') {
            return (long)i;
        }
    }
    return -1;
}

/* The integer of a "*N" or "$N" line; -1 if it is not one. */
static int parse_length_line(const struct client *c, size_t from, size_t end, long *value)
{
    int64_t number;
    const char *base = c->in + c->in_start;
    if (!parse_int64(base + from, end - from, &number) || number < -1 ||
        number > (int64_t)MAX_BULK_LENGTH) {
        return 0;
    }
    *value = (long)number;
    return 1;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch = ascii_upper(ch);
    return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/*
 * Splits an inline request in place, the way redis-cli quotes: blanks separate words,
 * "..." understands \n \r \t \b \a \\ \" and \xHH, '...' only \'. Unquoting only
 * shortens a word, so it is written over the input.
 */
static int parse_inline(struct client *c)
{
    char *base = c->in + c->in_start;
    size_t available = c->in_end - c->in_start;
    size_t newline = c->pos;
    while (newline < available && base[newline] != '\n') {
        newline++;
    }
    if (newline == available) {
        if (available > MAX_INLINE_LENGTH) {
            return protocol_error(c, "too big inline request");
        }
        c->pos = available;
        return 0;
    }
    size_t end = newline > 0 && base[newline - 1] == '\r' ? newline - 1 : newline;
    c->pos = newline + 1;
    size_t i = 0;
    while (i < end) {
        while (i < end && (base[i] == ' ' || base[i] == '\t')) {
            i++;
        }
        if (i == end) {
            break;
        }
        size_t word = i;
        size_t out = i;
        char quote = 0;
        if (base[i] == '"' || base[i] == '\'') {
            quote = base[i++];
        }
        for (;;) {
            if (i == end) {
                if (quote) {
                    return protocol_error(c, "unbalanced quotes in request");
                }
                break;
            }
            char ch = base[i];
            if (!quote && (ch == ' ' || ch == '\t')) {
                break;
            }
            if (quote && ch == quote) {
                i++;
                if (i < end && base[i] != ' ' && base[i] != '\t') {
                    return protocol_error(c, "unbalanced quotes in request");
                }
                break;
            }
            if (ch == '\\' && i + 1 < end && quote == '"') {
                char next = base[i + 1];
                int high;
                int low;
                if (next == 'x' && i + 3 < end && (high = hex_digit(base[i + 2])) >= 0 &&
                    (low = hex_digit(base[i + 3])) >= 0) {
                    ch = (char)(high * 16 + low);
                    i += 4;
                } else {
                    ch = next == 'n'   ? '\n'
                         : next == 'r' ? '\r'
                         : next == 't' ? '\t'
                         : next == 'b' ? '\b'
                         : next == 'a' ? '\a'
                                       : next;
                    i += 2;
                }
            } else if (ch == '\\' && i + 1 < end && quote == '\'' && base[i + 1] == '\'') {
                i += 2;
            } else {
                i++;
            }
            base[out++] = ch;
        }
        if (!add_argument(c, word, out - word)) {
            return -2;
        }
    }
    return c->argc > 0 ? 1 : 2;
}

/* The results are listed in kv_resp.h. */
int parse_request(struct client *c)
{
    size_t available = c->in_end - c->in_start;
    const char *base = c->in + c->in_start;
    c->need = 0;
    if (c->kind == 0) {
        if (available == 0) {
            return 0;
        }
        c->kind = base[0] == '*' ? '*' : 'i';
        c->pos = 0;
    }
    if (c->kind == 'i') {
        return parse_inline(c);
    }
    if (c->expected < 0) {
        long end = find_crlf(c, 1);
        if (end < 0) {
            if (available > MAX_INLINE_LENGTH) {
                return protocol_error(c, "too big mbulk count string");
            }
            return 0;
        }
        long count;
        if (!parse_length_line(c, 1, (size_t)end, &count) || count > MAX_MULTIBULK_LENGTH) {
            return protocol_error(c, "invalid multibulk length");
        }
        c->pos = (size_t)end + 2;
        if (count <= 0) {
            return 2;
        }
        c->expected = count;
    }
    while ((long)c->argc < c->expected) {
        if (c->bulk < 0) {
            if (c->pos >= available) {
                return 0;
            }
            if (base[c->pos] != '$') {
                char message[40] = "expected '$', got ' '";
                unsigned char got = (unsigned char)base[c->pos];
                message[19] = got < 0x20 || got >= 0x7F ? ' ' : (char)got;
                return protocol_error(c, message);
            }
            long end = find_crlf(c, c->pos + 1);
            if (end < 0) {
                if (available - c->pos > MAX_INLINE_LENGTH) {
                    return protocol_error(c, "too big bulk count string");
                }
                return 0;
            }
            long length;
            if (!parse_length_line(c, c->pos + 1, (size_t)end, &length) || length < 0) {
                return protocol_error(c, "invalid bulk length");
            }
            c->bulk = length;
            c->pos = (size_t)end + 2;
        }
        size_t bulk = (size_t)c->bulk;
        if (available - c->pos < bulk + 2) {
            c->need = c->pos + bulk + 2;
            return 0;
        }
        if (!add_argument(c, c->pos, bulk)) {
            return -2;
        }
        c->pos += bulk + 2;
        c->bulk = -1;
    }
    return 1;
}
