/**
 * manifest-first-copy: a wheelhouse the later `COPY . <dir>` copies again is
 * bind-mounted into the install instead of copied first (no duplicate layer),
 * only where the final file tree is provably the same.
 */
import { describe, expect, it } from "vitest";
import { passById } from "../passes/index.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { optimize } from "../src/pipeline.js";
import { type BuildContext, defaultPassOptions } from "../src/types.js";

function fakeContext(files: Record<string, string>): BuildContext {
  return {
    dockerignore: files[".dockerignore"] ?? null,
    exists: (p) => Object.keys(files).some((f) => f === p || f.startsWith(`${p}/`)),
    readText: (p) => files[p] ?? null,
  };
}

const FILES = { "requirements.txt": "flask==2.2.2\n", "vendor/Flask-2.2.2-py3-none-any.whl": "", "app.py": "" };

function run(text: string, only: string[], files: Record<string, string> | null = FILES, unsafe = false) {
  return optimizeDockerfile(text, {
    only,
    unsafe,
    passOptions: { buildContext: files ? fakeContext(files) : null },
  });
}

const APP = (copy = "COPY . .", extra = "") =>
  `FROM python:3.11-slim\n${extra}WORKDIR /app\n${copy}\nRUN pip install --no-index --find-links vendor -r requirements.txt\nCMD ["python", "app.py"]\n`;
const MOUNTED = "RUN --mount=type=bind,source=vendor,target=/app/vendor pip install";

describe("bind-mounting a wheelhouse the full COPY copies again", () => {
  it("mounts it when the output uses BuildKit (cache-mounts on), with the context known", () => {
    const r = run(APP(), ["manifest-first-copy", "cache-mounts"]);
    expect(r.output).toBe(
      'FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN --mount=type=bind,source=vendor,target=/app/vendor --mount=type=cache,target=/root/.cache/pip pip install --no-index --find-links vendor -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n',
    );
    const change = r.applied.find((a) => a.pass === "manifest-first-copy")!;
    expect(change.safety).toBe("safe");
    expect(change.reason).toMatch(/vendor\/ is bind-mounted into the install instead of copied/);
  });

  it("mounts it when the file uses RUN --mount already, even with manifest-first-copy alone", () => {
    const r = run(APP("COPY . .", "RUN --mount=type=cache,target=/root/.cache/pip pip install -U pip\n"), [
      "manifest-first-copy",
    ]);
    expect(r.output).toContain(`${MOUNTED} --no-index`);
    expect(r.output).not.toContain("COPY vendor/");
  });

  it("copies it as before when the file may not use BuildKit", () => {
    const r = run(APP(), ["manifest-first-copy"]);
    expect(r.output).toContain("COPY requirements.txt .\nCOPY vendor/ vendor/\nRUN pip install");
  });

  it("copies it as before when dfopt can't see the context (stdin)", () => {
    const r = run(APP(), ["manifest-first-copy", "cache-mounts"], null, true);
    expect(r.output).toContain("COPY vendor/ vendor/\n");
    expect(r.output).not.toContain("type=bind");
  });

  it("copies it as before when the full COPY sets modes or is an ADD", () => {
    const extra = "RUN --mount=type=cache,target=/root/.cache/pip pip install -U pip\n";
    const chmod = run(APP("COPY --chmod=755 . .", extra), ["manifest-first-copy"]);
    expect(chmod.output).toContain("COPY --chmod=755 vendor/ vendor/\n");
    const add = run(APP("ADD . .", extra), ["manifest-first-copy"]);
    expect(add.output).toContain("COPY vendor/ vendor/\n");
    expect(add.output).not.toContain("type=bind");
  });

  it("keeps --chown on the remaining COPYs; the mount needs none (the full COPY owns the files)", () => {
    const r = run(APP("COPY --chown=app:app . ."), ["manifest-first-copy", "cache-mounts"]);
    expect(r.output).toContain("COPY --chown=app:app requirements.txt .\nRUN --mount=type=bind,source=vendor");
    expect(r.output).toContain("COPY --chown=app:app . .\n");
  });

  it("copies a links page (a file) as before", () => {
    const files = { "requirements.txt": "flask\n", "links.html": "<a href='x'>x</a>", "app.py": "" };
    const text = APP().replace("--find-links vendor", "--find-links links.html");
    const r = run(text, ["manifest-first-copy", "cache-mounts"], files);
    expect(r.output).toContain("COPY requirements.txt links.html ./\n");
  });

  it("mounts an absolute wheelhouse path under the COPY's destination", () => {
    const text = APP("COPY . /srv/app").replace("--find-links vendor", "--find-links /srv/app/vendor");
    const r = run(text, ["manifest-first-copy", "cache-mounts"]);
    expect(r.output).toContain("RUN --mount=type=bind,source=vendor,target=/srv/app/vendor --mount=type=cache");
  });

  it("is idempotent and gives the same file in either order with cache-mounts", () => {
    const passes = ["manifest-first-copy", "cache-mounts"].map((p) => passById(p)!);
    const options = {
      ...defaultPassOptions,
      enabledPasses: new Set(["manifest-first-copy", "cache-mounts"]),
      buildContext: fakeContext(FILES),
    };
    for (const text of [APP(), APP().replace("RUN pip", "RUN pip install -U pip && pip")]) {
      const forward = optimize(text, { passes, passOptions: options, unsafe: false });
      const backward = optimize(text, { passes: [...passes].reverse(), passOptions: options, unsafe: false });
      expect(backward.output).toBe(forward.output);
      expect(optimize(forward.output, { passes, passOptions: options, unsafe: false }).output).toBe(forward.output);
      expect(forward.output).toContain("--mount=type=bind,source=vendor,target=/app/vendor --mount=type=cache");
    }
  });

  it("puts the mount on the install half of a split RUN only", () => {
    const text = APP().replace("requirements.txt\n", "requirements.txt && python -m compileall -q .\n");
    const r = run(text, ["manifest-first-copy", "cache-mounts"]);
    const runs = parseDockerfile(r.output).instructions.filter((i) => i.keyword === "RUN");
    expect(runs).toHaveLength(2);
    expect(r.output.slice(runs[0]!.start, runs[0]!.end)).toContain("--mount=type=bind,source=vendor");
    expect(r.output.slice(runs[1]!.start, runs[1]!.end)).toBe("RUN python -m compileall -q .");
  });
});

describe("with builder-runner", () => {
  it("the runner's copy of the install RUN drops the wheelhouse mount with pip", () => {
    const text =
      "FROM python:3.11-slim\nRUN --mount=type=cache,target=/var/cache/apt true\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y gcc libpq-dev && pip install --no-index -f vendor -r requirements.txt\nCMD python app.py\n";
    const r = run(text, ["manifest-first-copy", "builder-runner"]);
    const [builder, runner] = r.output.split(/\n\n(?=FROM)/);
    expect(builder).toContain(
      "RUN --mount=type=bind,source=vendor,target=/app/vendor apt-get update && apt-get install -y gcc libpq-dev && pip install --user",
    );
    expect(runner).toContain("RUN apt-get update && apt-get install -y libpq5\n");
    expect(runner).not.toContain("type=bind");
    expect(r.applied.every((a) => a.safety === "safe")).toBe(true);
  });
});
