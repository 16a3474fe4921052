// Open-addressing hash map (linear probing, power-of-two capacity, grows at 50% load) from uint64 keys to uint64
// values: inserts, lookups (hits and misses), updates and deletions with backward-shift.
// Usage: hashmap [operations] (default 8000000). Prints the final size and a checksum of lookups.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { uint64_t *keys; uint64_t *vals; uint8_t *used; size_t cap, size; } map;

static uint64_t mix(uint64_t k) {  // splitmix64 finalizer
    k ^= k >> 30; k *= 0xbf58476d1ce4e5b9ull; k ^= k >> 27; k *= 0x94d049bb133111ebull; k ^= k >> 31;
    return k;
}

static void map_init(map *m, size_t cap) {
    m->cap = cap; m->size = 0;
    m->keys = malloc(cap * sizeof(uint64_t)); m->vals = malloc(cap * sizeof(uint64_t)); m->used = calloc(cap, 1);
    if (!m->keys || !m->vals || !m->used) { fprintf(stderr, "out of memory\n"); exit(1); }
}

static void map_put(map *m, uint64_t k, uint64_t v);

static void map_grow(map *m) {
    map n;
    map_init(&n, m->cap * 2);
    for (size_t i = 0; i < m->cap; i++) if (m->used[i]) map_put(&n, m->keys[i], m->vals[i]);
    free(m->keys); free(m->vals); free(m->used);
    *m = n;
}

static void map_put(map *m, uint64_t k, uint64_t v) {
    if ((m->size + 1) * 2 > m->cap) map_grow(m);
    size_t mask = m->cap - 1, i = mix(k) & mask;
    while (m->used[i]) {
        if (m->keys[i] == k) { m->vals[i] = v; return; }
        i = (i + 1) & mask;
    }
    m->used[i] = 1; m->keys[i] = k; m->vals[i] = v; m->size++;
}

static int map_get(const map *m, uint64_t k, uint64_t *v) {
    size_t mask = m->cap - 1, i = mix(k) & mask;
    while (m->used[i]) {
        if (m->keys[i] == k) { *v = m->vals[i]; return 1; }
        i = (i + 1) & mask;
    }
    return 0;
}

static void map_del(map *m, uint64_t k) {
    size_t mask = m->cap - 1, i = mix(k) & mask;
    while (m->used[i] && m->keys[i] != k) i = (i + 1) & mask;
    if (!m->used[i]) return;
    m->used[i] = 0; m->size--;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->used[j]) break;
        size_t home = mix(m->keys[j]) & mask;
        // Move j into the hole at i if its home slot is not cyclically in (i, j].
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            m->keys[i] = m->keys[j]; m->vals[i] = m->vals[j]; m->used[i] = 1; m->used[j] = 0; i = j;
        }
    }
}

int main(int argc, char **argv) {
    size_t ops = argc > 1 ? strtoul(argv[1], NULL, 10) : 8000000;
    map m;
    map_init(&m, 16);
    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0, hits = 0;
    for (size_t i = 0; i < ops; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;  // LCG
        uint64_t k = (x >> 33) % (ops / 2 + 1), v;
        switch ((x >> 20) & 3) {
        case 0: case 1: map_put(&m, k, i); break;
        case 2: if (map_get(&m, k, &v)) { hits++; sum += v ^ k; } break;
        case 3: map_del(&m, k); break;
        }
    }
    for (uint64_t k = 0; k < ops / 2 + 1; k++) { uint64_t v; if (map_get(&m, k, &v)) sum = sum * 3 + v; }
    printf("ops=%zu size=%zu hits=%llu checksum=%llu\n", ops, m.size, (unsigned long long)hits, (unsigned long long)sum);
    return 0;
}
