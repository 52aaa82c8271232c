/**
 * Per-repository configuration, discovered upward from each Dockerfile like
 * Prettier's: the nearest `dfopt.config.(json|yaml|yml|js|mjs)`, `.dfoptrc`
 * (JSON or YAML, optionally with one of those extensions) or `"dfopt"` key
 * in a package.json wins, up to the filesystem root; configs don't merge.
 * Command-line flags override what a config says.
 *
 * Lookups are memoised per directory (one readdir per directory, shared by
 * every file below it), so a batch over hundreds of repositories reads each
 * config once. Parsers (yaml) and the schema library (zod) load only when a
 * config file is actually found, keeping the common no-config start fast.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ignore, { type Ignore } from "ignore";
import type { OptimizeTextOptions } from "./api.js";

export interface DfoptConfig {
  /** Pass id -> on/off; `true` turns on an opt-in pass, `false` turns off a default one. */
  readonly passes?: Readonly<Record<string, boolean>>;
  /** Also apply changes marked unsafe. */
  readonly unsafe?: boolean;
  readonly cacheStrategy?: "mount" | "none";
  readonly debianRelease?: string;
  /** gitignore-style patterns, relative to the config file's directory. */
  readonly ignore?: readonly string[];
}

/** In the order they are looked for within one directory. */
export const CONFIG_FILE_NAMES: readonly string[] = [
  "dfopt.config.json",
  "dfopt.config.yaml",
  "dfopt.config.yml",
  "dfopt.config.js",
  "dfopt.config.mjs",
  ".dfoptrc",
  ".dfoptrc.json",
  ".dfoptrc.yaml",
  ".dfoptrc.yml",
  "package.json",
];

export const CONFIG_KEYS: readonly string[] = ["passes", "unsafe", "cacheStrategy", "debianRelease", "ignore"];

export interface ResolvedConfig {
  /** Absolute path of the config file, or null for "no config" (defaults). */
  readonly file: string | null;
  readonly config: DfoptConfig;
  /** Whether the config's `ignore` patterns exclude this file. */
  isIgnored(absPath: string): boolean;
}

/** A config file dfopt can't use; the message names the file and the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${displayFile(file)}: ${message}`);
    this.name = "ConfigError";
  }
}

const NO_CONFIG: ResolvedConfig = { file: null, config: {}, isIgnored: () => false };

export interface ConfigResolverOptions {
  /** Pass ids the `passes` key may name. */
  readonly knownPasses: ReadonlySet<string>;
  /** `--config <file>`: use this file for every Dockerfile, no search. */
  readonly explicitFile?: string | null;
  /** `--no-config`. */
  readonly disabled?: boolean;
}

export class ConfigResolver {
  private readonly byDir = new Map<string, Promise<ResolvedConfig>>();
  private explicit: Promise<ResolvedConfig> | null = null;

  constructor(private readonly options: ConfigResolverOptions) {}

  /** The config governing a Dockerfile (absolute path). Rejects with ConfigError. */
  forFile(absPath: string): Promise<ResolvedConfig> {
    if (this.options.disabled) return Promise.resolve(NO_CONFIG);
    if (this.options.explicitFile) {
      this.explicit ??= this.loadExplicit(path.resolve(this.options.explicitFile));
      return this.explicit;
    }
    return this.forDir(path.dirname(path.resolve(absPath)));
  }

  forDir(dir: string): Promise<ResolvedConfig> {
    let hit = this.byDir.get(dir);
    if (!hit) {
      hit = this.search(dir);
      // Rejections are cached too (every file under a broken config reports it), but must not go unhandled.
      hit.catch(() => undefined);
      this.byDir.set(dir, hit);
    }
    return hit;
  }

  private async search(dir: string): Promise<ResolvedConfig> {
    let names: Set<string>;
    try {
      names = new Set(await fs.readdir(dir));
    } catch {
      names = new Set();
    }
    for (const name of CONFIG_FILE_NAMES) {
      if (!names.has(name)) continue;
      const file = path.join(dir, name);
      const raw = await readConfigFile(file);
      if (raw === undefined) continue; // a package.json without a "dfopt" key
      return resolved(file, await validateConfig(raw, file, this.options.knownPasses));
    }
    const parent = path.dirname(dir);
    return parent === dir ? NO_CONFIG : this.forDir(parent);
  }

  private async loadExplicit(file: string): Promise<ResolvedConfig> {
    const stat = await fs.stat(file).catch(() => null);
    if (!stat?.isFile()) throw new ConfigError(file, "no such config file; check the --config path");
    const raw = await readConfigFile(file);
    if (raw === undefined) throw new ConfigError(file, 'has no "dfopt" key');
    return resolved(file, await validateConfig(raw, file, this.options.knownPasses));
  }
}

function resolved(file: string, config: DfoptConfig): ResolvedConfig {
  const dir = path.dirname(file);
  let ig: Ignore | null = null;
  if (config.ignore && config.ignore.length > 0) ig = ignore().add([...config.ignore]);
  return {
    file,
    config,
    isIgnored(absPath: string): boolean {
      if (!ig) return false;
      const rel = path.relative(dir, absPath);
      if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) return false;
      return ig.ignores(rel.split(path.sep).join("/"));
    },
  };
}

/** The file's raw config value; undefined for a package.json without a "dfopt" key. */
async function readConfigFile(file: string): Promise<unknown> {
  const base = path.basename(file);
  const ext = path.extname(base);
  if (ext === ".js" || ext === ".mjs" || ext === ".cjs") {
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      return mod.default ?? mod;
    } catch (error) {
      throw new ConfigError(file, `could not load: ${(error as Error).message}`);
    }
  }
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, `could not read: ${(error as Error).message}`);
  }
  if (base === "package.json") {
    try {
      const pkg = JSON.parse(text) as Record<string, unknown>;
      return pkg.dfopt ?? undefined;
    } catch {
      // Not ours to judge; a broken package.json just holds no dfopt config.
      return undefined;
    }
  }
  if (ext === ".json") {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(file, `invalid JSON: ${(error as Error).message}`);
    }
  }
  // .yaml, .yml and extension-less .dfoptrc (JSON is YAML too).
  if (text.trim() === "") return {};
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos ? ` (line ${first.linePos[0].line})` : "";
    throw new ConfigError(file, `invalid YAML${where}: ${first.message.split("\n")[0]}`);
  }
  return doc.toJS() as unknown;
}

/** Checks a raw config against the schema; the error names the file and the bad key. */
export async function validateConfig(
  raw: unknown,
  file: string,
  knownPasses: ReadonlySet<string>,
): Promise<DfoptConfig> {
  const { z } = await import("zod");
  const schema = z.strictObject({
    passes: z.record(z.string(), z.boolean()).optional(),
    unsafe: z.boolean().optional(),
    cacheStrategy: z.enum(["mount", "none"]).optional(),
    debianRelease: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "expected a Debian release code name such as bookworm")
      .optional(),
    ignore: z.array(z.string()).optional(),
  });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, `expected an object with keys ${CONFIG_KEYS.join(", ")}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      const key = [...issue.path.map(String), issue.keys[0]].join(".");
      throw new ConfigError(file, `unknown key "${key}" (known keys: ${CONFIG_KEYS.join(", ")})`);
    }
    const key = issue.path.map(String).join(".");
    throw new ConfigError(file, `"${key}": ${issue.message.replace(/^Invalid input: /, "")}`);
  }
  const config = result.data;
  for (const id of Object.keys(config.passes ?? {})) {
    if (!knownPasses.has(id)) {
      throw new ConfigError(file, `"passes.${id}": unknown pass (known passes: ${[...knownPasses].join(", ")})`);
    }
  }
  return config;
}

/** What the command line says; `undefined` means "not given, use the config". */
export interface CliOverrides {
  readonly only?: readonly string[];
  readonly skip?: readonly string[];
  readonly enable?: readonly string[];
  readonly unsafe?: boolean;
  readonly cacheStrategy?: "mount" | "none";
  readonly debianRelease?: string;
}

/**
 * The options one Dockerfile runs with: the config's choices, overridden by
 * the flags. `--only` replaces the config's pass choices; `--skip` and
 * `--enable` adjust them.
 */
export function mergeOptions(config: DfoptConfig, cli: CliOverrides): OptimizeTextOptions {
  const passOptions: { cacheStrategy?: "mount" | "none"; debianRelease?: string } = {};
  const cacheStrategy = cli.cacheStrategy ?? config.cacheStrategy;
  const debianRelease = cli.debianRelease ?? config.debianRelease;
  if (cacheStrategy) passOptions.cacheStrategy = cacheStrategy;
  if (debianRelease) passOptions.debianRelease = debianRelease;
  const unsafe = cli.unsafe ?? config.unsafe ?? false;
  if (cli.only && cli.only.length > 0) {
    return { only: cli.only, skip: cli.skip, unsafe, passOptions };
  }
  const cliEnable = new Set(cli.enable ?? []);
  const cliSkip = new Set(cli.skip ?? []);
  const enable = new Set(cliEnable);
  const skip = new Set(cliSkip);
  for (const [id, on] of Object.entries(config.passes ?? {})) {
    if (on && !cliSkip.has(id)) enable.add(id);
    if (!on && !cliEnable.has(id)) skip.add(id);
  }
  return { enable: [...enable], skip: [...skip], unsafe, passOptions };
}

function displayFile(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}
