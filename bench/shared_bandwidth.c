/* Whether this machine's cores share their memory bandwidth: a memory-bound loop (copies of
 * 256 MiB, MODE copy) and a CPU-bound one (a multiply-add chain, MODE spin), timed alone and
 * then two at once. Where two copies at once each take longer than one alone while two spins do
 * not, a worker's second thread slows its first wherever both stream memory (decoding, placing,
 * merging): its CPU time grows with the threads (docs/benchmarks.md, "Session 25").
 *   cc -O2 -o /tmp/shared_bandwidth bench/shared_bandwidth.c
 *   /tmp/shared_bandwidth copy; (/tmp/shared_bandwidth copy & /tmp/shared_bandwidth copy; wait)
 *   /tmp/shared_bandwidth spin; (/tmp/shared_bandwidth spin & /tmp/shared_bandwidth spin; wait)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 2 || (strcmp(argv[1], "copy") != 0 && strcmp(argv[1], "spin") != 0)) {
    fprintf(stderr, "usage: %s copy|spin\n", argv[0]);
    return 2;
  }
  if (strcmp(argv[1], "copy") == 0) {
    const size_t n = (size_t)256 << 20;
    char* a = malloc(n);
    char* b = malloc(n);
    if (a == NULL || b == NULL) return 1;
    memset(a, 1, n);  // faulted in before the clock starts
    memset(b, 2, n);
    const double start = cpu_seconds();
    for (int i = 0; i < 20; ++i) {
      memcpy(b, a, n);
      a[i]++;
    }
    printf("copy: 20 x 256 MiB in %.2f s of CPU (%d)\n", cpu_seconds() - start, b[7]);
    return 0;
  }
  volatile uint64_t x = 1;
  const double start = cpu_seconds();
  for (uint64_t i = 0; i < 1500000000u; ++i) x = x * 6364136223846793005u + 1442695040888963407u;
  printf("spin: %.2f s of CPU (%llu)\n", cpu_seconds() - start, (unsigned long long)(x & 1));
  return 0;
}
