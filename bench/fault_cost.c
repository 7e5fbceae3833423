/* What first touching fresh memory costs on this machine, 4 KiB pages against transparent huge
 * pages: maps SIZE MiB, advises huge pages or not, writes one byte per 4 KiB page (each write is
 * a page fault and a page zeroing), then memsets the whole range (no faults: the memory bandwidth,
 * for comparison). Run it several times in a row and after a pause: on a virtual machine whose
 * balloon reports free pages to the host, memory freed a few seconds ago faults again on the host
 * (docs/benchmarks.md, "Session 7").
 *   cc -O2 -o /tmp/fault_cost bench/fault_cost.c
 *   for i in 1 2 3; do /tmp/fault_cost 512 0; /tmp/fault_cost 512 1; done; sleep 6; /tmp/fault_cost 512 1
 * Memory a process in 4 KiB pages freed does not serve the next one in huge pages warm (its pages
 * rarely make whole 2 MiB blocks); memory a process in huge pages freed does (docs/engine.md,
 * "Memory pages", exec/memory_pages.h UseHugePages):
 *   sleep 5; /tmp/fault_cost 800 0; /tmp/fault_cost 800 1; /tmp/fault_cost 800 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SIZE_MIB HUGE(0|1)\n", argv[0]);
    return 2;
  }
  const size_t bytes = (size_t)atol(argv[1]) << 20;
  const int huge = atoi(argv[2]);
  const size_t align = (size_t)2 << 20;
  char* raw = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return 1;
  char* p = (char*)(((unsigned long)raw + align - 1) & ~(align - 1));
  madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  const double t0 = now();
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  const double t1 = now();
  memset(p, 2, bytes);
  const double t2 = now();
  printf("first touch, %s pages, %zu MiB: %.3f s (%.2f GB/s); memset of the touched range %.3f s\n",
         huge ? "2 MiB" : "4 KiB", bytes >> 20, t1 - t0, (double)bytes / (t1 - t0) / 1e9, t2 - t1);
  return 0;
}
