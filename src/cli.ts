/**
 * The `dfopt` command. Verbs follow Prettier/Ruff habits: dry run prints a
 * diff, --write rewrites, --check gates CI. Exit codes: 0 nothing to do or
 * written, 1 --check found changes, 2 error (usage, unreadable or
 * unparseable input); one bad file never stops the others. 130 when
 * interrupted (every file is then the original or the complete output).
 *
 * Arguments may be files, directories (searched for Dockerfiles, see
 * src/discover.ts) or globs; many files run on a worker pool (src/batch.ts)
 * and end with a summary table. Subcommands are added with
 * `program.addCommand(...)` in `buildProgram`.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import nodePath from "node:path";
import { pathToFileURL } from "node:url";
import type { OptimizeResult } from "./pipeline.js";
import { verifyCommand } from "./verify/command.js";
import { Command, CommanderError, Option } from "commander";
import { allPasses, passById } from "../passes/index.js";
import { Batch, defaultJobs, DEFAULT_TASK_TIMEOUT_MS } from "./batch.js";
import { ConfigError, ConfigResolver, mergeOptions, type CliOverrides } from "./config.js";
import { compare, discover, findRepositoryRoot } from "./discover.js";
import { readStdin, removeTempFiles, stopWrites, writeFileAtomic } from "./files.js";
import { processText, type FileOutcome } from "./process.js";
import { createProgress, shouldShowProgress } from "./progress.js";
import {
  batchReportJson,
  batchReportMarkdown,
  changeLines,
  colorDiff,
  countsOnly,
  fileRecord,
  jsonReport,
  passTable,
  problemLine,
  summaryTable,
  totals,
  type FileRecord,
  type JsonFile,
} from "./report.js";
import { sarifLog } from "./sarif.js";
import { selectPasses, UsageError } from "./select.js";
import type { Task, TaskResult } from "./worker.js";

export const EXIT_OK = 0;
export const EXIT_CHANGES = 1;
export const EXIT_ERROR = 2;
export const EXIT_INTERRUPTED = 130;

export const VERSION = readVersion();

interface RunFlags {
  write?: boolean;
  check?: boolean;
  stdout?: boolean;
  only?: string[];
  skip?: string[];
  enable?: string[];
  unsafe?: boolean;
  json?: boolean;
  format?: "text" | "json" | "sarif";
  report?: string;
  patch?: string;
  root?: string;
  jobs?: number;
  config?: string | false;
  ignore: boolean;
  cacheStrategy?: "mount" | "none";
  debianRelease?: string;
  context?: string;
  progress: boolean;
  quiet?: boolean;
  stdinPath: string;
  color?: boolean;
  timeout?: number;
}

export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stdout is a terminal (coloured diffs). */
  readonly isTTY: boolean;
  /** Whether stderr is a terminal (progress bar); defaults to false. */
  readonly stderrIsTTY?: boolean;
  readonly stderrColumns?: number;
}

const splitIds = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} expects a positive whole number, got "${value}"`);
  return n;
};

export function buildProgram(io: CliIO): { program: Command; exitCode: () => number } {
  let exitCode = EXIT_OK;
  const program = new Command("dfopt")
    .description(
      "Optimize Dockerfiles: cache mounts, chained RUNs, builder/runner stages, manifest-first COPY, Alpine→Debian.",
    )
    .version(VERSION)
    .argument("[paths...]", "Dockerfiles, directories to search for Dockerfiles, or globs (- reads stdin)")
    .option("-w, --write", "rewrite files in place (atomically)")
    .option("-c, --check", "exit 1 if any file would change, listing them")
    .option("--stdout", "print the rewritten file instead of a diff")
    .option("--only <ids>", "run only these passes (comma-separated)", splitIds)
    .option("--skip <ids>", "do not run these passes (comma-separated)", splitIds)
    .option("--enable <ids>", "also run these opt-in passes (comma-separated)", splitIds)
    .option("--unsafe", "also apply changes marked unsafe")
    .option("--no-unsafe", "never apply unsafe changes, even if a config file allows them")
    .option("--json", "print a machine-readable result (same as --format json)")
    .addOption(new Option("--format <format>", "stdout format").choices(["text", "json", "sarif"]))
    .option("--report <file>", "write a per-repository report (.json, .md or .sarif)")
    .option("--patch <file>", "write one combined git-apply-able patch of every change")
    .option(
      "--root <dir>",
      "directory --patch and SARIF paths are relative to (default: the enclosing git repository's top, else the current directory)",
    )
    .option("-j, --jobs <n>", "worker threads for batches (default: the number of CPUs)", positiveInt("--jobs"))
    .option("--config <file>", "use this config file for every Dockerfile instead of searching")
    .option("--no-config", "ignore config files")
    .option("--no-ignore", "don't honour .gitignore / .dfoptignore / config ignore patterns")
    .addOption(new Option("--cache-strategy <strategy>", "cache mounts or no caches").choices(["mount", "none"]))
    .option("--debian-release <name>", "Debian release to target (default: bookworm)")
    .option("--context <dir>", "build context directory (default: each Dockerfile's directory)")
    .option("--no-progress", "never show a progress bar")
    .option("-q, --quiet", "print only errors on stderr (no change lines, no summary)")
    .addOption(new Option("--stdin-path <path>", "path to show for stdin in diffs").default("Dockerfile"))
    .option("--no-color", "never colour the diff")
    .addOption(
      new Option("--timeout <seconds>", "give up on a file after this long (batch workers)")
        .argParser(positiveInt("--timeout"))
        .hideHelp(),
    )
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .action(async (paths: string[], flags: RunFlags) => {
      exitCode = await runFiles(paths, flags, io);
    });

  program
    .command("list")
    .description("list the passes, with whether they run by default")
    .action(() => {
      io.stdout.write(passTable(allPasses));
    });

  program
    .command("explain")
    .description("print a pass's documentation")
    .argument("<pass>", "pass id (see dfopt list)")
    .action((id: string) => {
      const pass = passById(id);
      if (!pass) throw new UsageError(`unknown pass "${id}"; run \`dfopt list\` to see the passes`);
      io.stdout.write(`# ${pass.meta.id}: ${pass.meta.title}\n\n${pass.meta.summary}\n\n${pass.meta.doc.trim()}\n`);
    });

  program.addCommand(
    verifyCommand(io, (code) => {
      exitCode = code;
    }),
  );

  return { program, exitCode: () => exitCode };
}

type Mode = "diff" | "write" | "check" | "stdout";

/**
 * Writes the build-context files passes proposed (e.g. a new .dockerignore),
 * atomically, and only if each still has the content the proposal was
 * computed from: a file edited meanwhile is left alone.
 */
async function writeContextFiles(writes: OptimizeResult["contextFiles"], contextDir: string): Promise<void> {
  for (const write of writes) {
    const target = nodePath.join(contextDir, write.path);
    const current = existsSync(target) ? readFileSync(target, "utf8") : null;
    if (current !== write.oldText) throw new Error(`${target} changed since dfopt read it; not written`);
    await writeFileAtomic(target, write.newText);
  }
}

async function runFiles(paths: string[], flags: RunFlags, io: CliIO): Promise<number> {
  if (paths.length === 0) throw new UsageError("no Dockerfile given; try `dfopt Dockerfile` or `dfopt --help`");
  const modes = [flags.write, flags.check, flags.stdout].filter(Boolean).length;
  if (modes > 1) throw new UsageError("--write, --check and --stdout are exclusive; pick one");
  const mode: Mode = flags.write ? "write" : flags.check ? "check" : flags.stdout ? "stdout" : "diff";
  if (flags.json && flags.format && flags.format !== "json") {
    throw new UsageError(`--json and --format ${flags.format} disagree; pick one`);
  }
  const format = flags.json ? "json" : (flags.format ?? "text");
  const reportKind = flags.report ? reportKindOf(flags.report) : null;
  if (paths.filter((p) => p === "-").length > 1) throw new UsageError("stdin (-) can be given only once");
  // Unknown pass ids are a usage error before any work starts.
  selectPasses(allPasses, { only: flags.only, skip: flags.skip, enable: flags.enable });

  const cwd = process.cwd();
  // Patch and SARIF paths: relative to the repository holding the working
  // directory (git apply, run in a subdirectory, silently skips paths it
  // reads as repository-relative), else to the working directory.
  const repoCache = new Map<string, Promise<string | null>>();
  const root = nodePath.resolve(flags.root ?? (await findRepositoryRoot(cwd, repoCache)) ?? cwd);
  const overrides: CliOverrides = {
    only: flags.only,
    skip: flags.skip,
    enable: flags.enable,
    unsafe: flags.unsafe,
    cacheStrategy: flags.cacheStrategy,
    debianRelease: flags.debianRelease,
  };

  // --- discovery --------------------------------------------------------
  const fileArgs = paths.filter((p) => p !== "-");
  const discovery = await discover(fileArgs, { cwd, useIgnoreFiles: flags.ignore });
  const resolver = new ConfigResolver({
    knownPasses: new Set(allPasses.map((p) => p.meta.id)),
    explicitFile: typeof flags.config === "string" ? flags.config : null,
    disabled: flags.config === false,
  });
  const ignored = discovery.ignored.map((i) => ({ path: displayPath(i.path, cwd), by: displayPath(i.by, cwd) }));
  // Named files that an ignore file excludes get a note; searched ones just count.
  const explicitlyIgnored = new Set(ignored.map((i) => i.path));
  interface Planned {
    readonly display: string;
    readonly repository: string;
    readonly task?: Omit<Task, "id">;
    readonly outcome?: FileOutcome;
  }
  const planned: Planned[] = [];
  const optionsCache = new Map<string, ReturnType<typeof mergeOptions>>();
  for (const file of discovery.files) {
    const display = displayPath(file.path, cwd);
    const repoDir = (await findRepositoryRoot(nodePath.dirname(file.path), repoCache)) ?? file.root;
    const repository = displayPath(repoDir, cwd) || ".";
    let config;
    try {
      config = await resolver.forFile(file.path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      planned.push({
        display,
        repository,
        outcome: { path: display, status: "error", message: `invalid configuration: ${error.message}`, line: null },
      });
      continue;
    }
    if (flags.ignore && config.isIgnored(file.path)) {
      ignored.push({ path: display, by: displayPath(config.file!, cwd) });
      if (file.explicit) explicitlyIgnored.add(display);
      continue;
    }
    const key = config.file ?? "";
    let options = optionsCache.get(key);
    if (!options) optionsCache.set(key, (options = mergeOptions(config.config, overrides)));
    planned.push({
      display,
      repository,
      task: {
        path: file.path,
        display,
        options,
        explicit: file.explicit,
        ...(flags.context ? { contextDir: nodePath.resolve(flags.context) } : {}),
        patchPath: flags.patch ? patchPathOf(file.path, root) : null,
      },
    });
  }
  planned.sort((a, b) => compare(a.display, b.display));

  const hasStdin = paths.includes("-");
  // A batch: several files, or files found by searching a directory or glob. It ends with a summary.
  const isBatch = planned.length + (hasStdin ? 1 : 0) > 1 || discovery.files.some((f) => !f.explicit);
  if (mode === "stdout" && planned.length + (hasStdin ? 1 : 0) + discovery.problems.length !== 1) {
    throw new UsageError("--stdout prints one file; pass exactly one path");
  }

  // --- output plumbing ---------------------------------------------------
  const total = planned.length + (hasStdin ? 1 : 0);
  const progress = createProgress(
    { stream: io.stderr, isTTY: Boolean(io.stderrIsTTY), columns: io.stderrColumns },
    total,
    flags.progress && !flags.quiet && shouldShowProgress({ stream: io.stderr, isTTY: Boolean(io.stderrIsTTY) }, total),
  );
  const out = (text: string) => progress.log(io.stdout, text);
  const err = (text: string) => progress.log(io.stderr, text);
  const color = flags.color !== false && io.isTTY;

  for (const p of discovery.problems) err(`${p.arg}: error: ${p.message}\n`);
  if (!flags.quiet) {
    for (const i of ignored) {
      if (explicitlyIgnored.has(i.path)) err(`${i.path}: ignored (by ${i.by}); use --no-ignore to process it\n`);
    }
  }

  let interrupted = false;
  const records: FileRecord[] = [];
  const jsonFiles: JsonFile[] = [];
  const patches: string[] = [];
  const writes = new WriteQueue(16);
  let patchOutside = 0;

  // Reports and SARIF need every reason; the summary only counts.
  const keepReasons = Boolean(flags.report) || format === "sarif";
  const record = (outcome: FileOutcome, repository: string, writeError?: string) => {
    const full = fileRecord(outcome, repository, writeError);
    return keepReasons ? full : countsOnly(full);
  };
  const handle = (outcome: FileOutcome, repository: string, index: number, isStdin = false) => {
    progress.tick(outcome.status);
    records[index] = record(outcome, repository);
    if (format === "json") jsonFiles[index] = jsonReport([outcome]).files[0]!;
    if (outcome.status === "error" || outcome.status === "skipped") {
      err(problemLine(outcome));
      return;
    }
    if (format === "text" && !flags.quiet) err(changeLines(outcome));
    if (outcome.status === "changed" && flags.patch) {
      const diff = outcome.patchDiff ?? outcome.diff;
      if (diff.startsWith("diff --git a/../") || diff.startsWith("diff --git a//")) patchOutside++;
      else patches[index] = diff;
    }
    if (mode === "stdout") {
      out(outcome.result.output);
    } else if (mode === "write" && outcome.status === "changed") {
      if (isStdin) {
        out(outcome.result.output); // stdin: the rewritten text goes to stdout
      } else {
        const task = planned[index]!.task!;
        const output = outcome.result.output;
        writes.add(async () => {
          if (interrupted) return; // not started: the file stays as it was
          try {
            await writeFileAtomic(task.path, output);
            await writeContextFiles(outcome.result.contextFiles, task.contextDir ?? nodePath.dirname(task.path));
          } catch (error) {
            err(`${outcome.path}: error: ${(error as Error).message}\n`);
            records[index] = record(outcome, repository, (error as Error).message);
          }
        });
      }
    } else if (mode === "check") {
      if (outcome.status === "changed") out(`would change: ${outcome.path}\n`);
    } else if (mode === "diff" && format === "text") {
      out(color ? colorDiff(outcome.diff) : outcome.diff);
    }
  };

  // --- run ---------------------------------------------------------------
  const started = performance.now();
  const tasks: Task[] = [];
  const taskIndex: number[] = [];
  planned.forEach((p, index) => {
    if (p.task) {
      taskIndex.push(index);
      tasks.push({ ...p.task, id: tasks.length });
    }
  });
  // Files that need no work (config errors) are emitted in order between task results.
  let nextPlanned = 0;
  const flushUntil = (index: number) => {
    while (nextPlanned < index) {
      const p = planned[nextPlanned]!;
      if (p.outcome) handle(p.outcome, p.repository, nextPlanned);
      nextPlanned++;
    }
  };

  const batch = new Batch(tasks, {
    jobs: flags.jobs ?? defaultJobs(),
    taskTimeoutMs: (flags.timeout ?? DEFAULT_TASK_TIMEOUT_MS / 1000) * 1000,
    onWarning: (message) => err(`dfopt: warning: ${message}\n`),
    onResult: (result: TaskResult) => {
      if (interrupted) return;
      const index = taskIndex[result.id]!;
      flushUntil(index);
      handle(result.outcome, planned[index]!.repository, index);
      nextPlanned = index + 1;
    },
  });
  const onSignal = () => {
    if (interrupted) {
      // Second Ctrl-C: leave now; only complete renames have touched any file.
      removeTempFiles();
      process.exit(EXIT_INTERRUPTED);
    }
    interrupted = true;
    batch.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await batch.run();
    if (!interrupted) {
      flushUntil(planned.length);
      if (hasStdin) {
        const text = await readStdin();
        handle(processText(text, flags.stdinPath, mergeOptions({}, overrides)), ".", planned.length, true);
      }
      await writes.drain();
    }
    if (interrupted) {
      // Queued writes never start; those in flight finish (rename or cleanup).
      await stopWrites();
      progress.stop();
      const done = records.filter(Boolean).length;
      io.stderr.write(
        `dfopt: interrupted after ${done} of ${total} files; every file is either untouched or completely rewritten\n`,
      );
      return EXIT_INTERRUPTED;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;

  // --- reports -----------------------------------------------------------
  const allRecords = records.filter(Boolean);
  const passIds = allPasses.map((p) => p.meta.id);
  const reportInput = {
    version: VERSION,
    mode: mode === "stdout" ? ("diff" as const) : mode,
    records: allRecords,
    passIds,
    problems: discovery.problems,
    ignored,
  };
  const sarif = () =>
    sarifLog({
      version: VERSION,
      passes: allPasses,
      records: allRecords,
      uriOf: (display) => patchPathOf(nodePath.resolve(cwd, display), root) ?? display,
      rootUri: pathToFileURL(root + nodePath.sep).href,
    });
  let reportError = false;
  if (flags.patch) {
    if (patchOutside > 0) {
      err(
        `dfopt: ${patchOutside} changed file(s) are outside --root ${displayPath(root, cwd) || "."} and are not in the patch\n`,
      );
      reportError = true;
    }
    reportError = !(await writeOutput(flags.patch, patches.filter(Boolean).join(""), io)) || reportError;
  }
  if (flags.report && reportKind) {
    const text =
      reportKind === "json"
        ? `${JSON.stringify(batchReportJson(reportInput), null, 2)}\n`
        : reportKind === "md"
          ? batchReportMarkdown(reportInput)
          : `${JSON.stringify(sarif(), null, 2)}\n`;
    reportError = !(await writeOutput(flags.report, text, io)) || reportError;
  }
  if (format === "json") {
    const t = totals(allRecords);
    const summary = {
      files: t.files,
      changed: t.changed,
      unchanged: t.unchanged,
      skipped: t.skipped,
      errors: t.errors,
    };
    io.stdout.write(`${JSON.stringify({ files: jsonFiles.filter(Boolean), summary }, null, 2)}\n`);
  } else if (format === "sarif") {
    io.stdout.write(`${JSON.stringify(sarif(), null, 2)}\n`);
  }
  const t = totals(allRecords, passIds);
  if (isBatch && !flags.quiet) {
    io.stderr.write(
      summaryTable(t, seconds, {
        ignored: ignored.length,
        mode: mode === "stdout" ? "diff" : mode === "diff" ? "dry run" : mode,
      }),
    );
  }
  if (mode === "check" && t.changed > 0 && !flags.quiet) {
    io.stderr.write(`dfopt: ${t.changed} file${t.changed === 1 ? "" : "s"} would change; run with --write to fix\n`);
  }
  if (t.errors > 0 || discovery.problems.length > 0 || reportError) return EXIT_ERROR;
  if (mode === "check" && t.changed > 0) return EXIT_CHANGES;
  return EXIT_OK;
}

function reportKindOf(file: string): "json" | "md" | "sarif" {
  const ext = nodePath.extname(file).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".md" || ext === ".markdown") return "md";
  if (ext === ".sarif") return "sarif";
  throw new UsageError(`--report ${file}: use a .json, .md or .sarif file name to choose the format`);
}

/** Path relative to the patch root, forward slashes; "../…" when outside it. */
function patchPathOf(file: string, root: string): string {
  return nodePath.relative(root, file).split(nodePath.sep).join("/");
}

async function writeOutput(file: string, text: string, io: CliIO): Promise<boolean> {
  try {
    await mkdir(nodePath.dirname(nodePath.resolve(file)), { recursive: true });
    await writeFileAtomic(nodePath.resolve(file), text);
    return true;
  } catch (error) {
    io.stderr.write(`${file}: error: ${(error as Error).message}\n`);
    return false;
  }
}

/** Runs async jobs with at most `limit` at a time (writes overlap their fsyncs). */
class WriteQueue {
  private running = 0;
  private readonly queue: (() => Promise<void>)[] = [];
  private idle: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  add(job: () => Promise<void>): void {
    this.queue.push(job);
    this.pump();
  }

  drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.limit && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) {
          for (const resolve of this.idle.splice(0)) resolve();
        }
      });
    }
  }
}

/** Paths in diffs and reports: relative to the working directory when inside it. */
function displayPath(file: string, cwd = process.cwd()): string {
  const relative = nodePath.relative(cwd, file);
  if (relative === "") return "";
  if (!relative.startsWith("..") && !nodePath.isAbsolute(relative)) return relative;
  return file;
}

function readVersion(): string {
  for (const rel of ["../../package.json", "../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "dfopt" && pkg.version) return pkg.version;
    } catch {
      // try the next layout (dist/src or src)
    }
  }
  return "0.0.0";
}

/** Runs the CLI; returns the exit code instead of exiting (tests call this). */
export async function main(
  argv: string[],
  io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stderrColumns: process.stderr.columns,
  },
): Promise<number> {
  const { program, exitCode } = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; commander already printed the message.
      return error.exitCode === 0 ? EXIT_OK : EXIT_ERROR;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`dfopt: ${error.message}\n`);
      return EXIT_ERROR;
    }
    throw error;
  }
}
