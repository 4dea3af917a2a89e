/*
 * kv's commands: the table that names them, with arity and whether they add data, and
 * one handler each. Handlers read arguments from the parsed request and append their
 * reply; execute_command takes back a reply that ran out of memory and answers -OOM.
 */
#include "kv_commands.h"
#include "kv_resp.h"
#include "kv_store.h"

static uint64_t commands_processed;

struct command {
    const char *name; /* upper case */
    const char *reply_name; /* as Redis spells it in errors */
    int arity;        /* > 0 exactly, < 0 at least -arity arguments, name included */
    int adds_memory;  /* refused with -OOM while memory is low */
    void (*run)(struct client *c);
};

static void reply_wrong_arity(struct client *c, const char *name)
{
    reply_text(c, "-ERR wrong number of arguments for '");
    reply_text(c, name);
    reply_text(c, "' command\r\n");
}

static void reply_not_integer(struct client *c)
{
    reply_text(c, "-ERR value is not an integer or out of range\r\n");
}

static void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_wrong_arity(c, "ping");
    } else if (c->argc == 2) {
        reply_bulk(c, arg_bytes(c, 1), arg_length(c, 1));
    } else {
        reply_text(c, "+PONG\r\n");
    }
}

static void cmd_echo(struct client *c)
{
    reply_bulk(c, arg_bytes(c, 1), arg_length(c, 1));
}

static void set_value(struct client *c, struct entry *existing, const char *key,
                      size_t key_length, const char *value, size_t value_length)
{
    if (existing != NULL && entry_fits_in_place(existing, value_length)) {
        memmove(existing->data + key_length, value, value_length);
        existing->value_length = (uint32_t)value_length;
        return;
    }
    struct entry *e = entry_new(key, key_length, value, value_length);
    if (e == NULL) {
        c->reply_failed = 1;
        return;
    }
    store_put(e);
}

static void cmd_set(struct client *c)
{
    int nx = 0;
    int xx = 0;
    int get = 0;
    for (size_t i = 3; i < c->argc; i++) {
        if (arg_is(c, i, "NX")) {
            nx = 1;
        } else if (arg_is(c, i, "XX")) {
            xx = 1;
        } else if (arg_is(c, i, "GET")) {
            get = 1;
        } else if (arg_is(c, i, "KEEPTTL")) {
            /* Keys never expire, so there is no time to live to keep. */
        } else if (arg_is(c, i, "EX") || arg_is(c, i, "PX") || arg_is(c, i, "EXAT") ||
                   arg_is(c, i, "PXAT")) {
            reply_text(c, "-ERR key expiry is not supported by this server\r\n");
            return;
        } else {
            reply_text(c, "-ERR syntax error\r\n");
            return;
        }
    }
    if (nx && xx) {
        reply_text(c, "-ERR syntax error\r\n");
        return;
    }
    const char *key = arg_bytes(c, 1);
    size_t key_length = arg_length(c, 1);
    struct entry *existing = store_find(key, key_length);
    if (get) {
        if (existing != NULL) {
            reply_bulk(c, existing->data + existing->key_length, existing->value_length);
        } else {
            reply_nil(c);
        }
        if (c->reply_failed) {
            return;
        }
    }
    if ((nx && existing != NULL) || (xx && existing == NULL)) {
        if (!get) {
            reply_nil(c);
        }
        return;
    }
    set_value(c, existing, key, key_length, arg_bytes(c, 2), arg_length(c, 2));
    if (!get) {
        reply_ok(c);
    }
}

static void cmd_setnx(struct client *c)
{
    const char *key = arg_bytes(c, 1);
    size_t key_length = arg_length(c, 1);
    if (store_find(key, key_length) != NULL) {
        reply_integer(c, 0);
        return;
    }
    set_value(c, NULL, key, key_length, arg_bytes(c, 2), arg_length(c, 2));
    reply_integer(c, 1);
}

static void cmd_get(struct client *c)
{
    struct entry *e = store_find(arg_bytes(c, 1), arg_length(c, 1));
    if (e == NULL) {
        reply_nil(c);
    } else {
        reply_bulk(c, e->data + e->key_length, e->value_length);
    }
}

static void cmd_strlen(struct client *c)
{
    struct entry *e = store_find(arg_bytes(c, 1), arg_length(c, 1));
    reply_integer(c, e != NULL ? e->value_length : 0);
}

static void cmd_ttl(struct client *c)
{
    reply_integer(c, store_find(arg_bytes(c, 1), arg_length(c, 1)) != NULL ? -1 : -2);
}

static void cmd_del(struct client *c)
{
    int64_t removed = 0;
    for (size_t i = 1; i < c->argc; i++) {
        removed += store_remove(arg_bytes(c, i), arg_length(c, i));
    }
    reply_integer(c, removed);
}

static void cmd_exists(struct client *c)
{
    int64_t found = 0;
    for (size_t i = 1; i < c->argc; i++) {
        found += store_find(arg_bytes(c, i), arg_length(c, i)) != NULL;
    }
    reply_integer(c, found);
}

static void increment_by(struct client *c, int64_t delta)
{
    const char *key = arg_bytes(c, 1);
    size_t key_length = arg_length(c, 1);
    struct entry *e = store_find(key, key_length);
    int64_t value = 0;
    if (e != NULL &&
        !parse_int64(e->data + e->key_length, e->value_length, &value)) {
        reply_not_integer(c);
        return;
    }
    if ((delta > 0 && value > INT64_MAX - delta) || (delta < 0 && value < INT64_MIN - delta)) {
        reply_text(c, "-ERR increment or decrement would overflow\r\n");
        return;
    }
    value += delta;
    char text[FORMAT_I64_CAPACITY];
    size_t length = format_i64(text, value);
    set_value(c, e, key, key_length, text, length);
    if (!c->reply_failed) {
        reply_integer(c, value);
    }
}

static void cmd_incr(struct client *c)
{
    increment_by(c, 1);
}

static void cmd_decr(struct client *c)
{
    increment_by(c, -1);
}

static void cmd_incrby(struct client *c)
{
    int64_t delta;
    if (!parse_int64(arg_bytes(c, 2), arg_length(c, 2), &delta)) {
        reply_not_integer(c);
        return;
    }
    increment_by(c, delta);
}

static void cmd_decrby(struct client *c)
{
    int64_t delta;
    if (!parse_int64(arg_bytes(c, 2), arg_length(c, 2), &delta) || delta == INT64_MIN) {
        reply_not_integer(c);
        return;
    }
    increment_by(c, -delta);
}

static void cmd_append(struct client *c)
{
    const char *key = arg_bytes(c, 1);
    size_t key_length = arg_length(c, 1);
    const char *suffix = arg_bytes(c, 2);
    size_t suffix_length = arg_length(c, 2);
    struct entry *e = store_find(key, key_length);
    if (e == NULL) {
        set_value(c, NULL, key, key_length, suffix, suffix_length);
        if (!c->reply_failed) {
            reply_integer(c, (int64_t)suffix_length);
        }
        return;
    }
    size_t total = (size_t)e->value_length + suffix_length;
    if (total > MAX_BULK_LENGTH) {
        reply_text(c, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
        return;
    }
    if (ENTRY_HEADER_SIZE + key_length + total > guest_malloc_usable_size(e)) {
        /* Find the link first: realloc may move the entry. */
        struct entry **link = store_find_link(key, key_length, e->hash);
        struct entry *grown = guest_realloc(e, ENTRY_HEADER_SIZE + key_length + total);
        if (grown == NULL) {
            c->reply_failed = 1;
            return;
        }
        *link = grown;
        e = grown;
    }
    memcpy(e->data + key_length + e->value_length, suffix, suffix_length);
    e->value_length = (uint32_t)total;
    reply_integer(c, (int64_t)total);
}

static void cmd_mset(struct client *c)
{
    if (c->argc % 2 != 1) {
        reply_wrong_arity(c, "mset");
        return;
    }
    /* All or nothing: build every entry before storing any. */
    size_t pairs = (c->argc - 1) / 2;
    struct entry **fresh = guest_malloc(pairs * sizeof(*fresh));
    if (fresh == NULL) {
        c->reply_failed = 1;
        return;
    }
    for (size_t i = 0; i < pairs; i++) {
        size_t k = 1 + 2 * i;
        fresh[i] = entry_new(arg_bytes(c, k), arg_length(c, k), arg_bytes(c, k + 1),
                             arg_length(c, k + 1));
        if (fresh[i] == NULL) {
            while (i > 0) {
                guest_free(fresh[--i]);
            }
            guest_free(fresh);
            c->reply_failed = 1;
            return;
        }
    }
    for (size_t i = 0; i < pairs; i++) {
        store_put(fresh[i]);
    }
    guest_free(fresh);
    reply_ok(c);
}

static void cmd_mget(struct client *c)
{
    reply_array(c, (int64_t)(c->argc - 1));
    for (size_t i = 1; i < c->argc && !c->reply_failed; i++) {
        struct entry *e = store_find(arg_bytes(c, i), arg_length(c, i));
        if (e == NULL) {
            reply_nil(c);
        } else {
            reply_bulk(c, e->data + e->key_length, e->value_length);
        }
    }
}

static void cmd_dbsize(struct client *c)
{
    reply_integer(c, (int64_t)store_key_count());
}

static void cmd_flushall(struct client *c)
{
    if (c->argc > 2 || (c->argc == 2 && !arg_is(c, 1, "ASYNC") && !arg_is(c, 1, "SYNC"))) {
        reply_text(c, "-ERR syntax error\r\n");
        return;
    }
    store_flush();
    reply_ok(c);
}

static void cmd_select(struct client *c)
{
    int64_t index;
    if (!parse_int64(arg_bytes(c, 1), arg_length(c, 1), &index)) {
        reply_not_integer(c);
    } else if (index != 0) {
        reply_text(c, "-ERR DB index is out of range\r\n");
    } else {
        reply_ok(c);
    }
}

static void cmd_quit(struct client *c)
{
    reply_ok(c);
    c->closing = 1;
}

static void info_line(struct line_buffer *line, const char *name, uint64_t value)
{
    line_text(line, name);
    line_u64(line, value);
    line_text(line, "\r\n");
}

static void cmd_info(struct client *c)
{
    struct guest_malloc_stats stats;
    guest_malloc_stats(&stats);
    uint64_t uptime = (clock_monotonic_ns() - start_time) / NANOSECONDS_PER_SECOND;
    /* Built in pieces no longer than a line buffer, then sent as one bulk string. */
    struct line_buffer parts[4];
    line_begin(&parts[0]);
    line_text(&parts[0], "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n"
                         "arch_bits:64\r\n");
    info_line(&parts[0], "tcp_port:", listen_port);
    info_line(&parts[0], "uptime_in_seconds:", uptime);
    line_begin(&parts[1]);
    line_text(&parts[1], "\r\n# Clients\r\n");
    info_line(&parts[1], "connected_clients:", client_count);
    line_text(&parts[1], "\r\n# Memory\r\n");
    info_line(&parts[1], "used_memory:", stats.in_use);
    info_line(&parts[1], "maxmemory:", stats.heap_size);
    line_begin(&parts[2]);
    info_line(&parts[2], "free_memory_estimate:", stats.free_estimate);
    line_text(&parts[2], "\r\n# Stats\r\n");
    info_line(&parts[2], "total_connections_received:", connections_received);
    info_line(&parts[2], "total_commands_processed:", commands_processed);
    line_begin(&parts[3]);
    line_text(&parts[3], "\r\n# Keyspace\r\n");
    if (store_key_count() > 0) {
        line_text(&parts[3], "db0:keys=");
        line_u64(&parts[3], store_key_count());
        line_text(&parts[3], ",expires=0,avg_ttl=0\r\n");
    }
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        total += parts[i].length;
    }
    reply_number(c, '$', (int64_t)total);
    for (int i = 0; i < 4; i++) {
        reply_bytes(c, parts[i].text, parts[i].length);
    }
    reply_bytes(c, "\r\n", 2);
}

/*
 * The only settings clients ask about are persistence (redis-benchmark warns when it
 * cannot read them), and there is none; other names match nothing, as unknown ones do
 * in Redis.
 */
static const char *const config_settings[][2] = {
    { "SAVE", "" },
    { "APPENDONLY", "no" },
};

static void cmd_config(struct client *c)
{
    if (arg_is(c, 1, "GET")) {
        size_t count = sizeof(config_settings) / sizeof(config_settings[0]);
        int64_t matches = 0;
        for (size_t i = 2; i < c->argc; i++) {
            for (size_t s = 0; s < count; s++) {
                matches += arg_is(c, i, config_settings[s][0]) || arg_is(c, i, "*");
            }
        }
        reply_array(c, 2 * matches);
        for (size_t i = 2; i < c->argc; i++) {
            for (size_t s = 0; s < count; s++) {
                if (arg_is(c, i, config_settings[s][0]) || arg_is(c, i, "*")) {
                    /* Redis answers with lower-case names. */
                    char name[16];
                    size_t length = strlen(config_settings[s][0]);
                    for (size_t k = 0; k < length; k++) {
                        name[k] = (char)(config_settings[s][0][k] - 'A' + 'a');
                    }
                    reply_bulk(c, name, length);
                    reply_bulk(c, config_settings[s][1], strlen(config_settings[s][1]));
                }
            }
        }
    } else if (arg_is(c, 1, "RESETSTAT")) {
        reply_ok(c);
    } else {
        reply_text(c, "-ERR unknown subcommand '");
        reply_sanitized(c, arg_bytes(c, 1), arg_length(c, 1), 64);
        reply_text(c, "'. Try CONFIG GET.\r\n");
    }
}

static void cmd_command(struct client *c)
{
    if (c->argc >= 2 && arg_is(c, 1, "COUNT")) {
        reply_integer(c, 0);
    } else {
        reply_array(c, 0);
    }
}

static void cmd_client(struct client *c)
{
    if (arg_is(c, 1, "GETNAME")) {
        reply_nil(c);
    } else if (arg_is(c, 1, "ID")) {
        reply_integer(c, (int64_t)c->id);
    } else {
        reply_ok(c);
    }
}

static const struct command commands[] = {
    { "GET", "get", 2, 0, cmd_get },
    { "SET", "set", -3, 1, cmd_set },
    { "PING", "ping", -1, 0, cmd_ping },
    { "INCR", "incr", 2, 1, cmd_incr },
    { "MSET", "mset", -3, 1, cmd_mset },
    { "MGET", "mget", -2, 0, cmd_mget },
    { "DEL", "del", -2, 0, cmd_del },
    { "EXISTS", "exists", -2, 0, cmd_exists },
    { "ECHO", "echo", 2, 0, cmd_echo },
    { "DECR", "decr", 2, 1, cmd_decr },
    { "INCRBY", "incrby", 3, 1, cmd_incrby },
    { "DECRBY", "decrby", 3, 1, cmd_decrby },
    { "APPEND", "append", 3, 1, cmd_append },
    { "STRLEN", "strlen", 2, 0, cmd_strlen },
    { "SETNX", "setnx", 3, 1, cmd_setnx },
    { "TTL", "ttl", 2, 0, cmd_ttl },
    { "DBSIZE", "dbsize", 1, 0, cmd_dbsize },
    { "FLUSHALL", "flushall", -1, 0, cmd_flushall },
    { "FLUSHDB", "flushdb", -1, 0, cmd_flushall },
    { "INFO", "info", -1, 0, cmd_info },
    { "CONFIG", "config", -2, 0, cmd_config },
    { "COMMAND", "command", -1, 0, cmd_command },
    { "CLIENT", "client", -2, 0, cmd_client },
    { "SELECT", "select", 2, 0, cmd_select },
    { "QUIT", "quit", -1, 0, cmd_quit },
};

void execute_command(struct client *c)
{
    commands_processed++;
    const struct command *command = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (arg_is(c, 0, commands[i].name)) {
            command = &commands[i];
            break;
        }
    }
    if (command == NULL) {
        reply_text(c, "-ERR unknown command '");
        reply_sanitized(c, arg_bytes(c, 0), arg_length(c, 0), 128);
        reply_text(c, "'\r\n");
        return;
    }
    if ((command->arity > 0 && c->argc != (size_t)command->arity) ||
        (command->arity < 0 && c->argc < (size_t)-command->arity)) {
        reply_wrong_arity(c, command->reply_name);
        return;
    }
    if (command->adds_memory && store_memory_low()) {
        reply_oom(c);
        return;
    }
    /* A reply that cannot be buffered is taken back whole and replaced by -OOM. */
    size_t mark = out_pending(c);
    c->reply_failed = 0;
    command->run(c);
    if (c->reply_failed) {
        c->out_end = c->out_start + mark;
        c->reply_failed = 0;
        reply_oom(c);
    }
}
