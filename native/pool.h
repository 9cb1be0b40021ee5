// A fixed pool of worker threads for the native kernel. A job is `units` calls of
// fn(ctx, unit, thread); the calling thread and the workers claim units from one atomic
// counter until none are left (a worker the OS wakes late just finds less to do). Workers
// spin briefly after each job, since the next one usually follows within microseconds,
// then sleep on a condition variable.
#ifndef DS_POOL_H
#define DS_POOL_H

typedef void (*unit_fn)(void* ctx, int unit, int thread);

typedef struct pool pool;

pool* pool_create(int threads);
int pool_threads(const pool* p);
/** Runs every unit; returns when all are done. Units ≤ 1 or a 1-thread pool stay on the caller. */
void pool_run(pool* p, unit_fn fn, void* ctx, int units);
void pool_destroy(pool* p);

#endif
