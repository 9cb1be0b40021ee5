// TypeScript on the Node that runs DataScale (Node ≥ 22.18 strips types natively; the
// transform flag also accepts enums and namespaces, as tsx does). No compiler to install:
// the same Node the JavaScript runner uses, with the same heap cap and address-space slack.
import { V8_RESERVE_MB } from "./javascript.ts";
import type { Runner } from "./types.ts";

export const typescript: Runner = {
  language: "typescript",
  aliases: ["ts"],
  fenceTags: ["typescript", "ts", "tsx", "mts", "cts"],
  sourceName: "main.ts",
  hostPaths: [],
  packages: [],
  run: (p, l) => ({
    kind: "exec",
    argv: [
      `${p.runtime}/bin/node`,
      "--experimental-transform-types",
      "--disable-warning=ExperimentalWarning",
      `--max-old-space-size=${l.memoryMb}`,
      `${p.build}/main.ts`,
    ],
  }),
  limits: (l) => ({ ...l, memoryMb: l.memoryMb + V8_RESERVE_MB }),
};
