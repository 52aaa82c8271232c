/**
 * manifest-first-copy: a COPY into `.` with no WORKDIR before it lands in the
 * base image's WORKDIR, unknown and often `/` (node, ubuntu…). It is refused
 * like a COPY into `/`, since what other RUNs write (global installs, /etc)
 * may then be part of the copied tree.
 */
import { describe, expect, it } from "vitest";
import { manifestFirstCopy } from "../passes/manifest-first-copy.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { type BuildContext, defaultPassOptions } from "../src/types.js";

const context: BuildContext = {
  dockerignore: null,
  exists: (p) => ["front-end", "front-end/package.json", "front-end/package-lock.json"].includes(p),
  readText: (p) => (p === "front-end/package.json" ? '{"name":"x","dependencies":{"gatsby":"1"}}' : null),
};

function passResult(text: string, buildContext: BuildContext | null) {
  return manifestFirstCopy.run(parseDockerfile(text), {
    ...defaultPassOptions,
    enabledPasses: new Set(["manifest-first-copy"]),
    buildContext,
  });
}

const SNOOTY = `FROM node:10.10.0

COPY front-end/ .

RUN npm -g config set user root
RUN npm install
RUN npm -g install gatsby
CMD ["npm", "start"]
`;

describe("manifest-first-copy: relative destination, unknown base WORKDIR", () => {
  it("refuses COPY <dir> . with no WORKDIR before it, with or without the context", () => {
    for (const ctx of [null, context]) {
      const r = passResult(SNOOTY, ctx);
      expect(r.changes).toEqual([]);
      expect(r.skips.map((s) => s.reason)).toContain(
        "COPY front-end/ . (line 3) copies the context into the base image's WORKDIR, which is unknown and may be /, where it could overwrite installed files",
      );
    }
    expect(optimizeDockerfile(SNOOTY, { only: ["manifest-first-copy"], unsafe: true }).output).toBe(SNOOTY);
    expect(passResult(SNOOTY.replace("COPY front-end/ .", "COPY front-end/ ./"), null).changes).toEqual([]);
  });

  it("still moves the COPY once a WORKDIR is known", () => {
    const text = SNOOTY.replace("FROM node:10.10.0\n", "FROM node:10.10.0\nWORKDIR /srv\n");
    const out = optimizeDockerfile(text, { only: ["manifest-first-copy"], unsafe: true }).output;
    expect(out).toContain("COPY front-end/package.json front-end/package-lock.json* front-end/npm-shrinkwrap.json* ./");
  });

  it("still handles a relative subdirectory under the unknown WORKDIR", () => {
    const text = SNOOTY.replace("COPY front-end/ .", "COPY front-end/ app/").replace(
      "RUN npm install",
      "RUN cd app && npm install",
    );
    const r = passResult(text, null);
    expect(r.changes).toHaveLength(1);
  });

  // Second audit: without the context, the unsafe reason names how each ecosystem's install needs the sources.
  it("names the ecosystem's ways an install needs the sources when the manifest can't be read", () => {
    const why = (text: string) =>
      optimizeDockerfile(text, { only: ["manifest-first-copy"], unsafe: true }).applied.map(
        (a) => a.unsafeBecause ?? "",
      );
    expect(why("FROM ruby:3.2\nWORKDIR /app\nCOPY . .\nRUN bundle install\n").join("\n")).toMatch(/`gemspec` line/);
    expect(why("FROM composer:2\nWORKDIR /app\nCOPY . .\nRUN composer install\n").join("\n")).toMatch(
      /classmap\/files autoloading/,
    );
  });
});
