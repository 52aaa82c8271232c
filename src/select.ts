/**
 * Which passes run: defaults from pass metadata, narrowed by --only / --skip
 * (and, in batch mode, by configuration). Unknown ids are a usage error that
 * names the known ones.
 */
import type { Pass } from "./types.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface PassSelection {
  readonly only?: readonly string[];
  readonly skip?: readonly string[];
  /** Opt-in passes to turn on in addition to the defaults. */
  readonly enable?: readonly string[];
}

export function selectPasses(all: readonly Pass[], selection: PassSelection): Pass[] {
  const known = new Set(all.map((p) => p.meta.id));
  for (const id of [...(selection.only ?? []), ...(selection.skip ?? []), ...(selection.enable ?? [])]) {
    if (!known.has(id)) {
      throw new UsageError(`unknown pass "${id}"; known passes: ${[...known].join(", ")} (see \`dfopt list\`)`);
    }
  }
  const skip = new Set(selection.skip ?? []);
  const enable = new Set(selection.enable ?? []);
  if (selection.only && selection.only.length > 0) {
    const only = new Set(selection.only);
    return all.filter((p) => only.has(p.meta.id) && !skip.has(p.meta.id));
  }
  return all.filter((p) => (p.meta.defaultEnabled || enable.has(p.meta.id)) && !skip.has(p.meta.id));
}
