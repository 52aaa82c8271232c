/**
 * The vocabulary shared by the engine and every pass. Kept small on purpose:
 * a pass only ever produces `PassResult`s; the engine turns them into text.
 */
import type { ParsedDockerfile } from "./dockerfile.js";

/** Whether a change keeps the build's meaning (Ruff's fix-safety model). */
export type Safety = "safe" | "unsafe";

/**
 * One text replacement on the ORIGINAL text the pass was given (LSP TextEdit
 * model, but with UTF-16 offsets instead of line/character pairs, which is
 * what every pass computes with). `start === end` is an insertion.
 */
export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly newText: string;
}

/** A rewrite a pass proposes: its edits are applied together or not at all. */
export interface Change {
  readonly pass: string;
  readonly edits: readonly Edit[];
  /** One sentence a reviewer reads next to the hunk: what and why. */
  readonly reason: string;
  readonly safety: Safety;
  /** For unsafe changes: what the pass could not prove. */
  readonly unsafeBecause?: string;
}

/** A place a pass looked at and deliberately left alone, with why. */
export interface Skip {
  readonly pass: string;
  /** Offset in the text the pass was given (reported as a line). */
  readonly at: number;
  readonly reason: string;
}

export interface PassResult {
  readonly changes: readonly Change[];
  readonly skips: readonly Skip[];
}

/**
 * What the CLI knows about the build context (the Dockerfile's directory by
 * default). Passes never read files; the CLI reads these for them. Absent
 * (null) when dfopt reads stdin and the context is unknown.
 */
export interface BuildContext {
  /** Contents of `.dockerignore`, or null when the context has none. */
  readonly dockerignore: string | null;
  /** Whether a file or directory exists, by path relative to the context root. */
  readonly exists: (relativePath: string) => boolean;
  /** A small text file's contents (e.g. an entrypoint script), or null. */
  readonly readText: (relativePath: string) => string | null;
}

/** Options every pass may read; all have defaults so passes stay total. */
export interface PassOptions {
  /** `mount`: BuildKit cache mounts; `none`: no caches kept anywhere. */
  readonly cacheStrategy: "mount" | "none";
  /** Debian release alpine-to-debian and base switches target. */
  readonly debianRelease: string;
  /** Ids of the passes enabled in this run (passes compose with each other). */
  readonly enabledPasses: ReadonlySet<string>;
  /** The build context, or null when unknown (stdin). */
  readonly buildContext: BuildContext | null;
}

export const defaultPassOptions: PassOptions = {
  cacheStrategy: "mount",
  debianRelease: "bookworm",
  enabledPasses: new Set(),
  buildContext: null,
};

export interface PassMeta {
  /** kebab-case id used on the command line and in reports. */
  readonly id: string;
  readonly title: string;
  /** One line for `dfopt list` and the README table. */
  readonly summary: string;
  /** Markdown with sections What / Why / Example / Safety / References. */
  readonly doc: string;
  readonly defaultEnabled: boolean;
  /** hadolint rule ids this pass fixes, so `# hadolint ignore=` is honoured. */
  readonly hadolintRules?: readonly string[];
  /**
   * Restructuring passes (e.g. a stage split) run only once no other pass has
   * an applicable change left, so they always see the file the others settled
   * on and the fixed point doesn't depend on pass order.
   */
  readonly runsLast?: boolean;
}

/**
 * A file in the build context a pass proposes to create or rewrite (e.g. a
 * `.dockerignore`). It travels beside the Dockerfile's changes: shown in the
 * diff, written by `--write` only if the file still has `oldText`.
 */
export interface ContextFileWrite {
  /** Relative to the build context root. */
  readonly path: string;
  /** Contents the proposal was computed from; null when the file does not exist. */
  readonly oldText: string | null;
  readonly newText: string;
}

export interface Pass {
  readonly meta: PassMeta;
  /** Pure: reads nothing but its arguments, prints nothing, never throws on valid input. */
  run(file: ParsedDockerfile, options: PassOptions): PassResult;
  /** Files to propose in the build context, computed on the final Dockerfile (needs `options.buildContext`). */
  contextFiles?(file: ParsedDockerfile, options: PassOptions): readonly ContextFileWrite[];
}
