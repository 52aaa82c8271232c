/**
 * One file through dfopt: read, optimize, diff. Returns an outcome instead
 * of throwing so one bad file never stops a batch.
 */
import { optimizeDockerfile, type OptimizeTextOptions } from "./api.js";
import { DockerfileError } from "./dockerfile.js";
import { unifiedDiff } from "./diff.js";
import { InputError, readDockerfile } from "./files.js";
import type { OptimizeResult } from "./pipeline.js";
import { UsageError } from "./select.js";

export type FileOutcome =
  | {
      readonly path: string;
      readonly status: "unchanged" | "changed";
      readonly result: OptimizeResult;
      readonly diff: string;
    }
  | { readonly path: string; readonly status: "error"; readonly message: string; readonly line: number | null };

export async function processFile(
  path: string,
  displayPath: string,
  options: OptimizeTextOptions,
): Promise<FileOutcome> {
  let text: string;
  try {
    text = await readDockerfile(path);
  } catch (error) {
    return errorOutcome(displayPath, error);
  }
  return processText(text, displayPath, options);
}

export function processText(text: string, displayPath: string, options: OptimizeTextOptions): FileOutcome {
  try {
    const result = optimizeDockerfile(text, options);
    const changed = result.output !== result.input;
    const diff = changed
      ? unifiedDiff(result.input, result.output, { path: displayPath, changes: result.applied })
      : "";
    return { path: displayPath, status: changed ? "changed" : "unchanged", result, diff };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return errorOutcome(displayPath, error);
  }
}

function errorOutcome(path: string, error: unknown): FileOutcome {
  if (error instanceof DockerfileError) return { path, status: "error", message: error.message, line: error.line };
  if (error instanceof InputError) return { path, status: "error", message: error.message, line: null };
  // Anything else is a dfopt bug; say so rather than blaming the file.
  const message = error instanceof Error ? error.message : String(error);
  return { path, status: "error", message: `internal error (please report): ${message}`, line: null };
}
