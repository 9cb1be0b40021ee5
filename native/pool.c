// See pool.h. The claim word holds the job's unit count (high 32 bits) and the next unit
// (low 32 bits), so one fetch_add tells a thread both which unit it got and whether the job
// still has it: a worker left over from the previous job can only claim a unit of the job
// now posted, whose fn/ctx were published before the word.
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/** How long an idle worker spins before sleeping: longer than the gaps between the ops of
 * a training step, short enough not to hold a core once the step is over. */
#define SPIN_NS 200000

struct pool {
  int threads;
  pthread_t* tids;
  unit_fn fn;
  void* ctx;
  _Atomic uint64_t word;
  _Atomic int done;
  _Atomic int gen;
  _Atomic int stop;
  _Atomic int sleepers;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

typedef struct {
  pool* p;
  int index;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void work(pool* p, int thread) {
  for (;;) {
    uint64_t w = atomic_fetch_add(&p->word, 1);
    uint32_t unit = (uint32_t)w;
    uint32_t units = (uint32_t)(w >> 32);
    if (unit >= units) return;
    p->fn(p->ctx, (int)unit, thread);
    atomic_fetch_add(&p->done, 1);
  }
}

static void* worker_main(void* arg) {
  worker_arg a = *(worker_arg*)arg;
  free(arg);
  pool* p = a.p;
  int seen = 0;
  for (;;) {
    int g = atomic_load(&p->gen);
    if (g == seen) {
      int64_t until = now_ns() + SPIN_NS;
      for (int i = 0; (g = atomic_load(&p->gen)) == seen; i++) {
        cpu_relax();
        if ((i & 255) == 255 && now_ns() > until) break;
      }
    }
    if (g == seen) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->sleepers, 1);
      while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) return NULL;
    seen = g;
    work(p, a.index);
  }
}

pool* pool_create(int threads) {
  pool* p = calloc(1, sizeof(pool));
  if (p == NULL) return NULL;
  p->threads = threads < 1 ? 1 : threads;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->tids = calloc((size_t)p->threads, sizeof(pthread_t));
  for (int t = 1; t < p->threads; t++) {
    worker_arg* a = malloc(sizeof(worker_arg));
    a->p = p;
    a->index = t;
    if (pthread_create(&p->tids[t], NULL, worker_main, a) != 0) {
      free(a);
      p->threads = t;
      break;
    }
  }
  return p;
}

int pool_threads(const pool* p) { return p->threads; }

void pool_run(pool* p, unit_fn fn, void* ctx, int units) {
  if (units <= 0) return;
  if (units == 1 || p->threads == 1) {
    for (int u = 0; u < units; u++) fn(ctx, u, 0);
    return;
  }
  p->fn = fn;
  p->ctx = ctx;
  atomic_store(&p->done, 0);
  atomic_store(&p->word, (uint64_t)units << 32);
  atomic_fetch_add(&p->gen, 1);
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  work(p, 0);
  // Only units already claimed remain; a descheduled worker gets the core back sooner
  // if we yield after a short spin.
  for (int i = 0; atomic_load(&p->done) < units; i++) {
    if (i < 4096)
      cpu_relax();
    else
      sched_yield();
  }
}

void pool_destroy(pool* p) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, 1);
  atomic_fetch_add(&p->gen, 1);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int t = 1; t < p->threads; t++) pthread_join(p->tids[t], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->tids);
  free(p);
}
