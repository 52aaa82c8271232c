import { optimize } from "../src/pipeline.js";
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { passById } from "../passes/index.js";
import { copyFacts, coveredBy, canWrite, narrowedCopyText, narrowedSource } from "../passes/lib/builder-runner-copy.js";
import { isToolingUpgrade, parsePipInstall, requirementsRefs } from "../passes/lib/builder-runner-pip.js";
import { dropUnits, unitsOf } from "../passes/lib/builder-runner-shell.js";
import { packageManagerCall } from "../passes/lib/package-managers.js";
import { ALPINE, classifyPackage, DEBIAN_BOOKWORM, DEBIAN_STABLE_NAMES } from "../passes/lib/runtime-packages.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile, type ParsedDockerfile } from "../src/dockerfile.js";
import { applyEdits } from "../src/edits.js";
import { allSimpleCommands } from "../src/shell-facts.js";
import { type BuildContext, defaultPassOptions, type PassOptions } from "../src/types.js";

const pass = passById("builder-runner")!;

function fakeContext(files: Record<string, string>): BuildContext {
  return {
    dockerignore: null,
    exists: (p) => Object.keys(files).some((f) => f === p || f.startsWith(`${p.replace(/\/$/, "")}/`)),
    readText: (p) => files[p] ?? null,
  };
}

function runPass(text: string, options: Partial<PassOptions> = {}) {
  return pass.run(parseDockerfile(text), { ...defaultPassOptions, ...options });
}

function split(text: string, files: Record<string, string> | null = null, unsafe = false) {
  return optimizeDockerfile(text, {
    only: ["builder-runner"],
    unsafe,
    passOptions: files ? { buildContext: fakeContext(files) } : {},
  });
}

function firstCall(script: string) {
  const parsed = parseDockerfile(`FROM x\nRUN ${script}\n`);
  const command = [
    ...allSimpleCommands(
      parsed.instructions[1]!.shell!.parse.ok ? parsed.instructions[1]!.shell!.parse.script.statements : [],
    ),
  ][0]!;
  return packageManagerCall(command)!;
}

// ---------------------------------------------------------------------------

/**
 * The package names apt knows, from one `apt-cache show` of all of them
 * (missing names are skipped silently); null when apt-cache can't run here
 * or has no package lists (run `apt-get update` first).
 */
function aptKnown(names: readonly string[]): Set<string> | null {
  const result = spawnSync("apt-cache", ["show", "--no-all-versions", "libc6", ...names], { encoding: "utf8" });
  if (result.error || result.status !== 0) return null;
  const known = new Set([...result.stdout.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]!));
  return known.has("libc6") ? known : null;
}

function debianRelease(): string {
  try {
    return execFileSync("sh", ["-c", ". /etc/os-release && echo $VERSION_CODENAME"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

const debianRuntime = DEBIAN_BOOKWORM.flatMap((e) => e.runtime.map((name) => ({ build: e.build[0]!, name })));
const known =
  debianRelease() === "bookworm" ? aptKnown([...debianRuntime.map((r) => r.name), ...DEBIAN_STABLE_NAMES]) : null;

describe.skipIf(known === null)("runtime package table against apt-cache (bookworm)", () => {
  it("every Debian runtime package exists in bookworm", () => {
    expect(debianRuntime.filter((r) => !known!.has(r.name)).map((r) => `${r.build} -> ${r.name}`)).toEqual([]);
  });

  it("every long-stable name is also a bookworm package", () => {
    expect([...DEBIAN_STABLE_NAMES].filter((name) => !known!.has(name))).toEqual([]);
  });
});

describe("runtime package table", () => {
  it("has no build name twice and no runtime name that looks like a build package", () => {
    for (const table of [DEBIAN_BOOKWORM, ALPINE]) {
      const names = table.flatMap((e) => e.build);
      expect(new Set(names).size).toBe(names.length);
      for (const e of table) for (const r of e.runtime) expect(r).not.toMatch(/-dev$/);
    }
  });

  it("classifies build, unmapped and other packages", () => {
    expect(classifyPackage("debian", "libpq-dev")).toEqual({ kind: "build", runtime: ["libpq5"] });
    expect(classifyPackage("debian", "libpq-dev=15.*")).toEqual({ kind: "build", runtime: ["libpq5"] });
    expect(classifyPackage("debian", "gcc")).toEqual({ kind: "build", runtime: [] });
    expect(classifyPackage("debian", "gcc-12")).toEqual({ kind: "build", runtime: [] });
    expect(classifyPackage("debian", "python3.11-dev")).toEqual({ kind: "build", runtime: [] });
    expect(classifyPackage("debian", "libcfitsio-dev")).toEqual({ kind: "unmapped-build" });
    expect(classifyPackage("debian", "curl")).toEqual({ kind: "other" });
    // make stays: images use it as a task runner.
    expect(classifyPackage("debian", "make")).toEqual({ kind: "other" });
    expect(classifyPackage("alpine", "postgresql-dev")).toEqual({ kind: "build", runtime: ["libpq"] });
    expect(classifyPackage("alpine", "build-base")).toEqual({ kind: "build", runtime: ["libstdc++"] });
    expect(classifyPackage("alpine", "musl-dev")).toEqual({ kind: "build", runtime: [] });
  });
});

describe("pip install arguments", () => {
  it("finds requirement, constraint and find-links files", () => {
    const p = parsePipInstall(
      firstCall("pip install --no-cache-dir -r requirements.txt -c c.txt --find-links vendor -f https://x/simple"),
    )!;
    expect(p.problem).toBeNull();
    expect(p.requirementFiles).toEqual(["requirements.txt"]);
    expect(p.constraintFiles).toEqual(["c.txt"]);
    expect(p.findLinks).toEqual(["vendor"]);
    expect(p.hasUser).toBe(false);
  });

  it("reads short clusters, = forms and unambiguous prefixes like pip does", () => {
    expect(parsePipInstall(firstCall("pip install -Ur req.txt"))!.requirementFiles).toEqual(["req.txt"]);
    expect(parsePipInstall(firstCall("pip install --requirement=req.txt"))!.requirementFiles).toEqual(["req.txt"]);
    expect(parsePipInstall(firstCall("pip install --no-cache -r r.txt"))!.problem).toBeNull();
    expect(parsePipInstall(firstCall("python3 -m pip install --user x"))!.hasUser).toBe(true);
  });

  it("refuses what --user can't take or what needs the source tree", () => {
    expect(parsePipInstall(firstCall("pip install -e ."))!.problem).toMatch(/editable/);
    expect(parsePipInstall(firstCall("pip install ."))!.problem).toMatch(/local project/);
    expect(parsePipInstall(firstCall("pip install --target /opt/x flask"))!.problem).toMatch(/--target/);
    expect(parsePipInstall(firstCall("pip install --prefix=/install flask"))!.problem).toMatch(/--prefix/);
    expect(parsePipInstall(firstCall("pip install -r $REQS"))!.problem).toMatch(/expands/);
    expect(parsePipInstall(firstCall("pip install --frobnicate x"))!.problem).toMatch(/unknown/);
    expect(parsePipInstall(firstCall("pip install ./wheels/x-1.0-py3-none-any.whl"))!.localArchives).toEqual([
      "./wheels/x-1.0-py3-none-any.whl",
    ]);
  });

  it("tells pip's own tooling upgrade apart from the real install", () => {
    expect(isToolingUpgrade(parsePipInstall(firstCall("pip install -U pip setuptools wheel"))!)).toBe(true);
    expect(isToolingUpgrade(parsePipInstall(firstCall("pip install --upgrade pip==23.1"))!)).toBe(true);
    expect(isToolingUpgrade(parsePipInstall(firstCall("pip install -U pip flask"))!)).toBe(false);
    expect(isToolingUpgrade(parsePipInstall(firstCall("pip install -r requirements.txt"))!)).toBe(false);
  });

  it("reads what a requirements file names", () => {
    const refs = requirementsRefs("-r base.txt\n--constraint=constraints.txt\n-f ./wheels\nflask==2.2 # web\n\n");
    expect(refs).toEqual({
      requirementFiles: ["base.txt"],
      constraintFiles: ["constraints.txt"],
      findLinks: ["./wheels"],
      problem: null,
    });
    expect(requirementsRefs("flask\n-e .\n").problem).toMatch(/editable/);
    expect(requirementsRefs("./libs/foo\n").problem).toMatch(/local path/);
    expect(requirementsRefs("foo @ file:///src/foo\n").problem).toMatch(/local path/);
    expect(requirementsRefs("-e git+https://github.com/x/y.git#egg=y\nrequests\n").problem).toBeNull();
  });
});

describe("COPY facts", () => {
  const copy = (line: string, workdir: string | null = "/app", env = new Map<string, string>()) => {
    const file = parseDockerfile(`FROM x\n${line}\n`);
    return copyFacts(file.text, file.instructions[1]!, workdir, env);
  };

  it("knows which paths a COPY can write", () => {
    expect(canWrite(copy("COPY . ."), "/app/requirements.txt")).toBe(true);
    expect(canWrite(copy("COPY . ."), "/srv/requirements.txt")).toBe(false);
    expect(canWrite(copy("COPY app.py /srv/"), "/app/requirements.txt")).toBe(false);
    expect(canWrite(copy("COPY . $DEST"), "/srv/x")).toBe(true);
    expect(canWrite(copy("COPY . .", null), "/srv/x")).toBe(true);
    expect(canWrite(copy("COPY . $DEST", "/", new Map([["DEST", "/opt/app"]])), "/srv/x")).toBe(false);
  });

  it("narrows a whole-directory COPY to one path, keeping the destination style", () => {
    const c = copy("COPY . .");
    expect(narrowedSource(c, "/app/requirements.txt")).toBe("requirements.txt");
    expect(narrowedCopyText(c, "requirements.txt", "/app/requirements.txt", true)).toBe("COPY requirements.txt .");
    // A directory never goes to `.`: that would spill its contents into WORKDIR.
    expect(narrowedCopyText(c, "vendor", "/app/vendor", false)).toBe("COPY vendor vendor");
    const abs = copy("COPY . /srv/app");
    expect(narrowedSource(abs, "/srv/app/req/prod.txt")).toBe("req/prod.txt");
    expect(narrowedCopyText(abs, "req/prod.txt", "/srv/app/req/prod.txt", true)).toBe(
      "COPY req/prod.txt /srv/app/req/prod.txt",
    );
    expect(narrowedSource(copy("COPY src/ /app/"), "/app/requirements.txt")).toBe("src/requirements.txt");
    // Files and globs are kept as written, not narrowed.
    expect(narrowedSource(copy("COPY requirements.txt ."), "/app/requirements.txt")).toBeNull();
    expect(narrowedSource(copy("COPY req*.txt ./"), "/app/requirements.txt")).toBeNull();
    expect(narrowedSource(copy("COPY --from=deps / /"), "/app/requirements.txt")).toBeNull();
  });

  it("sees when a later COPY . writes the same files again", () => {
    expect(coveredBy(copy("COPY requirements.txt ."), copy("COPY . ."))).toBe(true);
    expect(coveredBy(copy("COPY requirements.txt ."), copy("COPY --chown=app . ."))).toBe(true);
    expect(coveredBy(copy("COPY requirements.txt ."), copy("COPY . /srv"))).toBe(false);
    expect(coveredBy(copy("COPY req/ req/"), copy("COPY . ."))).toBe(true);
    expect(coveredBy(copy("COPY req/ req/"), copy("COPY --chown=app . ."))).toBe(false);
    expect(coveredBy(copy("COPY requirements.txt /app/requirements.txt"), copy("COPY . ."))).toBe(false);
    expect(coveredBy(copy("COPY Pipfile ."), copy("COPY . ."))).toBe(false);
  });
});

describe("taking a RUN apart", () => {
  const cut = (script: string, drop: boolean[]) => {
    const file: ParsedDockerfile = parseDockerfile(`FROM x\nRUN ${script}\n`);
    const node = file.instructions[1]!;
    const units = unitsOf(node.shell!.parse.ok ? node.shell!.parse.script : (null as never))!;
    const edits = dropUnits(node, units, drop);
    return edits === null ? null : applyEdits(file.text, edits).split("\n")[1];
  };

  it("keeps the conditions the kept commands ran under", () => {
    expect(cut("a && b && c", [false, true, false])).toBe("RUN a && c");
    expect(cut("a && b && c", [true, false, false])).toBe("RUN b && c");
    expect(cut("a && b && c", [false, false, true])).toBe("RUN a && b");
    // `a; b && c` must not become `a && c`.
    expect(cut("a; b && c", [false, true, false])).toBe("RUN a; c");
    expect(cut("a && b; c", [false, true, false])).toBe("RUN a; c");
    expect(cut("a && b", [true, true])).toBeNull();
  });

  it("refuses || and & chains", () => {
    const parsed = parseDockerfile("FROM x\nRUN a || b\n").instructions[1]!.shell!.parse;
    expect(parsed.ok && unitsOf(parsed.script)).toBe(null);
  });
});

// ---------------------------------------------------------------------------

const PG_SLIM = `FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "app:app"]
`;

describe("the split with a build context", () => {
  it("narrows COPY . . to the requirements file and is safe once the file is read", () => {
    const r = split(PG_SLIM, { "requirements.txt": "flask==2.2\npsycopg2==2.9.9\n", "app.py": "" });
    expect(r.applied).toHaveLength(1);
    expect(r.applied[0]!.safety).toBe("safe");
    expect(r.output).toContain("COPY requirements.txt .\nRUN pip install --user --no-cache-dir -r requirements.txt\n");
    expect(r.output).toContain(
      "FROM python:3.11-slim AS runner\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5\n",
    );
  });

  it("also copies the files a requirements file names", () => {
    const r = split(PG_SLIM, {
      "requirements.txt": "-r requirements/base.txt\n-c constraints.txt\n",
      "requirements/base.txt": "flask\n",
      "constraints.txt": "flask<3\n",
    });
    expect(r.applied[0]!.safety).toBe("safe");
    expect(r.output).toContain(
      "COPY requirements.txt .\nCOPY requirements/base.txt requirements/base.txt\nCOPY constraints.txt .\n",
    );
  });

  it("refuses when the requirements file installs the project itself", () => {
    const r = split(PG_SLIM, { "requirements.txt": "flask\n-e .\n" });
    expect(r.output).toBe(PG_SLIM);
    expect(r.skips.map((s) => s.reason)).toEqual([expect.stringMatching(/editable mode.*whole source/)]);
  });

  it("is unsafe without the build context, since it can't read requirements.txt", () => {
    const r = split(PG_SLIM);
    expect(r.output).toBe(PG_SLIM);
    expect(r.notApplied[0]!.unsafeBecause).toMatch(/without the build context/);
    expect(split(PG_SLIM, null, true).output).toContain("COPY requirements.txt .");
  });

  it("is unsafe when a requirements file can't be read from the context", () => {
    const r = split(PG_SLIM, { "app.py": "" });
    expect(r.notApplied[0]!.unsafeBecause).toMatch(/could not read \/app\/requirements\.txt/);
  });
});

describe("the split's safety analysis", () => {
  const reasons = (text: string) => runPass(text).skips.map((s) => s.reason);
  const unsafeBecause = (text: string) => runPass(text).changes[0]?.unsafeBecause ?? null;

  it("leaves images without build packages alone, silently", () => {
    const r = runPass("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\nRUN pip install flask\n");
    expect(r).toEqual({ changes: [], skips: [] });
  });

  it("is idempotent: a split file is never split again", () => {
    const once = split("FROM python:3.11-slim\nRUN apt-get install -y gcc libffi-dev\nRUN pip install cffi\n").output;
    expect(parseDockerfile(once).stages).toHaveLength(2);
    expect(runPass(once)).toEqual({ changes: [], skips: [] });
    // A multi-stage file whose final stage still compiles is reported, not split.
    const final = `FROM node:20 AS web\nRUN npm ci\n${"FROM python:3.11-slim\nRUN apt-get install -y gcc libffi-dev\nRUN pip install cffi\n"}`;
    const r = runPass(final);
    expect(r.changes).toEqual([]);
    expect(r.skips.map((s) => s.reason)).toEqual([expect.stringMatching(/already multi-stage/)]);
  });

  it("marks runtime names unsafe on releases where they may differ, and refuses where they do", () => {
    const dev = (base: string, pkg: string) => `FROM ${base}\nRUN apt-get install -y gcc ${pkg}\nRUN pip install x\n`;
    expect(unsafeBecause(dev("python:3.11-slim", "libffi-dev"))).toBeNull();
    // An older release names libffi8 libffi7 (bullseye) or libffi6: the runner's install would fail.
    expect(reasons(dev("python:3.11-slim-bullseye", "libffi-dev"))).toEqual([
      expect.stringMatching(/bookworm's libffi8, which bullseye names differently/),
    ]);
    expect(reasons(dev("python:3.6-slim", "libffi-dev"))).toEqual([expect.stringMatching(/older Debian release/)]);
    expect(reasons(dev("python:3.9.5-slim", "libffi-dev"))).toEqual([expect.stringMatching(/older Debian release/)]);
    expect(reasons(dev("ubuntu:16.04", "python3-pip libffi-dev"))).toEqual([
      expect.stringMatching(/which ubuntu-pre-22.04 names differently/),
    ]);
    expect(unsafeBecause(dev("python:3.11-slim-trixie", "libffi-dev"))).toMatch(/bookworm; this base is trixie/);
    // libpq5 has had that name in every release since jessie.
    expect(unsafeBecause(dev("python:3.9.5-slim", "libpq-dev"))).toBeNull();
    // Ubuntu names some libraries differently at every release (libjpeg-turbo8): refused where the names differ.
    expect(unsafeBecause(dev("ubuntu:22.04", "python3-pip libpq-dev"))).toMatch(/this base is ubuntu/);
    expect(reasons(dev("ubuntu:22.04", "python3-pip libjpeg-dev"))).toEqual([
      expect.stringMatching(/bookworm's libjpeg62-turbo, which ubuntu names differently/),
    ]);
    // Headers and compilers only: no runtime name to get wrong.
    expect(unsafeBecause(dev("ubuntu:22.04", "python3-pip python3-dev"))).toBeNull();
  });

  it("names an unmapped -dev package", () => {
    expect(unsafeBecause("FROM python:3.11-slim\nRUN apt-get install -y libfoo-dev\nRUN pip install foo\n")).toMatch(
      /no runtime package is known for libfoo-dev/,
    );
  });

  it("refuses what the split can't place", () => {
    const base = "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc libpq-dev\n";
    expect(reasons(`${base}RUN pip install -r r.txt && python manage.py collectstatic\n`)).toEqual([
      expect.stringMatching(/after the install; the final image may need its output/),
    ]);
    expect(reasons(`${base}RUN python -m venv /venv && /venv/bin/pip install x\n`)).toEqual([
      expect.stringMatching(/virtualenv/),
    ]);
    expect(reasons(`${base}ENV PIP_TARGET=/deps\nRUN pip install x\n`)).toEqual([expect.stringMatching(/PIP_TARGET/)]);
    expect(reasons(`${base}ENV HOME=/app\nRUN pip install x\n`)).toEqual([expect.stringMatching(/HOME/)]);
    expect(reasons(`${base}USER app\nRUN pip install x\n`)).toEqual([expect.stringMatching(/runs as USER app/)]);
    expect(reasons(`${base}RUN pip install x\nRUN make -C native\n`)).toEqual([expect.stringMatching(/runs make/)]);
    expect(reasons(`${base}RUN pip install x\nRUN apt-get purge -y gcc\n`)).toEqual([
      expect.stringMatching(/removes gcc, which the runner never installs/),
    ]);
    expect(reasons(`${base}RUN pip install x || true\n`)).toEqual([expect.stringMatching(/\|\| or &/)]);
    expect(reasons(`${base}RUN poetry install\nRUN pip install x\n`)).toEqual([expect.stringMatching(/uses poetry/)]);
    expect(reasons(`${base}USER app\nUSER other\nRUN pip install x\n`)).toHaveLength(1);
  });

  it("refuses a RUN that runs after a COPY the builder narrows and may read it", () => {
    const text = `FROM python:3.11-slim
RUN apt-get install -y gcc libpq-dev
WORKDIR /app
COPY . .
RUN python scripts/prepare.py
RUN pip install -r requirements.txt
`;
    expect(reasons(text)).toEqual([expect.stringMatching(/runs after the COPY at line 4/)]);
    // A shell script may also compile: refused before the replay question comes up.
    expect(reasons(text.replace("python scripts/prepare.py", "./scripts/prepare.sh"))).toEqual([
      expect.stringMatching(/runs \.\/scripts\/prepare\.sh \(a script dfopt can't see into\) before the install/),
    ]);
  });

  it("installs for a non-root USER into its home, readable and on PATH", () => {
    const text = `FROM python:3.11-slim
RUN apt-get install -y gcc libpq-dev && useradd -m app
COPY requirements.txt /tmp/
RUN pip install -r /tmp/requirements.txt
USER app
CMD ["python", "-m", "svc"]
`;
    const out = split(text).output;
    expect(out).toContain("ENV PYTHONUSERBASE=/home/app/.local\nRUN pip install --user -r /tmp/requirements.txt\n");
    expect(out).toContain("COPY --from=builder --chown=app /home/app/.local /home/app/.local\n");
    expect(out).toContain("ENV PYTHONUSERBASE=/home/app/.local PATH=/home/app/.local/bin:$PATH\n");
    // A numeric user needs no passwd entry for --chown.
    expect(split(text.replace(" && useradd -m app", "").replace("USER app", "USER 1000:1000")).output).toContain(
      "COPY --from=builder --chown=1000:1000 /home/1000/.local /home/1000/.local",
    );
  });

  it("keeps every comment line", () => {
    const text = `# header
FROM python:3.11-slim
# deps
RUN apt-get update \\
    # compilers
    && apt-get install -y gcc libpq-dev
# label
LABEL a=b
# reqs
COPY requirements.txt .
# install
RUN pip install -r requirements.txt
# tail
CMD ["python"]
`;
    const out = split(text).output;
    for (const line of text.split("\n").filter((l) => l.trim().startsWith("#"))) {
      expect(out.split("\n").map((l) => l.trim())).toContain(line.trim());
    }
  });

  it("runs last: the engine splits only after the other passes settle, in any pass order", () => {
    const text = 'FROM python:3.11-slim\nRUN apt-get install -y gcc libffi-dev\nRUN pip install cffi\nCMD ["python"]\n';
    expect(runPass(text, { enabledPasses: new Set(["builder-runner"]) }).changes).toHaveLength(1);
    const passes = ["builder-runner", "python-env"].map((p) => passById(p)!);
    const run = (order: typeof passes) =>
      optimize(text, {
        passes: order,
        passOptions: { ...defaultPassOptions, enabledPasses: new Set(["builder-runner", "python-env"]) },
        unsafe: false,
      });
    const forward = run(passes);
    expect(forward.applied.map((a) => a.pass)).toContain("builder-runner");
    expect(parseDockerfile(forward.output).stages).toHaveLength(2);
    expect(run([...passes].reverse()).output).toBe(forward.output);
  });
});
