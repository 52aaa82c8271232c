import nodePath from "node:path";
/**
 * One file through dfopt: read, optimize, diff. Returns an outcome instead
 * of throwing so one bad file never stops a batch. Runs in the CLI's process
 * or in a worker thread (src/worker.ts); outcomes are plain data so they
 * cross the thread boundary by structured clone.
 */
import { optimizeDockerfile, type OptimizeTextOptions } from "./api.js";
import { buildContextFor } from "./context.js";
import { DockerfileError } from "./dockerfile.js";
import { contextFileDiff, unifiedDiff } from "./diff.js";
import { InputError, readDockerfileSync } from "./files.js";
import type { OptimizeResult } from "./pipeline.js";
import { UsageError } from "./select.js";

export type FileOutcome =
  | {
      readonly path: string;
      readonly status: "unchanged" | "changed";
      readonly result: OptimizeResult;
      readonly diff: string;
      /** The same diff with paths relative to the patch root, when that differs from `path`. */
      readonly patchDiff?: string;
    }
  /** Found by a walk but not a Dockerfile dfopt should read (over 1 MB, binary, not UTF-8). */
  | { readonly path: string; readonly status: "skipped"; readonly message: string }
  | { readonly path: string; readonly status: "error"; readonly message: string; readonly line: number | null };

export interface ProcessFileOptions {
  /** Named by the user (default): unreadable or odd inputs are errors, not skips. */
  readonly explicit?: boolean;
  /** Build context root (default: the Dockerfile's directory); null: no build context. */
  readonly contextDir?: string | null;
  /** Path for the combined patch (relative to --root), when it differs from the display path. */
  readonly patchPath?: string | null;
}

export async function processFile(
  path: string,
  displayPath: string,
  options: OptimizeTextOptions,
  fileOptions: ProcessFileOptions = {},
): Promise<FileOutcome> {
  let text: string;
  try {
    text = readDockerfileSync(path);
  } catch (error) {
    if (
      fileOptions.explicit === false &&
      error instanceof InputError &&
      (error.problem === "too-large" || error.problem === "binary" || error.problem === "encoding")
    ) {
      return { path: displayPath, status: "skipped", message: error.message };
    }
    return errorOutcome(displayPath, error);
  }
  const withContext: OptimizeTextOptions =
    fileOptions.contextDir === null
      ? options
      : {
          ...options,
          passOptions: { ...options.passOptions, buildContext: buildContextFor(path, fileOptions.contextDir) },
        };
  const outcome = processText(text, displayPath, withContext, fileOptions.patchPath ?? null);
  return withContextFiles(
    outcome,
    contextDisplayDir(displayPath, fileOptions.contextDir),
    fileOptions.patchPath ?? null,
  );
}

/** Where the build context is, in display terms (relative to the working directory when inside it). */
function contextDisplayDir(displayPath: string, contextDir: string | null | undefined): string {
  if (!contextDir) return nodePath.dirname(displayPath);
  const relative = nodePath.relative(process.cwd(), contextDir);
  return relative && !relative.startsWith("..") && !nodePath.isAbsolute(relative) ? relative : contextDir;
}

/**
 * Files a pass proposes in the build context (e.g. a new .dockerignore):
 * their diffs follow the Dockerfile's, and they count as a change for
 * --check and --write. `contextDir` is where they go, in display terms.
 */
export function withContextFiles(outcome: FileOutcome, contextDir: string, patchPath: string | null): FileOutcome {
  if (outcome.status !== "changed" && outcome.status !== "unchanged") return outcome;
  // Several Dockerfiles often share one directory (Dockerfile, Dockerfile.dev…);
  // the context's files are proposed once, for the one Docker uses by default.
  if (!/^(Dockerfile|Containerfile)$/.test(nodePath.basename(outcome.path))) return outcome;
  const writes = outcome.result.contextFiles;
  if (writes.length === 0) return outcome;
  const diffs = writes
    .map((w) => contextFileDiff(w.oldText, w.newText, nodePath.join(contextDir, w.path), w.pass))
    .join("");
  const patchDir = patchPath === null ? null : nodePath.dirname(patchPath);
  const patchDiffs =
    patchDir === null
      ? diffs
      : writes.map((w) => contextFileDiff(w.oldText, w.newText, nodePath.join(patchDir, w.path), w.pass)).join("");
  return {
    ...outcome,
    status: "changed",
    diff: outcome.diff + diffs,
    ...(outcome.patchDiff !== undefined || patchDir !== null
      ? { patchDiff: (outcome.patchDiff ?? outcome.diff) + patchDiffs }
      : {}),
  };
}

export function processText(
  text: string,
  displayPath: string,
  options: OptimizeTextOptions,
  patchPath: string | null = null,
): FileOutcome {
  try {
    const result = optimizeDockerfile(text, options);
    const changed = result.output !== result.input;
    const diff = changed
      ? unifiedDiff(result.input, result.output, { path: displayPath, changes: result.applied })
      : "";
    const base = { path: displayPath, status: changed ? ("changed" as const) : ("unchanged" as const), result, diff };
    if (changed && patchPath !== null && patchPath !== displayPath) {
      return {
        ...base,
        patchDiff: unifiedDiff(result.input, result.output, { path: patchPath, changes: result.applied }),
      };
    }
    return base;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return errorOutcome(displayPath, error);
  }
}

export function errorOutcome(path: string, error: unknown): FileOutcome {
  if (error instanceof DockerfileError) return { path, status: "error", message: error.message, line: error.line };
  if (error instanceof InputError) return { path, status: "error", message: error.message, line: null };
  // Anything else is a dfopt bug; say so rather than blaming the file.
  const message = error instanceof Error ? error.message : String(error);
  return { path, status: "error", message: `internal error (please report): ${message}`, line: null };
}
