// How many threads a kernel uses when its caller does not say: DATASCALE_THREADS when set
// (the main job gives each of its parallel seed processes its share of the cores: three
// processes with two threads each on two cores spent their time taking turns), else every core.
import { availableParallelism } from "node:os";

/** DATASCALE_THREADS as a positive integer, or undefined when it is unset or not one. */
export function threadsFromEnv(): number | undefined {
  const fromEnv = Number(process.env["DATASCALE_THREADS"]);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : undefined;
}

export function defaultThreads(): number {
  return threadsFromEnv() ?? availableParallelism();
}
