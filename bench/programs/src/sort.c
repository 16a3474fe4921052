// Sorting: libc qsort (indirect calls through a comparator) and a hand-written bottom-up merge sort on 32-bit keys.
// Usage: sort [count] (default 3000000). Prints a position-weighted checksum of each sorted array.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void merge_sort(uint32_t *a, uint32_t *tmp, size_t n) {
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}

static uint64_t checksum(const uint32_t *a, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s = s * 31 + a[i] * (uint64_t)(i + 1);
    return s;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 3000000;
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *tmp = malloc(n * sizeof *tmp);
    if (!a || !b || !tmp) { fprintf(stderr, "out of memory\n"); return 1; }
    uint64_t x = 88172645463325252ull;  // xorshift64
    for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; a[i] = b[i] = (uint32_t)(x >> 16); }
    qsort(a, n, sizeof *a, cmp_u32);
    merge_sort(b, tmp, n);
    for (size_t i = 1; i < n; i++)
        if (a[i - 1] > a[i] || a[i] != b[i]) { printf("NOT SORTED at %zu\n", i); return 2; }
    printf("n=%zu qsort=%llu merge=%llu\n", n, (unsigned long long)checksum(a, n), (unsigned long long)checksum(b, n));
    free(a); free(b); free(tmp);
    return 0;
}
