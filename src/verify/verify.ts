/**
 * `dfopt verify`: build the original and the optimized Dockerfile for real
 * and compare what matters: does it build, how big, how many layers, how
 * long cold and after a source edit, which files differ, and does the smoke
 * command still pass.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { optimizeDockerfile, type OptimizeTextOptions } from "../api.js";
import { buildContextFor } from "../context.js";
import { parseDockerfile } from "../dockerfile.js";
import { docker, imageFacts, imagePaths, removeImage, requireDocker } from "./docker.js";

export interface VerifyOptions {
  readonly dockerfile: string;
  /** Build context; defaults to the Dockerfile's directory. */
  readonly context?: string;
  /** Shell command run in each final image (`sh -c`); its success is compared. */
  readonly smoke?: string;
  /** File (relative to the context) edited to measure a warm rebuild. */
  readonly touch?: string;
  /** Optimizer options (passes, --unsafe…). */
  readonly optimize?: OptimizeTextOptions;
  /** Use this text as the optimized Dockerfile instead of running dfopt. */
  readonly optimizedText?: string;
  /** Skip building the original (e.g. an Alpine base that can't be pulled here). */
  readonly skipOriginal?: boolean;
  readonly keepImages?: boolean;
  /** Called with progress lines ("building original (cold)…"). */
  readonly log?: (line: string) => void;
}

export interface VariantReport {
  readonly built: boolean;
  readonly error?: string;
  readonly coldSeconds?: number;
  readonly warmSeconds?: number;
  readonly sizeBytes?: number;
  readonly layers?: number;
  readonly smoke: "pass" | "fail" | "not-run";
  readonly smokeOutput?: string;
}

export interface VerifyReport {
  readonly dockerfile: string;
  readonly context: string;
  readonly engine: string;
  readonly touched: string | null;
  readonly changes: number;
  readonly original: VariantReport | null;
  readonly optimized: VariantReport;
  readonly fileTree: { readonly added: readonly string[]; readonly removed: readonly string[] } | null;
  /** Why the file can't be built on this engine, when that's the case. */
  readonly unsupported?: string;
}

/** Paths that legitimately differ between builds: caches, logs, bytecode. */
const VOLATILE = [
  /^\/(proc|sys|dev|tmp|run)(\/|$)/,
  /^\/root\/\.cache(\/|$)/,
  /^\/home\/[^/]+\/\.cache(\/|$)/,
  /^\/var\/cache(\/|$)/,
  /^\/var\/lib\/apt\/lists(\/|$)/,
  /^\/var\/log(\/|$)/,
  /(^|\/)__pycache__(\/|$)/,
  /\.pyc$/,
  /^\/etc\/apt\/apt\.conf\.d\/(docker-clean|keep-cache)$/,
];

export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  const log = options.log ?? (() => undefined);
  const { serverVersion } = await requireDocker();
  const dockerfile = path.resolve(options.dockerfile);
  const context = path.resolve(options.context ?? path.dirname(dockerfile));
  const originalText = readFileSync(dockerfile, "utf8");
  // The passes see the build context, as they do from the CLI.
  const optimizeOptions = withContext(options.optimize, dockerfile, context);
  const result = options.optimizedText === undefined ? optimizeDockerfile(originalText, optimizeOptions) : null;
  const optimizedText = options.optimizedText ?? result!.output;
  const changes = result ? result.applied.length : 0;

  const unsupported =
    unsupportedOnEngine(originalText, serverVersion) ?? unsupportedOnEngine(optimizedText, serverVersion);
  const touched = options.touch ?? pickSourceFile(context);
  const base = {
    dockerfile,
    context,
    engine: serverVersion,
    touched,
    changes,
  };
  if (unsupported) {
    const notBuilt: VariantReport = { built: false, error: unsupported, smoke: "not-run" };
    return { ...base, original: notBuilt, optimized: notBuilt, fileTree: null, unsupported };
  }

  const work = mkdtempSync(path.join(tmpdir(), "dfopt-verify-"));
  const id = `${path
    .basename(context)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "-")}-${process.pid}`;
  const tags = { original: `dfopt-verify/${id}:original`, optimized: `dfopt-verify/${id}:optimized` };
  try {
    const optimizedPath = path.join(work, "Dockerfile.optimized");
    writeFileSync(optimizedPath, optimizedText);
    let original: VariantReport | null = null;
    if (!options.skipOriginal) {
      log("building the original (cold)…");
      original = await buildVariant(dockerfile, context, tags.original, touched, options.smoke, log);
    }
    log("building the optimized file (cold)…");
    const optimized = await buildVariant(optimizedPath, context, tags.optimized, touched, options.smoke, log);
    let fileTree: VerifyReport["fileTree"] = null;
    if (original?.built && optimized.built) {
      const [before, after] = await Promise.all([imagePaths(tags.original), imagePaths(tags.optimized)]);
      const stable = (p: string) => !VOLATILE.some((re) => re.test(p));
      fileTree = {
        added: [...after].filter((p) => !before.has(p) && stable(p)).sort(),
        removed: [...before].filter((p) => !after.has(p) && stable(p)).sort(),
      };
    }
    return { ...base, original, optimized, fileTree };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!options.keepImages) {
      await removeImage(tags.original);
      await removeImage(tags.optimized);
    }
  }
}

export function withContext(
  options: OptimizeTextOptions | undefined,
  dockerfile: string,
  context: string,
): OptimizeTextOptions {
  return { ...options, passOptions: { ...options?.passOptions, buildContext: buildContextFor(dockerfile, context) } };
}

async function buildVariant(
  dockerfile: string,
  context: string,
  tag: string,
  touched: string | null,
  smoke: string | undefined,
  log: (line: string) => void,
): Promise<VariantReport> {
  // Cold means cold: no layer cache and empty cache mounts.
  await docker(["builder", "prune", "-af"]);
  const cold = await docker(["build", "-f", dockerfile, "-t", tag, context]);
  if (cold.code !== 0)
    return { built: false, error: lastLines(cold.stderr), smoke: "not-run", coldSeconds: cold.seconds };
  const facts = await imageFacts(tag);
  let smokeResult: VariantReport["smoke"] = "not-run";
  let smokeOutput: string | undefined;
  if (smoke) {
    log("  running the smoke command…");
    const run = await docker(["run", "--rm", tag, "sh", "-c", smoke], { timeoutMs: 120_000 });
    smokeResult = run.code === 0 ? "pass" : "fail";
    smokeOutput = lastLines(run.stdout + run.stderr);
  }
  let warmSeconds: number | undefined;
  if (touched) {
    log(`  warm rebuild after editing ${touched}…`);
    const file = path.join(context, touched);
    const before = readFileSync(file);
    try {
      // Docker's cache keys on content, not mtime: really change the file.
      writeFileSync(file, Buffer.concat([before, Buffer.from(`\n# dfopt verify ${Date.now()}\n`)]));
      const warm = await docker(["build", "-f", dockerfile, "-t", `${tag}-warm`, context]);
      warmSeconds = warm.code === 0 ? warm.seconds : undefined;
    } finally {
      writeFileSync(file, before);
      await removeImage(`${tag}-warm`);
    }
  }
  return {
    built: true,
    coldSeconds: cold.seconds,
    warmSeconds,
    sizeBytes: facts.sizeBytes,
    layers: facts.layers,
    smoke: smokeResult,
    smokeOutput,
  };
}

/** Why this engine can't build the file, or null. */
export function unsupportedOnEngine(text: string, serverVersion: string): string | null {
  let parsed;
  try {
    parsed = parseDockerfile(text);
  } catch (error) {
    return `the Dockerfile does not parse: ${(error as Error).message}`;
  }
  const syntax = parsed.directives.get("syntax");
  if (syntax) {
    return `it has a "# syntax=${syntax}" line: BuildKit would pull that frontend image at build time, and no registry is reachable here. Remove the line to use the engine's built-in frontend.`;
  }
  const major = Number(serverVersion.split(".")[0]);
  if (major < 23 && parsed.instructions.some((i) => i.form === "heredoc")) {
    return `it uses heredocs, which Docker ${serverVersion}'s built-in Dockerfile frontend does not support (they need frontend 1.4+, built in since Docker 23) and "# syntax=" can't pull a newer frontend here.`;
  }
  return null;
}

/** A source file to edit for the warm-rebuild measurement: app code, not a manifest. */
export function pickSourceFile(context: string): string | null {
  const manifests =
    /^(requirements.*\.txt|constraints.*\.txt|pyproject\.toml|poetry\.lock|uv\.lock|Pipfile(\.lock)?|setup\.(py|cfg)|package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|go\.(mod|sum)|Gemfile(\.lock)?|Cargo\.(toml|lock)|Dockerfile.*)$/i;
  const candidates: string[] = [];
  for (const name of readdirSync(context)) {
    const full = path.join(context, name);
    if (!statSync(full).isFile() || manifests.test(name) || name.startsWith(".")) continue;
    candidates.push(name);
  }
  const preferred = candidates.find((n) => /\.(py|js|ts|go|rb|php)$/.test(n));
  return preferred ?? candidates.sort()[0] ?? null;
}

function lastLines(text: string, count = 15): string {
  return text.trim().split("\n").slice(-count).join("\n");
}
