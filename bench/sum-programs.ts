// a + b from stdin in every sandbox language: the per-language workload of the benchmarks.
export const SUM_PROGRAMS: Record<string, string> = {
  python: "print(sum(map(int, input().split())))",
  javascript:
    'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
  typescript:
    'import { readFileSync } from "node:fs";\nconst [a, b] = readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
  cpp: "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << std::endl; }",
  go: 'package main\nimport "fmt"\nfunc main() { var a, b int; fmt.Scan(&a, &b); fmt.Println(a + b) }',
  java: "import java.util.Scanner;\npublic class Main { public static void main(String[] x) { Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }",
  rust: 'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }',
  bash: "read a b\necho $((a + b))",
  perl: "my ($a, $b) = split ' ', <STDIN>; print $a + $b, \"\\n\";",
};

/** A comment line in the language, to make a source unique without changing what it does. */
export function commentLine(language: string, text: string): string {
  return ["python", "bash", "perl"].includes(language) ? `# ${text}\n` : `// ${text}\n`;
}
