/**
 * The `dfopt` command. Verbs follow Prettier/Ruff habits: dry run prints a
 * diff, --write rewrites, --check gates CI. Exit codes: 0 nothing to do or
 * written, 1 --check found changes, 2 error (usage, unreadable or
 * unparseable input); one bad file never stops the others.
 */
import { Command, CommanderError, Option } from "commander";
import nodePath from "node:path";
import { allPasses, passById } from "../passes/index.js";
import { writeFileAtomic, readStdin } from "./files.js";
import { processFile, processText, type FileOutcome } from "./process.js";
import { changeLines, jsonReport, colorDiff, passTable } from "./report.js";
import { UsageError } from "./select.js";
import type { OptimizeTextOptions } from "./api.js";

export const EXIT_OK = 0;
export const EXIT_CHANGES = 1;
export const EXIT_ERROR = 2;

interface RunFlags {
  write?: boolean;
  check?: boolean;
  stdout?: boolean;
  only?: string[];
  skip?: string[];
  enable?: string[];
  unsafe?: boolean;
  json?: boolean;
  stdinPath: string;
  color?: boolean;
}

const splitIds = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

export function buildProgram(io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; isTTY: boolean }): {
  program: Command;
  exitCode: () => number;
} {
  let exitCode = EXIT_OK;
  const program = new Command("dfopt")
    .description(
      "Optimize Dockerfiles: cache mounts, chained RUNs, builder/runner stages, manifest-first COPY, Alpine→Debian.",
    )
    .version(process.env.npm_package_version ?? "0.1.0")
    .argument("[paths...]", "Dockerfiles to optimize (- reads stdin)")
    .option("-w, --write", "rewrite files in place (atomically)")
    .option("-c, --check", "exit 1 if any file would change, listing them")
    .option("--stdout", "print the rewritten file instead of a diff")
    .option("--only <ids>", "run only these passes (comma-separated)", splitIds)
    .option("--skip <ids>", "do not run these passes (comma-separated)", splitIds)
    .option("--enable <ids>", "also run these opt-in passes (comma-separated)", splitIds)
    .option("--unsafe", "also apply changes marked unsafe")
    .option("--json", "print a machine-readable result")
    .addOption(new Option("--stdin-path <path>", "path to show for stdin in diffs").default("Dockerfile"))
    .option("--no-color", "never colour the diff")
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

  return { program, exitCode: () => exitCode };
}

async function runFiles(
  paths: string[],
  flags: RunFlags,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; isTTY: boolean },
): Promise<number> {
  if (paths.length === 0) throw new UsageError("no Dockerfile given; try `dfopt Dockerfile` or `dfopt --help`");
  const modes = [flags.write, flags.check, flags.stdout].filter(Boolean).length;
  if (modes > 1) throw new UsageError("--write, --check and --stdout are exclusive; pick one");
  if (flags.stdout && paths.length !== 1) throw new UsageError("--stdout prints one file; pass exactly one path");
  const options: OptimizeTextOptions = {
    only: flags.only,
    skip: flags.skip,
    enable: flags.enable,
    unsafe: flags.unsafe ?? false,
  };
  const outcomes: FileOutcome[] = [];
  for (const path of paths) {
    const outcome =
      path === "-"
        ? processText(await readStdin(), flags.stdinPath, options)
        : await processFile(path, displayPath(path), options);
    outcomes.push(outcome);
  }

  let exit = EXIT_OK;
  for (const outcome of outcomes) {
    if (outcome.status === "error") {
      io.stderr.write(`${outcome.path}${outcome.line ? `:${outcome.line}` : ""}: error: ${outcome.message}\n`);
      exit = EXIT_ERROR;
      continue;
    }
    if (!flags.json) io.stderr.write(changeLines(outcome));
    if (flags.stdout) {
      io.stdout.write(outcome.result.output);
    } else if (flags.write && outcome.status === "changed" && outcome.path !== flags.stdinPath) {
      try {
        await writeFileAtomic(outcome.path, outcome.result.output);
      } catch (error) {
        io.stderr.write(`${outcome.path}: error: ${(error as Error).message}\n`);
        exit = EXIT_ERROR;
      }
    } else if (flags.write && outcome.status === "changed") {
      io.stdout.write(outcome.result.output);
    } else if (flags.check) {
      if (outcome.status === "changed") {
        io.stdout.write(`would change: ${outcome.path}\n`);
        if (exit === EXIT_OK) exit = EXIT_CHANGES;
      }
    } else if (!flags.json) {
      io.stdout.write(flags.color !== false && io.isTTY ? colorDiff(outcome.diff) : outcome.diff);
    }
  }
  if (flags.json) io.stdout.write(`${JSON.stringify(jsonReport(outcomes), null, 2)}\n`);
  return exit;
}

/** Paths in diffs and reports: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const relative = nodePath.relative(process.cwd(), file);
  if (relative && !relative.startsWith("..") && !nodePath.isAbsolute(relative)) return relative;
  return file;
}

/** Runs the CLI; returns the exit code instead of exiting (tests call this). */
export async function main(
  argv: string[],
  io = { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stdout.isTTY) },
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
