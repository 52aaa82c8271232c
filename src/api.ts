/**
 * The library entry point: optimize one Dockerfile's text. The CLI, the batch
 * runner, `dfopt verify` and the benchmarks all go through here.
 */
import { allPasses } from "../passes/index.js";
import { optimize, type OptimizeResult } from "./pipeline.js";
import { selectPasses, type PassSelection } from "./select.js";
import { defaultPassOptions, type PassOptions } from "./types.js";

export interface OptimizeTextOptions extends PassSelection {
  readonly unsafe?: boolean;
  readonly passOptions?: Partial<Omit<PassOptions, "enabledPasses">>;
}

/** Throws DockerfileError for input dfopt can't handle, UsageError for unknown pass ids. */
export function optimizeDockerfile(text: string, options: OptimizeTextOptions = {}): OptimizeResult {
  const passes = selectPasses(allPasses, options);
  const passOptions: PassOptions = {
    ...defaultPassOptions,
    ...options.passOptions,
    enabledPasses: new Set(passes.map((p) => p.meta.id)),
  };
  return optimize(text, { passes, passOptions, unsafe: options.unsafe ?? false });
}

export { DockerfileError } from "./dockerfile.js";
export { UsageError } from "./select.js";
export type { OptimizeResult } from "./pipeline.js";
