/**
 * `.dockerignore` matching as Docker does it, so a pass can tell whether a
 * file of the build context reaches COPY. A port of moby/patternmatcher
 * (`ignorefile.ReadAll` + `MatchesOrParentMatches`), which both the classic
 * builder and BuildKit use. Its rules differ from .gitignore's: a pattern is
 * anchored at the context root (`*.txt` matches `a.txt`, not `dir/a.txt`),
 * `**` matches any number of directories, a later `!pattern` re-includes,
 * and a file is excluded when it or any parent directory matches.
 */
import path from "node:path";

interface Pattern {
  readonly exclusion: boolean;
  /** Cleaned pattern text without the `!`. */
  readonly text: string;
  readonly match: (file: string) => boolean;
}

export interface DockerignoreMatcher {
  /** True when the context path (relative, `/`-separated) is not sent to the builder. */
  ignores(file: string): boolean;
  /**
   * True when some `!` pattern could re-include a path below `dir`, so an
   * excluded directory may still be partly sent. Conservative: says yes
   * whenever it can't rule it out.
   */
  mayReincludeUnder(dir: string): boolean;
}

/** Go's filepath.Clean for `/`-separated paths. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const cleaned = path.posix.normalize(p);
  return cleaned.length > 1 && cleaned.endsWith("/") ? cleaned.slice(0, -1) : cleaned;
}

/** `ignorefile.ReadAll`: the patterns of a .dockerignore, normalised. */
export function readDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (let raw of lines) {
    raw = raw.replace(/\r$/, "");
    // Comment lines are dropped before trimming, as Docker does.
    if (raw.startsWith("#")) continue;
    let pattern = raw.trim();
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

const REGEX_ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/** `Pattern.compile` + `Pattern.match` of moby/patternmatcher (Unix separator). */
function compile(pattern: string): (file: string) => boolean {
  let re = "^";
  let type: "exact" | "prefix" | "suffix" | "regexp" = "exact";
  const chars = [...pattern];
  for (let i = 0, n = 0; i < chars.length; i++, n++) {
    const ch = chars[i]!;
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        if (i + 1 >= chars.length) {
          // Trailing `**` accepts everything below, as in .gitignore.
          if (type === "exact") type = "prefix";
          else {
            re += ".*";
            type = "regexp";
          }
        } else {
          re += "(.*/)?";
          type = "regexp";
        }
        if (n === 0) type = "suffix";
      } else {
        re += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      type = "regexp";
    } else if (REGEX_ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === "\\") {
      if (i + 1 < chars.length) {
        re += `\\${chars[++i]}`;
        type = "regexp";
      } else {
        re += "\\\\";
      }
    } else if (ch === "[" || ch === "]") {
      re += ch;
      type = "regexp";
    } else {
      re += ch;
    }
  }
  switch (type) {
    case "exact":
      return (file) => file === pattern;
    case "prefix": {
      const prefix = pattern.slice(0, -2);
      return (file) => file.startsWith(prefix);
    }
    case "suffix": {
      const suffix = pattern.slice(2);
      return (file) => file.endsWith(suffix) || (suffix.startsWith("/") && file === suffix.slice(1));
    }
    case "regexp": {
      let regex: RegExp | null;
      try {
        regex = new RegExp(`${re}$`, "s");
      } catch {
        regex = null;
      }
      // A pattern Docker rejects makes the whole build fail; match nothing.
      return (file) => regex !== null && regex.test(file);
    }
  }
}

export function dockerignoreMatcher(text: string): DockerignoreMatcher {
  const patterns: Pattern[] = [];
  for (let p of readDockerignore(text)) {
    p = p.trim();
    if (p === "") continue;
    p = cleanPath(p);
    const exclusion = p.startsWith("!");
    if (exclusion) {
      if (p.length === 1) continue;
      p = p.slice(1);
    }
    patterns.push({ exclusion, text: p, match: compile(p) });
  }
  return {
    ignores(file: string): boolean {
      const f = cleanPath(file.replace(/^\.\//, ""));
      if (f === ".") return false;
      const parent = path.posix.dirname(f);
      const parentDirs = parent.split("/");
      let matched = false;
      for (const pattern of patterns) {
        if (pattern.exclusion !== matched) continue;
        let match = pattern.match(f);
        if (!match && parent !== ".") {
          for (let i = 0; i < parentDirs.length && !match; i++) {
            match = pattern.match(parentDirs.slice(0, i + 1).join("/"));
          }
        }
        if (match) matched = !pattern.exclusion;
      }
      return matched;
    },
    mayReincludeUnder(dir: string): boolean {
      const segments = cleanPath(dir).split("/");
      return patterns.some((p) => {
        if (!p.exclusion) return false;
        const parts = p.text.split("/");
        for (let i = 0; i < segments.length; i++) {
          const part = parts[i];
          if (part === undefined) return false;
          if (part.includes("**")) return true;
          if (/[*?[\\]/.test(part)) continue;
          if (part !== segments[i]) return false;
        }
        return parts.length > segments.length;
      });
    },
  };
}
