// A counting semaphore: at most `n` tasks run at once; the rest wait in FIFO order.
export class Limit {
  readonly #n: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(n: number) {
    if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`limit must be a positive integer, got ${n}`);
    this.#n = n;
  }

  get pending(): number {
    return this.#waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#n) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
