/**
 * Per-file memoisation for pure analyses. A ParsedDockerfile is immutable and
 * every pass is a pure function of it, so a fact several passes ask for (the
 * RUNs that parse, the context at an instruction, chain-runs' plan) can be
 * computed once per parsed file instead of once per pass and per node. The
 * weak keys let a file's facts go with the file.
 */
import type { ParsedDockerfile } from "./dockerfile.js";
import type { Pass, PassOptions, PassResult } from "./types.js";

/**
 * Remembers `value` under `key` in a cache kept under `limit` entries, for
 * facts keyed by text (which a WeakMap can't hold). When full, the older half
 * goes (a Map iterates in insertion order), so the file being optimized keeps
 * what it remembered for its next round.
 */
export function rememberBounded<K, V>(cache: Map<K, V>, key: K, value: V, limit: number): void {
  if (cache.size >= limit) {
    let drop = Math.ceil(limit / 2);
    for (const old of cache.keys()) {
      if (drop-- <= 0) break;
      cache.delete(old);
    }
  }
  cache.set(key, value);
}

/** A pure fact of an immutable object, computed once per object (weakly held). */
export function memoByObject<K extends object, T>(compute: (key: K) => T): (key: K) => T {
  const results = new WeakMap<K, T>();
  return (key) => {
    const known = results.get(key);
    // One lookup in the common case: a remembered undefined needs the second.
    if (known !== undefined || results.has(key)) return known as T;
    const result = compute(key);
    results.set(key, result);
    return result;
  };
}

export function memoByFile<T>(compute: (file: ParsedDockerfile) => T): (file: ParsedDockerfile) => T {
  return memoByObject(compute);
}

const passResults = new WeakMap<ParsedDockerfile, Map<Pass, { options: PassOptions; result: PassResult }>>();

/**
 * A pass's result on a parsed file, computed once: the engine asks for it,
 * and so do passes that stay out of another pass's way (cache-mounts asks
 * chain-runs and alpine-to-debian what they will rewrite). Passes are pure,
 * so the same file and options give the same result.
 */
export function runPass(pass: Pass, file: ParsedDockerfile, options: PassOptions): PassResult {
  let perFile = passResults.get(file);
  if (!perFile) {
    perFile = new Map();
    passResults.set(file, perFile);
  }
  const known = perFile.get(pass);
  if (known && known.options === options) return known.result;
  const result = pass.run(file, options);
  perFile.set(pass, { options, result });
  return result;
}
