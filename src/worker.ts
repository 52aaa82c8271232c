/**
 * One unit of batch work (read + optimize + diff one Dockerfile) and the
 * worker-thread loop that runs it. Workers never write files: they send the
 * outcome back and the main thread writes, so an interrupted batch only has
 * to wait for the main thread's writes (src/files.ts stopWrites).
 *
 * The same `runTask` runs in-process for small batches, where starting
 * workers would cost more than it saves.
 */
import path from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { OptimizeTextOptions } from "./api.js";
import { errorOutcome, processFile, type FileOutcome } from "./process.js";

export interface Task {
  /** Position in the sorted batch; results are emitted in this order. */
  readonly id: number;
  /** Absolute path to read. */
  readonly path: string;
  /** Path shown in diffs, messages and reports. */
  readonly display: string;
  readonly options: OptimizeTextOptions;
  readonly explicit: boolean;
  /** Build context root; undefined: the Dockerfile's directory. */
  readonly contextDir?: string;
  /** Path for the combined patch when it differs from `display`. */
  readonly patchPath: string | null;
}

export interface TaskResult {
  readonly id: number;
  readonly outcome: FileOutcome;
  /** Wall time spent on this file, in milliseconds. */
  readonly ms: number;
}

export async function runTask(task: Task): Promise<TaskResult> {
  const start = performance.now();
  testHooks(task);
  let outcome: FileOutcome;
  try {
    outcome = await processFile(task.path, task.display, task.options, {
      explicit: task.explicit,
      contextDir: task.contextDir,
      patchPath: task.patchPath,
    });
  } catch (error) {
    outcome = errorOutcome(task.display, error);
  }
  return { id: task.id, outcome, ms: performance.now() - start };
}

/**
 * Fault injection for the robustness tests (a worker that dies, a file that
 * hangs): inert unless these variables are set.
 */
function testHooks(task: Task): void {
  const name = path.basename(task.path);
  if (!isMainThread && process.env.DFOPT_TEST_CRASH_FILE === name) process.exit(70);
  if (process.env.DFOPT_TEST_HANG_FILE === name) {
    const until = Date.now() + 600_000;
    while (Date.now() < until) {
      // spin: stands for a pass stuck in a loop
    }
  }
}

export interface WorkerData {
  readonly dfoptWorker: true;
}

const data = workerData as Partial<WorkerData> | null;
if (!isMainThread && parentPort && data?.dfoptWorker === true) {
  const port = parentPort;
  // One task at a time, in arrival order: the main thread keeps up to two in
  // flight per worker and blames the oldest if the worker dies.
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (task: Task) => {
    queue = queue.then(async () => {
      port.postMessage(await runTask(task));
    });
  });
  // Modules loaded: from here on a death is blamed on the file being processed.
  port.postMessage({ ready: true });
}
