/**
 * The build context passes may consult (src/types.ts BuildContext), read
 * from disk for them since passes never read files. The context root is the
 * Dockerfile's directory unless `--context` says otherwise (as with
 * `docker build -f path/Dockerfile <context>`).
 *
 * Everything is read lazily and cached: most passes never look, and those
 * that do often ask for the same paths. Paths that would leave the context
 * (`../x`, absolute) don't exist as far as a build is concerned, so they
 * answer false / null.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { BuildContext } from "./types.js";

/** Files larger than this are not "small text files" (readText answers null). */
export const MAX_CONTEXT_TEXT_BYTES = 256 * 1024;

export function buildContextFor(dockerfilePath: string, contextDir?: string | null): BuildContext {
  const root = path.resolve(contextDir ?? path.dirname(dockerfilePath));
  const existsCache = new Map<string, boolean>();
  const textCache = new Map<string, string | null>();
  let dockerignore: string | null | undefined;

  const resolveInside = (relativePath: string): string | null => {
    const normalized = relativePath.replace(/\\/g, "/").replace(/^\.\/+/, "");
    if (normalized === "" || normalized === ".") return root;
    if (path.posix.isAbsolute(normalized)) return null;
    const full = path.resolve(root, normalized);
    const rel = path.relative(root, full);
    if (rel.startsWith("..") || path.isAbsolute(rel)) return null;
    return full;
  };

  const readSmallText = (full: string): string | null => {
    try {
      // Most contexts have no such file: no exception (with its stack trace) for the common answer.
      const stat = statSync(full, { throwIfNoEntry: false });
      if (!stat || !stat.isFile() || stat.size > MAX_CONTEXT_TEXT_BYTES) return null;
      const buffer = readFileSync(full);
      if (buffer.includes(0)) return null;
      return buffer.toString("utf8");
    } catch {
      return null;
    }
  };

  return {
    get dockerignore(): string | null {
      if (dockerignore === undefined) {
        // BuildKit prefers `<Dockerfile name>.dockerignore` next to the Dockerfile over the context's `.dockerignore`.
        const specific = readSmallText(`${path.resolve(dockerfilePath)}.dockerignore`);
        dockerignore = specific ?? readSmallText(path.join(root, ".dockerignore"));
      }
      return dockerignore;
    },
    exists(relativePath: string): boolean {
      let hit = existsCache.get(relativePath);
      if (hit === undefined) {
        const full = resolveInside(relativePath);
        try {
          hit = full !== null && statSync(full, { throwIfNoEntry: false }) !== undefined;
        } catch {
          hit = false; // unreadable parent: a build couldn't send it either
        }
        existsCache.set(relativePath, hit);
      }
      return hit;
    },
    readText(relativePath: string): string | null {
      let hit = textCache.get(relativePath);
      if (hit === undefined) {
        const full = resolveInside(relativePath);
        hit = full === null ? null : readSmallText(full);
        textCache.set(relativePath, hit);
      }
      return hit;
    },
  };
}
