/*
 * ISA-L erasure-coding baseline for docs/benchmarks-codec.md.
 *
 * Measures ec_encode_data throughput for k data + m parity shards, and the reconstruction of two lost data shards
 * (decode matrix from gf_invert_matrix, tables from ec_init_tables, then ec_encode_data over the k survivors), the
 * same two operations bench/Xmbl.Cluster.Benchmarks/Codec measures for our codec. Throughput is bytes of data
 * (k * shard size) per second, best of several timed rounds.
 *
 * Build: cc -O2 -o isal_bench isal_bench.c -lisal      (Debian: apt-get install libisal-dev)
 * Usage: isal_bench K M SHARD_BYTES [ROUND_MS] [ROUNDS]
 * Output, one line per operation:
 *   isal <encode|reconstruct> k=K m=M size=SHARD_BYTES gbps=<best GB/s> median_gbps=<median GB/s>
 */
#define _POSIX_C_SOURCE 200112L
#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SHARDS 255

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *aligned_buffer(size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, size == 0 ? 64 : size) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Runs op over and over for round_ms per round; returns best and median GB/s of data bytes over all rounds. */
typedef void (*operation)(void *state);

static void measure(operation op, void *state, double data_bytes, int round_ms, int rounds, double *best, double *median)
{
    double rates[64];
    if (rounds > 64)
        rounds = 64;
    /* Warm-up: tables, caches, page faults. */
    for (int i = 0; i < 8; i++)
        op(state);
    for (int r = 0; r < rounds; r++) {
        long iterations = 0;
        double start = now_seconds(), elapsed;
        do {
            op(state);
            iterations++;
            elapsed = now_seconds() - start;
        } while (elapsed < round_ms / 1000.0);
        rates[r] = data_bytes * (double)iterations / elapsed / 1e9;
    }
    qsort(rates, (size_t)rounds, sizeof(double), compare_doubles);
    *best = rates[rounds - 1];
    *median = rates[rounds / 2];
}

struct encode_state {
    int len, k, rows;
    unsigned char *tables;
    unsigned char **inputs;
    unsigned char **outputs;
};

static void run_encode(void *p)
{
    struct encode_state *s = p;
    ec_encode_data(s->len, s->k, s->rows, s->tables, s->inputs, s->outputs);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s K M SHARD_BYTES [ROUND_MS] [ROUNDS]\n", argv[0]);
        return 1;
    }
    int k = atoi(argv[1]), m = atoi(argv[2]), len = atoi(argv[3]);
    int round_ms = argc > 4 ? atoi(argv[4]) : 300;
    int rounds = argc > 5 ? atoi(argv[5]) : 5;
    int n = k + m;
    if (k < 2 || m < 2 || n > MAX_SHARDS || len < 1) {
        fprintf(stderr, "need k >= 2, m >= 2 (two data shards are lost), k + m <= %d, size >= 1\n", MAX_SHARDS);
        return 1;
    }

    unsigned char *shards[MAX_SHARDS];
    srand(12345);
    for (int i = 0; i < n; i++) {
        shards[i] = aligned_buffer((size_t)len);
        for (int j = 0; j < len; j++)
            shards[i][j] = (unsigned char)rand();
    }

    /* Encoding matrix: identity on top of a Cauchy matrix (every k x k selection is invertible). */
    unsigned char *matrix = malloc((size_t)n * k);
    unsigned char *tables = malloc((size_t)32 * k * m);
    gf_gen_cauchy1_matrix(matrix, n, k);
    ec_init_tables(k, m, &matrix[k * k], tables);

    struct encode_state enc = { len, k, m, tables, shards, &shards[k] };
    double best, median;
    measure(run_encode, &enc, (double)k * len, round_ms, rounds, &best, &median);
    printf("isal encode k=%d m=%d size=%d gbps=%.3f median_gbps=%.3f\n", k, m, len, best, median);

    /* Reconstruct data shards 0 and 1 from the first k survivors (shards 2 .. k+1). */
    unsigned char *survivors_matrix = malloc((size_t)k * k);
    unsigned char *inverse = malloc((size_t)k * k);
    unsigned char *decode_rows = malloc((size_t)2 * k);
    unsigned char *decode_tables = malloc((size_t)32 * k * 2);
    unsigned char *survivors[MAX_SHARDS];
    for (int i = 0; i < k; i++) {
        memcpy(&survivors_matrix[i * k], &matrix[(i + 2) * k], (size_t)k);
        survivors[i] = shards[i + 2];
    }
    if (gf_invert_matrix(survivors_matrix, inverse, k) != 0) {
        fprintf(stderr, "singular decode matrix\n");
        return 3;
    }
    memcpy(decode_rows, inverse, (size_t)2 * k); /* rows 0 and 1 of the inverse rebuild data shards 0 and 1 */
    ec_init_tables(k, 2, decode_rows, decode_tables);
    unsigned char *rebuilt[2] = { aligned_buffer((size_t)len), aligned_buffer((size_t)len) };

    struct encode_state dec = { len, k, 2, decode_tables, survivors, rebuilt };
    run_encode(&dec);
    if (memcmp(rebuilt[0], shards[0], (size_t)len) != 0 || memcmp(rebuilt[1], shards[1], (size_t)len) != 0) {
        fprintf(stderr, "ISA-L reconstruction mismatch\n");
        return 4;
    }
    measure(run_encode, &dec, (double)k * len, round_ms, rounds, &best, &median);
    printf("isal reconstruct k=%d m=%d size=%d gbps=%.3f median_gbps=%.3f\n", k, m, len, best, median);

    for (int i = 0; i < n; i++)
        free(shards[i]);
    free(rebuilt[0]);
    free(rebuilt[1]);
    free(matrix);
    free(tables);
    free(survivors_matrix);
    free(inverse);
    free(decode_rows);
    free(decode_tables);
    return 0;
}
