/*
 * pool_stress.c -- hammer cyloss's thread pool from several threads at once (built by
 * tools/sanitize.sh with -fsanitize=thread, which reports any data race).
 *
 * Each caller thread repeatedly picks a kernel, a size and a thread setting of its own,
 * runs the kernel (racing the others for the pool: the loser runs its call itself) and
 * compares the result bit for bit with the same call on one thread.  Exit status 1 on a
 * mismatch or an error status.
 *
 *   cc -O1 -g -fsanitize=thread -pthread -DCYL_NO_AVX2 -Icsrc tools/pool_stress.c \
 *      csrc/dispatch.c csrc/cyl_threads.c csrc/kernels_baseline.c -lm -o pool_stress
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyloss.h"

#define CALLERS 4
#define ROUNDS 60

static int failures = 0;
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, int round)
{
    pthread_mutex_lock(&fail_mu);
    failures++;
    fprintf(stderr, "pool_stress: %s differs (round %d)\n", what, round);
    pthread_mutex_unlock(&fail_mu);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *caller(void *arg)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(uintptr_t)arg + 1;
    for (int round = 0; round < ROUNDS; round++) {
        ptrdiff_t n = 64 + (ptrdiff_t)(next_rand(&seed) % 400), c = 100 + (ptrdiff_t)(next_rand(&seed) % 900);
        double *x = malloc(sizeof(double) * n * c), *y1 = malloc(sizeof(double) * n * c);
        double *y2 = malloc(sizeof(double) * n * c), *g1 = malloc(sizeof(double) * n * c);
        double *g2 = malloc(sizeof(double) * n * c);
        int64_t *t = malloc(sizeof(int64_t) * n);
        if (!x || !y1 || !y2 || !g1 || !g2 || !t) abort();
        for (ptrdiff_t k = 0; k < n * c; k++)
            x[k] = (double)(next_rand(&seed) % 20001) / 1000.0 - 10.0;
        for (ptrdiff_t i = 0; i < n; i++)
            t[i] = (int64_t)(next_rand(&seed) % (uint64_t)c);
        double l1 = 0, l2 = 0, m1 = 0, m2 = 0;
        ptrdiff_t err = -1;
        /* reference on one thread */
        cyl_set_thread_num_threads(1);
        if (cyl_softmax_f64(n, c, x, c, y1, c, 1.0) ||
            cyl_cross_entropy_loss_grad_f64(n, c, x, c, t, NULL, -100, 0.1, 1.0 / n, NULL, &l1, g1, c, &err) ||
            cyl_regression_loss_grad_f64(CYL_HUBER, n * c, x, y1, NULL, 0.5, 1.0, NULL, &m1, NULL))
            fail("status (1 thread)", round);
        /* the same on 2..4 threads, racing the other callers */
        cyl_set_thread_num_threads(2 + (int)(next_rand(&seed) % 3));
        if (cyl_softmax_f64(n, c, x, c, y2, c, 1.0) ||
            cyl_cross_entropy_loss_grad_f64(n, c, x, c, t, NULL, -100, 0.1, 1.0 / n, NULL, &l2, g2, c, &err) ||
            cyl_regression_loss_grad_f64(CYL_HUBER, n * c, x, y2, NULL, 0.5, 1.0, NULL, &m2, NULL))
            fail("status (threads)", round);
        if (memcmp(y1, y2, sizeof(double) * n * c)) fail("softmax", round);
        if (memcmp(g1, g2, sizeof(double) * n * c) || l1 != l2) fail("cross_entropy", round);
        if (m1 != m2) fail("huber sum", round);
        free(x); free(y1); free(y2); free(g1); free(g2); free(t);
    }
    return NULL;
}

int main(void)
{
    cyl_init(0);
    cyl_set_thread_defaults(0, 4);
    pthread_t th[CALLERS];
    for (intptr_t k = 0; k < CALLERS; k++)
        if (pthread_create(&th[k], NULL, caller, (void *)k)) return 2;
    for (int k = 0; k < CALLERS; k++)
        pthread_join(th[k], NULL);
    printf("pool_stress: %d callers x %d rounds, %d failures\n", CALLERS, ROUNDS, failures);
    return failures ? 1 : 0;
}
