// Allocator stress: many small malloc/free of varying sizes with a sliding window of live blocks, plus
// realloc growth of a few vectors. Exercises dlmalloc (wasi-libc) or glibc malloc natively.
// Usage: malloc [rounds] (default 20000000). Prints a checksum of the bytes written and read back.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 4096

int main(int argc, char **argv) {
    size_t rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000000;
    unsigned char *live[WINDOW] = {0};
    size_t sizes[WINDOW] = {0};
    uint32_t x = 2463534242u;
    uint64_t sum = 0;
    for (size_t r = 0; r < rounds; r++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        size_t slot = x % WINDOW;
        if (live[slot]) {
            sum += live[slot][0] + live[slot][sizes[slot] - 1] * 7u + sizes[slot];
            free(live[slot]);
        }
        size_t size = 8 + (x >> 12) % ((x & 0x100) ? 1024 : 96);
        unsigned char *p = malloc(size);
        if (!p) { fprintf(stderr, "out of memory\n"); return 1; }
        memset(p, (int)(r & 0xff), size);
        live[slot] = p; sizes[slot] = size;
        if ((r & 0xffff) == 0) {  // occasionally grow a vector by realloc
            size_t len = 0, cap = 16;
            uint32_t *v = malloc(cap * sizeof *v);
            for (size_t i = 0; i < 20000; i++) {
                if (len == cap) { cap *= 2; v = realloc(v, cap * sizeof *v); if (!v) return 1; }
                v[len++] = (uint32_t)(i * r);
            }
            sum += v[len - 1];
            free(v);
        }
    }
    for (size_t i = 0; i < WINDOW; i++) free(live[i]);
    printf("rounds=%zu checksum=%llu\n", rounds, (unsigned long long)sum);
    return 0;
}
