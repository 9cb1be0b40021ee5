// The code verifier family (domain `code`).

export { CompareOptions, outputsMatch, valuesMatch } from "./compare.ts";
export { extractSolution, fencedBlocks } from "./extract.ts";
export {
  CodeReference,
  CodeVerifier,
  type CodeVerifierOptions,
  createCodeVerifier,
  SOURCE,
  type TestVerdict,
} from "./verifier.ts";
