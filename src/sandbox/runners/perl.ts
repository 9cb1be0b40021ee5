// Perl 5 with Debian's /usr/bin/perl (package `perl-base`, always installed).
import type { Runner } from "./types.ts";

export const perl: Runner = {
  language: "perl",
  aliases: ["pl"],
  fenceTags: ["perl", "pl"],
  sourceName: "main.pl",
  hostPaths: [],
  packages: ["perl-base"],
  run: (p) => ({ kind: "exec", argv: ["/usr/bin/perl", `${p.build}/main.pl`] }),
};
