/*
 * kv's key space. One chained hash table that doubles when it holds as many keys as
 * buckets; the doubling moves a few buckets per lookup (and more while the server is
 * idle) so that no single command pays for a whole rehash.
 */
#include "kv_store.h"

#define TABLE_INITIAL_BUCKETS 1024
#define REHASH_STEP 4
#define REHASH_IDLE_STEP 4096

struct table {
    struct entry **buckets;
    size_t mask;
};

/* tables[1] exists only while tables[0] is being moved into it. */
static struct table tables[2];
static size_t rehash_index;
static size_t key_count;
/* Growth that failed for lack of memory is retried only once this many keys exist. */
static size_t next_grow_attempt;
static size_t memory_reserve;

int store_init(void)
{
    struct guest_malloc_stats stats;
    guest_malloc_stats(&stats);
    /* Enough for a few hundred clients' buffers and replies once the keys fill the rest. */
    memory_reserve = stats.heap_size / 64;
    if (memory_reserve < 256 * 1024) {
        memory_reserve = 256 * 1024;
    }
    if (memory_reserve > 16u << 20) {
        memory_reserve = 16u << 20;
    }
    tables[0].buckets = guest_calloc(TABLE_INITIAL_BUCKETS, sizeof(struct entry *));
    if (tables[0].buckets == NULL) {
        return 0;
    }
    tables[0].mask = TABLE_INITIAL_BUCKETS - 1;
    return 1;
}

size_t store_key_count(void)
{
    return key_count;
}

static uint32_t hash_key(const char *key, size_t length)
{
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < length; i++) {
        hash ^= (unsigned char)key[i];
        hash *= 0x100000001b3ull;
    }
    /* FNV's low bits are weak and the table index uses only those. */
    hash ^= hash >> 29;
    hash *= 0xbf58476d1ce4e5b9ull;
    hash ^= hash >> 32;
    return (uint32_t)hash;
}

int store_rehashing(void)
{
    return tables[1].buckets != NULL;
}

static void rehash_steps(size_t steps)
{
    if (!store_rehashing()) {
        return;
    }
    /* Empty buckets are cheap but not free: bound them too. */
    size_t empty_visits = steps * 10;
    while (steps > 0 && rehash_index <= tables[0].mask) {
        struct entry *e = tables[0].buckets[rehash_index];
        if (e == NULL) {
            rehash_index++;
            if (--empty_visits == 0) {
                return;
            }
            continue;
        }
        while (e != NULL) {
            struct entry *next = e->next;
            struct entry **bucket = &tables[1].buckets[e->hash & tables[1].mask];
            e->next = *bucket;
            *bucket = e;
            e = next;
        }
        tables[0].buckets[rehash_index++] = NULL;
        steps--;
    }
    if (rehash_index > tables[0].mask) {
        guest_free(tables[0].buckets);
        tables[0] = tables[1];
        tables[1].buckets = NULL;
        tables[1].mask = 0;
        rehash_index = 0;
    }
}

void store_rehash_idle(void)
{
    rehash_steps(REHASH_IDLE_STEP);
}

static void maybe_grow(void)
{
    if (store_rehashing() || key_count <= tables[0].mask || key_count < next_grow_attempt) {
        return;
    }
    size_t buckets = (tables[0].mask + 1) * 2;
    struct entry **fresh = guest_calloc(buckets, sizeof(*fresh));
    if (fresh == NULL) {
        /* Longer chains are slower but correct; try again after more keys. */
        next_grow_attempt = key_count * 2;
        return;
    }
    tables[1].buckets = fresh;
    tables[1].mask = buckets - 1;
    rehash_index = 0;
    next_grow_attempt = 0;
}

struct entry **store_find_link(const char *key, size_t length, uint32_t hash)
{
    for (int t = 0; t < 2; t++) {
        if (tables[t].buckets == NULL) {
            break;
        }
        struct entry **link = &tables[t].buckets[hash & tables[t].mask];
        for (; *link != NULL; link = &(*link)->next) {
            struct entry *e = *link;
            if (e->hash == hash && e->key_length == length &&
                memcmp(e->data, key, length) == 0) {
                return link;
            }
        }
    }
    return NULL;
}

struct entry *store_find(const char *key, size_t length)
{
    rehash_steps(REHASH_STEP);
    struct entry **link = store_find_link(key, length, hash_key(key, length));
    return link != NULL ? *link : NULL;
}

struct entry *entry_new(const char *key, size_t key_length, const char *value,
                        size_t value_length)
{
    struct entry *e = guest_malloc(ENTRY_HEADER_SIZE + key_length + value_length);
    if (e == NULL) {
        return NULL;
    }
    e->next = NULL;
    e->hash = hash_key(key, key_length);
    e->key_length = (uint32_t)key_length;
    e->value_length = (uint32_t)value_length;
    memcpy(e->data, key, key_length);
    memcpy(e->data + key_length, value, value_length);
    return e;
}

void store_put(struct entry *e)
{
    rehash_steps(REHASH_STEP);
    struct entry **link = store_find_link(e->data, e->key_length, e->hash);
    if (link != NULL) {
        struct entry *old = *link;
        e->next = old->next;
        *link = e;
        guest_free(old);
        return;
    }
    struct table *t = store_rehashing() ? &tables[1] : &tables[0];
    struct entry **bucket = &t->buckets[e->hash & t->mask];
    e->next = *bucket;
    *bucket = e;
    key_count++;
    maybe_grow();
}

int store_remove(const char *key, size_t length)
{
    rehash_steps(REHASH_STEP);
    struct entry **link = store_find_link(key, length, hash_key(key, length));
    if (link == NULL) {
        return 0;
    }
    struct entry *e = *link;
    *link = e->next;
    guest_free(e);
    key_count--;
    return 1;
}

/* Entries may be rewritten in place when the new value fits and wastes little. */
int entry_fits_in_place(struct entry *e, size_t value_length)
{
    size_t needed = ENTRY_HEADER_SIZE + e->key_length + value_length;
    size_t usable = guest_malloc_usable_size(e);
    return needed <= usable && (needed > usable / 2 || usable <= 64);
}

static void free_chain_table(struct table *t)
{
    if (t->buckets == NULL) {
        return;
    }
    for (size_t i = 0; i <= t->mask; i++) {
        struct entry *e = t->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            guest_free(e);
            e = next;
        }
        t->buckets[i] = NULL;
    }
}

void store_flush(void)
{
    free_chain_table(&tables[0]);
    free_chain_table(&tables[1]);
    guest_free(tables[1].buckets);
    tables[1].buckets = NULL;
    tables[1].mask = 0;
    rehash_index = 0;
    key_count = 0;
    next_grow_attempt = 0;
    if (tables[0].mask + 1 > TABLE_INITIAL_BUCKETS) {
        struct entry **small = guest_calloc(TABLE_INITIAL_BUCKETS, sizeof(*small));
        if (small != NULL) {
            guest_free(tables[0].buckets);
            tables[0].buckets = small;
            tables[0].mask = TABLE_INITIAL_BUCKETS - 1;
        }
    }
}

int store_memory_low(void)
{
    struct guest_malloc_stats stats;
    guest_malloc_stats(&stats);
    return stats.free_estimate < memory_reserve;
}
