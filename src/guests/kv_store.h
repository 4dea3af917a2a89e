/*
 * kv's key space: one hash table of string entries, grown incrementally, and the
 * memory reserve that decides when commands that add data are refused.
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include "migration.h"

/* Key and value share one allocation, so a key costs a single block. */
struct entry {
    struct entry *next;
    uint32_t hash;
    uint32_t key_length;
    uint32_t value_length;
    char data[]; /* key, then value */
};

#define ENTRY_HEADER_SIZE offsetof(struct entry, data)

/* Sets the memory reserve from the heap size and allocates the table; 0 if it cannot. */
int store_init(void);
/* True once free memory is below the reserve kept for connections and replies. */
int store_memory_low(void);

size_t store_key_count(void);
/* While the table grows, the server loop moves buckets whenever it is idle. */
int store_rehashing(void);
void store_rehash_idle(void);

struct entry *store_find(const char *key, size_t length);
/* The link that points at the key's entry, or NULL; for replacing an entry in place. */
struct entry **store_find_link(const char *key, size_t length, uint32_t hash);

/* An entry not yet in the key space, or NULL when memory ran out. */
struct entry *entry_new(const char *key, size_t key_length, const char *value,
                        size_t value_length);
int entry_fits_in_place(struct entry *e, size_t value_length);

/*
 * Puts `e` in the key space, replacing (and freeing) any entry with the same key.
 * Never fails: all allocation happened before.
 */
void store_put(struct entry *e);
/* 1 if the key existed. */
int store_remove(const char *key, size_t length);
void store_flush(void);

#endif /* KV_STORE_H */
