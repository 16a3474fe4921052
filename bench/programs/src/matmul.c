// Dense double-precision matrix multiply C = A * B (i-k-j loop order): memory loads/stores and FP multiply-add.
// Usage: matmul [n] (default 768). Prints the sum of C and one element.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 768;
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc((size_t)n * n, sizeof(double));
    if (!a || !b || !c) { fprintf(stderr, "out of memory\n"); return 1; }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            b[i * n + j] = (double)((i * 5 + j * 11) % 23) / 22.0 - 0.5;
        }
    for (int rep = 0; rep < 4; rep++) {
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double aik = a[i * n + k];
                double *ci = &c[i * n];
                const double *bk = &b[k * n];
                for (int j = 0; j < n; j++) ci[j] += aik * bk[j];
            }
        // Feed the result back so repetitions depend on each other.
        for (int i = 0; i < n * n; i++) a[i] = c[i] * 0.001 + a[i] * 0.5;
    }
    double sum = 0;
    for (int i = 0; i < n * n; i++) sum += c[i];
    printf("n=%d sum=%.6f c[n/2][n/3]=%.6f\n", n, sum, c[(n / 2) * n + n / 3]);
    free(a); free(b); free(c);
    return 0;
}
