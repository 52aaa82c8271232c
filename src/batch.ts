/**
 * Runs a batch of tasks on a pool of worker threads (or in-process for small
 * batches) and hands the results back in task order, whatever order the
 * workers finish in, so output and reports are stable.
 *
 * Failure handling: a worker that dies (uncaught error, exit, out of memory)
 * or takes longer than the per-file timeout costs only the file it was on:
 * that file gets an error outcome, the worker is replaced and the batch goes
 * on. Each worker has at most two tasks in flight (so it never idles waiting
 * for the next message); it runs them in order, so the oldest in flight is
 * the one it died on and the other is simply sent again.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { runTask, type Task, type TaskResult, type WorkerData } from "./worker.js";

/** Below this many files, worker start-up (~150 ms each) costs more than it saves. */
export const IN_PROCESS_BELOW = 8;
export const DEFAULT_TASK_TIMEOUT_MS = 120_000;
const IN_FLIGHT_PER_WORKER = 2;

export interface BatchOptions {
  /** Worker threads; default: the number of CPUs. 1 or a small batch runs in-process. */
  readonly jobs?: number;
  /** Called once per task, in task id order (ids are 0..n-1). */
  readonly onResult: (result: TaskResult) => void;
  /** A file taking longer than this kills its worker and is reported as an error. */
  readonly taskTimeoutMs?: number;
  /** The worker module (tests point it at the built file). */
  readonly workerUrl?: URL;
  /** Told when the pool degrades (workers could not start: the rest runs in-process). */
  readonly onWarning?: (message: string) => void;
}

/**
 * One worker per CPU. On 2 cores this pays only with the CLI's V8 tuning
 * (src/v8-tuning.ts): without it a single thread already kept ~1.5 cores
 * busy compiling, and two workers were slower than one (8.1 s vs 7.5 s over
 * the corpus); with it two workers take 6.0 s.
 */
export function defaultJobs(): number {
  return availableParallelism();
}

export function usesWorkers(taskCount: number, jobs: number): boolean {
  return jobs > 1 && taskCount >= IN_PROCESS_BELOW;
}

export class Batch {
  private aborted = false;
  private readonly emitter: OrderedEmitter;
  /** Called on abort: lets idle workers go and the others finish their current file. */
  private onAbort: (() => void) | null = null;

  constructor(
    private readonly tasks: readonly Task[],
    private readonly options: BatchOptions,
  ) {
    this.emitter = new OrderedEmitter(options.onResult);
  }

  /** Resolves when every task has a result, or after abort() once the workers are gone. */
  run(): Promise<void> {
    const jobs = this.options.jobs ?? defaultJobs();
    if (!usesWorkers(this.tasks.length, jobs)) return this.runInProcess();
    return this.runOnWorkers(Math.min(jobs, this.tasks.length));
  }

  /**
   * Stops dispatching. Workers busy on a file finish it first: terminating a
   * thread while it is inside the native shell parser aborts the whole
   * process (node-addon-api turns the termination into an uncaught C++
   * exception), which would skip the main thread's write cleanup.
   */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.onAbort?.();
  }

  private async runInProcess(): Promise<void> {
    for (const task of this.tasks) {
      if (this.aborted) return;
      this.emitter.push(await runTask(task));
      // An event-loop turn between files: Ctrl-C gets handled, and tree-sitter
      // frees native parse trees (its finalizers only run on a turn).
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private runOnWorkers(size: number): Promise<void> {
    const pending = [...this.tasks].reverse(); // pop() takes the lowest id first
    const timeoutMs = this.options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    const workerUrl = this.options.workerUrl ?? new URL("./worker.js", import.meta.url);
    let remaining = this.tasks.length;

    interface Slot {
      readonly worker: Worker;
      readonly inFlight: Task[];
      timer: NodeJS.Timeout | null;
      lastError: Error | null;
      /** Given up on (died, timed out) or being shut down: no more tasks. */
      retired: boolean;
      /** The worker loaded its modules and said so. */
      ready: boolean;
    }
    const slots = new Set<Slot>();
    /** Workers could not start: files are processed in this thread instead. */
    let fallback = false;
    let runningHere = false;

    return new Promise<void>((resolve) => {
      // Whenever no worker is left and files are still pending (workers that
      // could not start handed theirs back), they run here: never wait on nobody.
      const settleIfIdle = () => {
        if (slots.size > 0 || runningHere) return;
        if (!this.aborted && remaining > 0 && pending.length > 0) void runHere();
        else resolve();
      };
      const release = (slot: Slot) => {
        if (slot.timer) clearTimeout(slot.timer);
        slot.retired = true;
        void slot.worker.terminate();
      };
      const done = (result: TaskResult) => {
        if (this.aborted) return;
        this.emitter.push(result);
        remaining--;
        if (remaining === 0) {
          for (const slot of slots) release(slot);
          settleIfIdle();
        }
      };
      // Workers that can't even load (say, dist/ rebuilt under our feet) are
      // not the files' fault: the rest runs here, with the modules this
      // thread already loaded.
      const runHere = async () => {
        runningHere = true;
        while (!this.aborted && pending.length > 0) {
          done(await runTask(pending.pop()!));
          await new Promise((resolve) => setImmediate(resolve));
        }
        runningHere = false;
        settleIfIdle();
      };
      this.onAbort = () => {
        pending.length = 0;
        for (const slot of slots) if (slot.inFlight.length === 0) release(slot);
      };

      const spawn = () => {
        if (this.aborted || pending.length === 0 || fallback) return;
        const data: WorkerData = { dfoptWorker: true };
        const slot: Slot = {
          worker: new Worker(workerUrl, { workerData: data, ...WORKER_LIMITS }),
          inFlight: [],
          timer: null,
          lastError: null,
          retired: false,
          ready: false,
        };
        slots.add(slot);
        const { worker, inFlight } = slot;

        const armTimer = () => {
          if (slot.timer) clearTimeout(slot.timer);
          slot.timer = inFlight.length > 0 ? setTimeout(onTimeout, timeoutMs) : null;
        };
        const feed = () => {
          while (!this.aborted && inFlight.length < IN_FLIGHT_PER_WORKER && pending.length > 0) {
            const task = pending.pop()!;
            inFlight.push(task);
            worker.postMessage(task);
          }
          if (inFlight.length > 0 && slot.timer === null) armTimer();
        };
        // The worker is gone or stuck: blame the oldest task, requeue the rest, replace the worker.
        const giveUp = (why: string) => {
          if (slot.retired) return;
          release(slot);
          const culprit = inFlight.shift();
          for (const t of inFlight.reverse()) pending.push(t);
          inFlight.length = 0;
          if (culprit) {
            done({
              id: culprit.id,
              ms: 0,
              outcome: {
                path: culprit.display,
                status: "error",
                message: `internal error (please report): ${why}; the other files were processed`,
                line: null,
              },
            });
          }
          if (remaining > 0) spawn();
        };
        const onTimeout = () =>
          giveUp(`processing this file took longer than ${Math.round(timeoutMs / 1000)} s, so it was stopped`);

        worker.on("message", (result: TaskResult | { ready: true }) => {
          if ("ready" in result) {
            slot.ready = true;
            return;
          }
          if (slot.retired) return; // a late answer from a worker already given up on
          const index = inFlight.findIndex((t) => t.id === result.id);
          if (index >= 0) inFlight.splice(index, 1);
          armTimer();
          done(result);
          if (this.aborted) {
            if (inFlight.length === 0) release(slot);
            return;
          }
          feed();
        });
        worker.on("error", (error: unknown) => {
          slot.lastError = error instanceof Error ? error : new Error(String(error));
        });
        worker.on("exit", (code) => {
          slots.delete(slot);
          if (!slot.ready && !slot.retired && !this.aborted) {
            if (slot.timer) clearTimeout(slot.timer);
            for (const t of inFlight.reverse()) pending.push(t);
            inFlight.length = 0;
            if (!fallback) {
              fallback = true;
              this.options.onWarning?.(
                `worker threads could not start (${slot.lastError?.message ?? `exit code ${code}`}); ` +
                  "processing the remaining files in the main thread",
              );
            }
            if (!runningHere) void runHere();
            return;
          }
          if (!slot.retired && !this.aborted && inFlight.length > 0) {
            giveUp(
              `a worker thread died while processing this file (${slot.lastError?.message ?? `exit code ${code}`})`,
            );
          } else if (slot.timer) {
            clearTimeout(slot.timer);
          }
          settleIfIdle();
        });
        feed();
      };

      for (let i = 0; i < size; i++) spawn();
    });
  }
}

/** Re-orders results by task id: emits id n only after 0..n-1. */
export class OrderedEmitter {
  private next = 0;
  private readonly waiting = new Map<number, TaskResult>();

  constructor(private readonly emit: (result: TaskResult) => void) {}

  push(result: TaskResult): void {
    this.waiting.set(result.id, result);
    while (this.waiting.has(this.next)) {
      const r = this.waiting.get(this.next)!;
      this.waiting.delete(this.next);
      this.next++;
      this.emit(r);
    }
  }
}

/**
 * Worker heaps: a capped young generation and old generation keep the pool's
 * peak RSS near 230 MB over the 2,352-file corpus (~330 MB uncapped), at no
 * measurable speed cost. A file that would need more than this (a
 * pathological multi-megabyte Dockerfile) kills only its worker and is
 * reported as an error, instead of growing the whole process.
 */
const WORKER_LIMITS = { resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32 } };
