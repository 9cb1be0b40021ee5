// A persistent judgement cache keyed by a hash of the full input (model, template, prompt,
// response, reference, mode), so re-running a selection or an evaluation costs nothing.
// SQLite through node:sqlite: one file, safe across processes, no native dependency.
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";

export class JudgeCache {
  readonly #db: DatabaseSync;
  readonly #get: ReturnType<DatabaseSync["prepare"]>;
  readonly #put: ReturnType<DatabaseSync["prepare"]>;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, value TEXT NOT NULL, created INTEGER NOT NULL)",
    );
    this.#get = this.#db.prepare("SELECT value FROM judgements WHERE key = ?");
    this.#put = this.#db.prepare("INSERT OR REPLACE INTO judgements (key, value, created) VALUES (?, ?, ?)");
  }

  static key(parts: readonly unknown[]): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  get(key: string): unknown {
    const row = this.#get.get(key) as { value: string } | undefined;
    return row === undefined ? undefined : JSON.parse(row.value);
  }

  set(key: string, value: unknown): void {
    this.#put.run(key, JSON.stringify(value), Date.now());
  }

  close(): void {
    this.#db.close();
  }
}
