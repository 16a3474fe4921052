// Sieve of Eratosthenes over a byte array: tight loops of byte stores with a stride.
// Usage: sieve [limit] (default 60000000), repeated 3 times. Prints the prime count and the largest prime.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    unsigned limit = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 60000000u;
    unsigned char *composite = malloc(limit + 1);
    if (!composite) { fprintf(stderr, "out of memory\n"); return 1; }
    unsigned count = 0, largest = 0;
    for (int rep = 0; rep < 3; rep++) {
        memset(composite, 0, limit + 1);
        count = 0;
        for (unsigned i = 2; i <= limit; i++) {
            if (composite[i]) continue;
            count++;
            largest = i;
            for (unsigned long long j = (unsigned long long)i * i; j <= limit; j += i) composite[j] = 1;
        }
    }
    printf("primes <= %u: %u, largest %u\n", limit, count, largest);
    free(composite);
    return 0;
}
