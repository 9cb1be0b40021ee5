// The table of a seed's stages, in order. Each is a function with a zod-validated result
// (recorded in state.json, parsed again on resume); adding a stage is adding a line here.
import { btStage } from "./bt.ts";
import type { Stage } from "./context.ts";
import { genrmStage } from "./genrm.ts";
import { comparisonStages, ladderStages } from "./ppo.ts";
import { referencesStage } from "./references.ts";
import { rewardFilesStage } from "./reward-files.ts";
import { samplesStage } from "./samples.ts";
import { selectStage } from "./select.ts";
import { sensitivityStage } from "./sensitivity.ts";
import { sftStage } from "./sft.ts";
import { worldStage } from "./world.ts";

export const STAGES: readonly Stage<unknown>[] = [
  worldStage,
  sftStage,
  samplesStage,
  rewardFilesStage,
  btStage,
  referencesStage,
  genrmStage,
  sensitivityStage,
  selectStage,
  ...ladderStages,
  ...comparisonStages,
] as Stage<unknown>[];

export {
  btStage,
  comparisonStages,
  genrmStage,
  ladderStages,
  referencesStage,
  rewardFilesStage,
  samplesStage,
  selectStage,
  sensitivityStage,
  sftStage,
  worldStage,
};
