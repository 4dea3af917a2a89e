/*
 * kv's commands, run on a parsed request.
 */
#ifndef KV_COMMANDS_H
#define KV_COMMANDS_H

#include "kv_client.h"

/* Runs the command in c->args and appends its reply, or -OOM if the reply did not fit. */
void execute_command(struct client *c);

/* Kept by the server loop (kv.c); here because INFO reports them. */
extern uint16_t listen_port;
extern uint64_t start_time;
extern size_t client_count;
extern uint64_t connections_received;

#endif /* KV_COMMANDS_H */
