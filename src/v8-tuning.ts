/**
 * V8 tuning for the dfopt command line. bin/dfopt.js imports this module
 * before the CLI, so it runs before any dfopt function is compiled; worker
 * threads started later share the process's flags. The library entry point
 * (src/api.ts) leaves the embedding program's V8 alone.
 *
 * The interrupt budget is how much bytecode a function runs before V8
 * considers optimizing it with TurboFan. Its default suits long-running
 * programs; a dfopt batch is a few seconds of ~20 passes, each seeing
 * varied shapes, so at the default V8 kept recompiling (and deoptimizing)
 * functions that were about to go cold, and on 2 cores the compiler threads
 * of two workers took the CPU the workers needed. Measured over the 2,352
 * corpus files on 2 cores (whole-corpus CLI wall time, interleaved runs):
 * default 7.5 s with one thread, 8.1 s with two workers; with a budget of
 * 1,000,000, 7.7 s and 6.0 s (CPU time 11.2 s → 10.9 s for twice the
 * parallelism). 300,000 gave 6.1–6.4 s, 3,000,000 the same as 1,000,000.
 * `npm run bench` measures dfopt with this tuning, as the CLI runs it.
 */
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";

const INTERRUPT_BUDGET = 1_000_000;

// With one CPU a batch runs in one thread (src/batch.ts defaultJobs), where
// the default budget was ~4 % faster: the budget only pays when workers
// share the cores.
if (availableParallelism() > 1) setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
