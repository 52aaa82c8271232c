/**
 * Fixture cases in corpus/<case>/ (jscodeshift style): `Dockerfile` in,
 * `expected.Dockerfile` out (absent: must stay unchanged), `README` saying
 * what the case proves, optional `options.json` ({ only, skip, enable,
 * unsafe }) to focus the case on some passes, and an optional `context/`
 * folder that stands for the build context (its files and .dockerignore).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { OptimizeTextOptions } from "../../src/api.js";
import type { BuildContext } from "../../src/types.js";

export const CORPUS_DIR = path.resolve(import.meta.dirname, "../../corpus");

export interface FixtureCase {
  readonly name: string;
  readonly input: string;
  readonly expected: string;
  readonly readme: string;
  readonly options: OptimizeTextOptions;
}

export function loadCases(dir = CORPUS_DIR): FixtureCase[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const caseDir = path.join(dir, name);
      const input = readFileSync(path.join(caseDir, "Dockerfile"), "utf8");
      const expectedPath = path.join(caseDir, "expected.Dockerfile");
      const expected = existsSync(expectedPath) ? readFileSync(expectedPath, "utf8") : input;
      const readmePath = path.join(caseDir, "README");
      const readme = existsSync(readmePath) ? readFileSync(readmePath, "utf8").trim() : "";
      const optionsPath = path.join(caseDir, "options.json");
      const base = existsSync(optionsPath)
        ? (JSON.parse(readFileSync(optionsPath, "utf8")) as OptimizeTextOptions)
        : {};
      const context = path.join(caseDir, "context");
      const options = existsSync(context)
        ? { ...base, passOptions: { ...base.passOptions, buildContext: folderContext(context) } }
        : base;
      return { name, input, expected, readme, options };
    });
}

/** A build context backed by a fixture folder. */
export function folderContext(dir: string): BuildContext {
  const read = (p: string) => {
    try {
      return readFileSync(path.join(dir, p), "utf8");
    } catch {
      return null;
    }
  };
  return { dockerignore: read(".dockerignore"), exists: (p) => existsSync(path.join(dir, p)), readText: read };
}
