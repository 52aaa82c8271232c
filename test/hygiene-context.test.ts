import { describe, expect, it } from "vitest";
import { dockerignore, dockerignoreFiles, dockerignoreMatches, planDockerignore } from "../passes/dockerignore.js";
import { entrypointCrlf, isCrlfShellScript } from "../passes/entrypoint-crlf.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type BuildContext } from "../src/types.js";

function context(files: Record<string, string>, ignore: string | null = null): BuildContext {
  return {
    dockerignore: ignore,
    exists: (p) => p in files || Object.keys(files).some((f) => f.startsWith(`${p}/`)),
    readText: (p) => files[p] ?? null,
  };
}

describe("dockerignore", () => {
  it("matches like Docker: patterns exclude a directory's contents, ** spans directories", () => {
    expect(dockerignoreMatches(".git", ".git/config")).toBe(true);
    expect(dockerignoreMatches("**/__pycache__", "a/b/__pycache__/x.pyc")).toBe(true);
    expect(dockerignoreMatches("**/*.pyc", "x.pyc")).toBe(true);
    expect(dockerignoreMatches("*.pyc", "a/x.pyc")).toBe(false);
    expect(dockerignoreMatches("build", "src/build")).toBe(false);
  });

  it("proposes a full file when none exists, never hiding a COPY source", () => {
    const file = parseDockerfile("FROM python:3.12\nCOPY requirements.txt .\nCOPY dist/app.whl /tmp/\nCOPY . /app\n");
    const plan = planDockerignore(file, context({ "requirements.txt": "flask" }));
    expect(plan?.oldText).toBeNull();
    expect(plan?.added).toEqual(
      expect.arrayContaining([".git", "**/__pycache__", "**/*.pyc", ".venv", "node_modules"]),
    );
    expect(plan?.added).not.toContain("dist");
    expect(plan?.omitted.find((o) => o.pattern === "dist")?.reason).toMatch(/copies dist\/app\.whl/);
  });

  it("keeps .git when a build step may read it, and .env when COPY . copies it today", () => {
    const file = parseDockerfile("FROM python:3.12\nCOPY . /app\nRUN pip install /app && pip install .\n");
    const plan = planDockerignore(file, context({ ".git/HEAD": "ref", ".env": "SECRET=1" }));
    expect(plan?.added).not.toContain(".git");
    expect(plan?.added).not.toContain(".env");
    expect(plan?.omitted.map((o) => o.pattern)).toEqual(expect.arrayContaining([".git", ".env"]));
  });

  it("appends only missing entries that matter to an existing file, in its line endings", () => {
    const file = parseDockerfile("FROM node:20\nCOPY . .\nRUN npm ci\n");
    const plan = planDockerignore(file, context({ "node_modules/x": "", ".git/HEAD": "" }, ".git\r\n"));
    expect(plan?.added).toEqual(["node_modules"]);
    expect(plan?.newText).toBe(".git\r\n# Added by dfopt\r\nnode_modules\r\n");
  });

  it("leaves allow-list files alone and never edits the Dockerfile", () => {
    const file = parseDockerfile("FROM python:3.12\nCOPY . /app\n");
    expect(planDockerignore(file, context({ ".git/HEAD": "" }, "*\n!src\n"))).toBeNull();
    const options = { ...defaultPassOptions, buildContext: context({}) };
    const result = dockerignore.run(file, options);
    expect(result.changes).toEqual([]);
    expect(dockerignoreFiles(file, options)[0]?.path).toBe(".dockerignore");
    expect(dockerignore.contextFiles?.(file, options)[0]?.newText).toMatch(/^\.git$/m);
  });
});

describe("entrypoint-crlf", () => {
  it("recognises shell scripts with CRLF endings", () => {
    expect(isCrlfShellScript("entrypoint.sh", '#!/bin/sh\r\nexec "$@"\r\n')).toBe(true);
    expect(isCrlfShellScript("run", "#!/usr/bin/env bash\r\necho\r\n")).toBe(true);
    expect(isCrlfShellScript("app.py", "print(1)\r\n")).toBe(false);
    expect(isCrlfShellScript("entrypoint.sh", '#!/bin/sh\nexec "$@"\n')).toBe(false);
  });

  it("adds the sed from guide 001 after the COPY, with the path RUN sees", () => {
    const file = parseDockerfile(
      'FROM python:3.12\nWORKDIR /app\nCOPY ./entrypoint.sh .\nENTRYPOINT ["./entrypoint.sh"]\n',
    );
    const options = { ...defaultPassOptions, buildContext: context({ "entrypoint.sh": '#!/bin/sh\r\nexec "$@"\r\n' }) };
    const result = entrypointCrlf.run(file, options);
    expect(result.changes).toHaveLength(1);
    expect(result.changes[0]!.edits[0]!.newText).toBe("\nRUN sed -i 's/\\r$//' ./entrypoint.sh");
    const out = optimizeDockerfile(file.text, {
      only: ["entrypoint-crlf"],
      passOptions: { buildContext: options.buildContext },
    });
    expect(
      optimizeDockerfile(out.output, { only: ["entrypoint-crlf"], passOptions: { buildContext: options.buildContext } })
        .output,
    ).toBe(out.output);
  });

  it("only reports when the stage runs as a non-root user", () => {
    const file = parseDockerfile("FROM python:3.12\nRUN true\nUSER app\nCOPY run.sh /usr/local/bin/\n");
    const result = entrypointCrlf.run(file, { ...defaultPassOptions, buildContext: context({ "run.sh": "echo\r\n" }) });
    expect(result.changes).toEqual([]);
    expect(result.skips[0]?.reason).toMatch(/CRLF line endings.*runs as app/);
  });
});
