/**
 * One cache strategy per file, so passes never fight: with `mount` (the
 * default) the cache-mounts pass keeps package caches in BuildKit cache
 * mounts and nobody adds `--no-cache-dir`/`--no-cache`/list cleanup; with
 * `none` (or when cache-mounts is turned off) the hygiene passes keep caches
 * out of the image instead.
 */
import type { PassOptions } from "../../src/types.js";

export type CacheMode = "mount" | "none";

export function cacheMode(options: PassOptions): CacheMode {
  return options.cacheStrategy === "mount" && options.enabledPasses.has("cache-mounts") ? "mount" : "none";
}
