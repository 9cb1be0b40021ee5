// Progress for long jobs: a throttled one-line counter on a terminal, silence otherwise
// (logs and CI get the final summary instead).
export class Progress {
  readonly #label: string;
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #total: number | undefined;
  readonly #start = performance.now();
  #count = 0;
  #last = 0;

  constructor(
    label: string,
    options: { total?: number; stream?: NodeJS.WriteStream; enabled?: boolean } = {},
  ) {
    this.#label = label;
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = options.enabled ?? this.#stream.isTTY === true;
    this.#total = options.total;
  }

  get count(): number {
    return this.#count;
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.#start) / 1000;
  }

  add(n = 1): void {
    this.#count += n;
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#last < 200) return;
    this.#last = now;
    this.#render();
  }

  done(): void {
    if (!this.#enabled) return;
    this.#render();
    this.#stream.write("\n");
  }

  #render(): void {
    const rate = this.#count / Math.max(1e-9, this.elapsedSeconds);
    const of = this.#total === undefined ? "" : `/${this.#total}`;
    this.#stream.write(`\r${this.#label}: ${this.#count}${of} (${rate.toFixed(0)}/s)   `);
  }
}
