// Recursive Fibonacci: call-heavy integer code (function call overhead, small frames).
// Usage: fib [n]   (default 41). Prints fib(n) which doubles as the checksum.
#include <stdio.h>
#include <stdlib.h>

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 41;
    printf("fib(%u) = %u\n", n, fib(n));
    return 0;
}
