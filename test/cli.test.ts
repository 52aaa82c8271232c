/**
 * The `dfopt` command as users run it: these tests spawn the built binary
 * (`node bin/dfopt.js`, rebuilt first if the sources are newer) and check
 * exit codes, outputs, --write atomicity, stdin, every bad input, and the
 * batch features on generated trees in a temp directory outside the
 * project (real Dockerfiles from the shared corpus are copied there at test
 * time, never into the project).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./support/built.js";
import { sharedCorpusFiles } from "./support/shared-corpus.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const BIN = path.join(ROOT, "bin/dfopt.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function dfopt(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? work,
    input: opts.input ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);

let work = "";
function fresh(name: string, files: Record<string, string | Buffer> = {}): string {
  const dir = path.join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return dir;
}

const OLD = "FROM debian:12\nMAINTAINER Jane <jane@example.com>\nRUN echo hi\n";
const NEW = 'FROM debian:12\nLABEL maintainer="Jane <jane@example.com>"\nRUN echo hi\n';
const CLEAN = "FROM debian:12\nRUN echo hi\n";
const ONLY = ["--only", "maintainer-to-label"];

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(path.join(tmpdir(), "dfopt-cli-"));
}, 180_000);
afterAll(() => {
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
});

describe("single file (issue 3 behaviour)", () => {
  it("dry run: diff on stdout, `file:line  pass  reason` on stderr, exit 0, file untouched", () => {
    const dir = fresh("dry", { Dockerfile: OLD });
    const r = dfopt(["Dockerfile", ...ONLY], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("diff --git a/Dockerfile b/Dockerfile");
    expect(r.stdout).toContain('+LABEL maintainer="Jane <jane@example.com>"');
    expect(r.stderr).toMatch(/^Dockerfile:2  maintainer-to-label  .+\n$/);
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toBe(OLD);
  });

  it("--check exits 1 listing the file, 0 when nothing would change", () => {
    const dir = fresh("check", { Dockerfile: OLD, "clean.Dockerfile": CLEAN });
    const r = dfopt(["--check", "Dockerfile", ...ONLY], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("would change: Dockerfile\n");
    expect(dfopt(["--check", "clean.Dockerfile", ...ONLY], { cwd: dir }).code).toBe(0);
  });

  it("--write rewrites atomically, keeps the mode, writes through symlinks, leaves no temp file", () => {
    const dir = fresh("write", { Dockerfile: OLD, "real.Dockerfile": OLD });
    chmodSync(path.join(dir, "Dockerfile"), 0o751);
    symlinkSync("real.Dockerfile", path.join(dir, "link.Dockerfile"));
    const r = dfopt(["--write", "Dockerfile", "link.Dockerfile", ...ONLY], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toBe(NEW);
    expect(statSync(path.join(dir, "Dockerfile")).mode & 0o7777).toBe(0o751);
    expect(lstatSync(path.join(dir, "link.Dockerfile")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dir, "link.Dockerfile"))).toBe("real.Dockerfile");
    expect(readFileSync(path.join(dir, "real.Dockerfile"), "utf8")).toBe(NEW);
    expect(readdirSync(dir).filter((f) => f.startsWith(".dfopt-tmp"))).toEqual([]);
    // Written output is a fixed point.
    expect(dfopt(["--check", "Dockerfile", ...ONLY], { cwd: dir }).code).toBe(0);
  });

  it("--stdout prints the rewritten file; - reads stdin (diff named by --stdin-path)", () => {
    const dir = fresh("stdout", { Dockerfile: OLD });
    expect(dfopt(["--stdout", "Dockerfile", ...ONLY], { cwd: dir }).stdout).toBe(NEW);
    const viaStdin = dfopt(["--stdout", "-", ...ONLY], { cwd: dir, input: OLD });
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.stdout).toBe(NEW);
    const diff = dfopt(["-", "--stdin-path", "svc/Dockerfile", ...ONLY], { cwd: dir, input: OLD });
    expect(diff.stdout).toContain("--- a/svc/Dockerfile");
    expect(diff.stderr).toMatch(/^svc\/Dockerfile:2  maintainer-to-label/);
    const check = dfopt(["--check", "-", ...ONLY], { cwd: dir, input: OLD });
    expect(check.code).toBe(1);
    const write = dfopt(["--write", "-", ...ONLY], { cwd: dir, input: OLD });
    expect(write.stdout).toBe(NEW);
  });

  it("--json prints every file with its changes and a summary", () => {
    const dir = fresh("json", { Dockerfile: OLD });
    const r = dfopt(["--json", "Dockerfile", ...ONLY], { cwd: dir });
    const json = JSON.parse(r.stdout) as {
      files: { path: string; status: string; changes: unknown[] }[];
      summary: Record<string, number>;
    };
    expect(json.files[0]!.path).toBe("Dockerfile");
    expect(json.files[0]!.status).toBe("changed");
    expect(json.summary).toMatchObject({ files: 1, changed: 1, errors: 0 });
    expect(r.stderr).toBe("");
  });

  it("list, explain, and usage errors", () => {
    const list = dfopt(["list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("| `maintainer-to-label` |");
    const explain = dfopt(["explain", "maintainer-to-label"]);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/^# maintainer-to-label: /);
    for (const args of [
      ["explain", "nope"],
      ["--only", "nope", "Dockerfile"],
      [],
      ["--write", "--check", "Dockerfile"],
      ["--jobs", "0", "Dockerfile"],
      ["--report", "r.txt", "Dockerfile"],
      ["--bogus"],
    ]) {
      const r = dfopt(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/dfopt: |error: /);
      noStackTrace(r.stderr);
    }
  });

  const badInputs: [string, string | Buffer | null, RegExp][] = [
    ["empty", "", /the file is empty/],
    ["binary", Buffer.from([0x46, 0x52, 0x4f, 0x4d, 0x00, 0x01, 0x02]), /binary file/],
    ["no-from", "RUN echo hi\n", /:1: error: .*before the first FROM/],
    ["unknown-instruction", "FROM x\nFOO bar\n", /:2: error: unknown instruction "FOO"/],
    ["heredoc", "FROM x\nRUN <<EOF\necho hi\n", /:2: error: unterminated heredoc/],
    ["escape", "# escape=x\nFROM x\n", /:1: error: invalid escape directive/],
    ["not-utf8", Buffer.from("FROM x\n# caf\xe9\n", "latin1"), /not valid UTF-8/],
    ["huge", `FROM x\n${"# padding\n".repeat(120_000)}`, /over 1 MB/],
    ["missing", null, /no such file or directory/],
  ];
  it.each(badInputs)("bad input %s: exit 2 with a clear message and no stack trace", (name, content, message) => {
    const dir = fresh(`bad-${name}`);
    if (content !== null) writeFileSync(path.join(dir, "Dockerfile"), content);
    const r = dfopt(["Dockerfile"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.startsWith("Dockerfile")).toBe(true);
    noStackTrace(r.stderr);
    if (content !== null) expect(readFileSync(path.join(dir, "Dockerfile"))).toEqual(Buffer.from(content));
  });

  it("a directory with no Dockerfiles is an error for that argument; the others still run", () => {
    const dir = fresh("nodockerfiles", { "docs/README.md": "# hi\n", "app/Dockerfile": OLD });
    const r = dfopt(["docs", "app", ...ONLY], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^docs: error: no Dockerfiles found in this directory/m);
    expect(r.stdout).toContain("a/app/Dockerfile");
  });
});

describe("batches", () => {
  it("discovers Dockerfiles under directories (ignore files, skipped trees), sorted, with a summary table", () => {
    const dir = fresh("discover", {
      ".gitignore": "generated/\n",
      "generated/Dockerfile": OLD,
      "b/Dockerfile": OLD,
      "a/api.Dockerfile": OLD,
      "a/Containerfile": CLEAN,
      "a/node_modules/x/Dockerfile": OLD,
      "vendor/Dockerfile": OLD,
      "a/Dockerfile.md": "# not a Dockerfile",
    });
    const r = dfopt([".", ...ONLY], { cwd: dir });
    expect(r.code).toBe(0);
    const files = [...r.stdout.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1]);
    expect(files).toEqual(["a/api.Dockerfile", "b/Dockerfile"]);
    expect(r.stderr).toMatch(/dfopt dry run: 3 files scanned/);
    expect(r.stderr).toMatch(/changed 2 · unchanged 1 · skipped 0 · errors 0/);
    expect(r.stderr).toMatch(/maintainer-to-label\s+2\s+2\s+0\s+0\s+0/);
  });

  it("output is identical whatever the number of workers", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`svc${i % 7}/f${i}.Dockerfile`] = i % 3 ? OLD.replace("Jane", `Dev${i}`) : CLEAN;
    const dir = fresh("order", files);
    const one = dfopt([".", "-j", "1", ...ONLY], { cwd: dir });
    const three = dfopt([".", "-j", "3", ...ONLY], { cwd: dir });
    expect(three.stdout).toBe(one.stdout);
    expect(three.stdout.length).toBeGreaterThan(0);
  });

  it("--check over a tree exits 1 and lists the files that would change", () => {
    const dir = fresh("check-tree", { "a/Dockerfile": OLD, "b/Dockerfile": CLEAN, "c/Dockerfile": OLD });
    const r = dfopt(["--check", ".", ...ONLY], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("would change: a/Dockerfile\nwould change: c/Dockerfile\n");
    expect(r.stderr).toMatch(/2 files would change; run with --write/);
  });

  it("a huge or binary file found by a walk is skipped with a message (not an error)", () => {
    const dir = fresh("skips", {
      "a/Dockerfile": OLD,
      "big/Dockerfile": `FROM x\n${"#".repeat(1_100_000)}\n`,
      "bin/Dockerfile": Buffer.from([0, 1, 2, 3]),
    });
    const r = dfopt([".", ...ONLY], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^big\/Dockerfile: skipped: is 1\.0 MB; Dockerfiles over 1 MB are skipped/m);
    expect(r.stderr).toMatch(/^bin\/Dockerfile: skipped: is a binary file/m);
    expect(r.stderr).toMatch(/skipped 2/);
  });

  it("unreadable entries don't stop the batch (FIFO named explicitly, dangling symlink)", () => {
    const dir = fresh("unreadable", { "a/Dockerfile": OLD });
    execFileSync("mkfifo", [path.join(dir, "fifo.Dockerfile")]);
    symlinkSync(path.join(dir, "gone"), path.join(dir, "dangling.Dockerfile"));
    const r = dfopt(["fifo.Dockerfile", "dangling.Dockerfile", "a", ...ONLY], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fifo\.Dockerfile: error: is not a regular file/m);
    expect(r.stderr).toMatch(/^dangling\.Dockerfile: error: no such file/m);
    expect(r.stdout).toContain("a/a/Dockerfile");
  });

  it("a worker that dies costs only its file; the batch finishes and exits 2", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 16; i++) files[`f${String(i).padStart(2, "0")}.Dockerfile`] = OLD;
    const dir = fresh("crash", files);
    const r = dfopt([".", "-j", "2", "--check", ...ONLY], {
      cwd: dir,
      env: { DFOPT_TEST_CRASH_FILE: "f05.Dockerfile" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^f05\.Dockerfile: error: internal error \(please report\): a worker thread died/m);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(15);
    noStackTrace(r.stderr);
  });

  it("per-repository config: nearest wins, flags override, a bad config names file and key", () => {
    const dir = fresh("config", {
      "quiet-repo/dfopt.config.json": '{"passes": {"maintainer-to-label": false}}',
      "quiet-repo/Dockerfile": OLD,
      "loud-repo/Dockerfile": OLD,
      "broken-repo/.dfoptrc": "passes:\n  maintainer-to-labl: false\n",
      "broken-repo/Dockerfile": OLD,
      "ignoring-repo/package.json": '{"dfopt": {"ignore": ["legacy/"]}}',
      "ignoring-repo/legacy/Dockerfile": OLD,
      "ignoring-repo/Dockerfile": CLEAN,
    });
    // .dockerignore proposals (every repo here lacks one) are not what this test is about.
    const r = dfopt(["--check", ".", "--skip", "dockerignore"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("would change: loud-repo/Dockerfile\n");
    expect(r.stderr).toMatch(
      /^broken-repo\/Dockerfile: error: invalid configuration: broken-repo\/\.dfoptrc: "passes\.maintainer-to-labl": unknown pass/m,
    );
    expect(r.stderr).not.toMatch(/legacy/); // a searched file that config ignores is only counted
    expect(r.stderr).toMatch(/ignored 1/);
    const named = dfopt(["--check", "ignoring-repo/legacy/Dockerfile"], { cwd: dir });
    expect(named.code).toBe(0);
    expect(named.stderr).toMatch(/^ignoring-repo\/legacy\/Dockerfile: ignored \(by ignoring-repo\/package\.json\)/m);
    const overridden = dfopt(["--check", "quiet-repo", "--enable", "maintainer-to-label", "--skip", "dockerignore"], {
      cwd: dir,
    });
    expect(overridden.stdout).toBe("would change: quiet-repo/Dockerfile\n");
    const noConfig = dfopt(["--check", "quiet-repo", "--no-config", "--skip", "dockerignore"], { cwd: dir });
    expect(noConfig.code).toBe(1);
  });

  it("proposes a .dockerignore as a new-file diff, writes it with --write, and is then a fixed point", () => {
    const dir = fresh("dockerignore", {
      "svc/Dockerfile": 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "/app/app.py"]\n',
      "svc/app.py": "print(1)\n",
      "svc/Dockerfile.dev": "FROM python:3.11-slim\nCOPY . /app\n",
    });
    const dry = dfopt(["svc", "--only", "dockerignore"], { cwd: dir });
    expect(dry.stdout).toMatch(
      /^diff --git a\/svc\/\.dockerignore b\/svc\/\.dockerignore\nnew file mode 100644\n--- \/dev\/null\n\+\+\+ b\/svc\/\.dockerignore\n@@ -0,0 \+1,\d+ @@ dockerignore\n/m,
    );
    // Proposed once per directory, for the Dockerfile Docker uses by default.
    expect(dry.stdout.match(/new file mode/g)).toHaveLength(1);
    expect(dfopt(["svc", "--only", "dockerignore", "--write"], { cwd: dir }).code).toBe(0);
    expect(readFileSync(path.join(dir, "svc/.dockerignore"), "utf8")).toMatch(/^\.git$/m);
    expect(dfopt(["svc", "--only", "dockerignore", "--check"], { cwd: dir }).code).toBe(0);
  });

  it("--format sarif: SARIF 2.1.0 with one result per change and rules from pass metadata", () => {
    const dir = fresh("sarif", { "a/Dockerfile": OLD, "b/Dockerfile": OLD, "c/Dockerfile": "FROM x\nFOO\n" });
    const r = dfopt([".", "--format", "sarif", ...ONLY], { cwd: dir });
    expect(r.code).toBe(2);
    const log = JSON.parse(r.stdout) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string; shortDescription: { text: string } }[] } };
        results: {
          ruleId: string;
          level: string;
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
        invocations: { executionSuccessful: boolean; toolExecutionNotifications: { level: string }[] }[];
      }[];
    };
    expect(log.version).toBe("2.1.0");
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe("dfopt");
    expect(run.tool.driver.rules.map((x) => x.id)).toContain("maintainer-to-label");
    expect(run.results).toHaveLength(2);
    expect(run.results[0]).toMatchObject({ ruleId: "maintainer-to-label", level: "warning" });
    expect(run.results[0]!.locations[0]!.physicalLocation).toMatchObject({
      artifactLocation: { uri: "a/Dockerfile" },
      region: { startLine: 2 },
    });
    expect(run.invocations[0]!.executionSuccessful).toBe(false);
    expect(run.invocations[0]!.toolExecutionNotifications[0]!.level).toBe("error");
  });

  it("--report .md lists repositories, files, changes per pass and errors", () => {
    const dir = fresh("report-md", { "r1/.git/HEAD": "x", "r1/svc/Dockerfile": OLD, "r2/Dockerfile": "FROM x\nFOO\n" });
    const r = dfopt([".", "--report", "out/report.md", ...ONLY], { cwd: dir });
    expect(r.code).toBe(2);
    const md = readFileSync(path.join(dir, "out/report.md"), "utf8");
    expect(md).toContain("# dfopt report (diff)");
    expect(md).toMatch(/\| `maintainer-to-label` \| 1 \| 1 \|/);
    expect(md).toContain("### `r1`");
    expect(md).toContain("#### `r1/svc/Dockerfile` (changed)");
    expect(md).toMatch(/- line 2 `maintainer-to-label` \(safe\): /);
    expect(md).toMatch(/## Errors\n\n- `r2\/Dockerfile:2`: unknown instruction/);
  });
});

/** owner/repo/<name> from the shared corpus, every third repo a git repository. */
function corpusTree(dir: string): number {
  const files = sharedCorpusFiles();
  const repos = new Set<string>();
  for (const f of files) {
    const [owner, repo, ...rest] = f.name.split("__");
    const target = path.join(dir, owner!, repo!, rest.join("__"));
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(path.join(SHARED, f.name), target);
    repos.add(path.join(dir, owner!, repo!));
  }
  [...repos].sort().forEach((r, i) => {
    if (i % 3 === 0) mkdirSync(path.join(r, ".git"), { recursive: true });
  });
  return files.length;
}
const SHARED = path.resolve(ROOT, "../shared/corpus/files");

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

describe.skipIf(sharedCorpusFiles().length < 2000)("a tree of 2,000+ real Dockerfiles", () => {
  let base = "";
  let count = 0;
  beforeAll(() => {
    base = fresh("big");
    count = corpusTree(path.join(base, "pristine", "tree"));
    cpSync(path.join(base, "pristine"), path.join(base, "written"), { recursive: true });
    cpSync(path.join(base, "pristine"), path.join(base, "interrupted"), { recursive: true });
    cpSync(path.join(base, "pristine"), path.join(base, "original"), { recursive: true });
  }, 300_000);
  /** The complete --write run (shared by the tests below, run once). */
  let writeRun: Run | null = null;
  const writeTree = (): Run =>
    (writeRun ??= dfopt(["tree", "--write", "--report", "../r.json", "--patch", "../p.patch"], {
      cwd: path.join(base, "written"),
    }));

  it("--write --report --patch: no crash, the report accounts for every file, the patch gives the same bytes", () => {
    const cwd = path.join(base, "written");
    const r = writeTree();
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(2); // the corpus holds a few invalid Dockerfiles; each is reported
    const report = JSON.parse(readFileSync(path.join(base, "r.json"), "utf8")) as {
      summary: { files: number; changed: number; unchanged: number; skipped: number; errors: number };
      errors: { path: string; message: string }[];
      repositories: { path: string; files: { path: string; status: string; passFailures: unknown[] }[] }[];
    };
    const reported = report.repositories.flatMap((repo) => repo.files.map((f) => f.path)).sort();
    // The tree also holds the .dockerignore files dfopt proposed and wrote.
    const dockerfiles = listFiles(path.join(cwd, "tree")).filter((f) => !f.endsWith(".dockerignore"));
    expect(reported).toEqual(dockerfiles.map((f) => path.join("tree", f)));
    expect(reported).toHaveLength(count);
    const s = report.summary;
    expect(s.changed + s.unchanged + s.skipped + s.errors).toBe(count);
    expect(s.changed).toBeGreaterThan(count / 4);
    expect(report.errors).toHaveLength(s.errors);
    expect(report.errors.every((e) => e.message.length > 10 && !/internal error/.test(e.message))).toBe(true);
    expect(report.repositories.flatMap((x) => x.files).every((f) => f.passFailures.length === 0)).toBe(true);
    expect(report.repositories.some((x) => x.path.split("/").length === 3)).toBe(true);

    // The patch, applied to the untouched tree, gives exactly the written bytes.
    const pristine = path.join(base, "pristine");
    const check = spawnSync("git", ["apply", "--check", "--whitespace=nowarn", path.join(base, "p.patch")], {
      cwd: pristine,
      encoding: "utf8",
    });
    expect(check.stderr).toBe("");
    execFileSync("git", ["apply", "--whitespace=nowarn", path.join(base, "p.patch")], { cwd: pristine });
    const written = listFiles(cwd);
    expect(listFiles(pristine)).toEqual(written);
    for (const f of written) {
      expect(readFileSync(path.join(pristine, f)).equals(readFileSync(path.join(cwd, f))), f).toBe(true);
    }
    // A second run changes nothing (the written tree is a fixed point).
    const again = dfopt(["tree", "--check", "-q"], { cwd });
    expect(again.stdout).toBe("");
  }, 600_000);

  it("Ctrl-C mid-batch: exit 130, every file is the original or the complete output, no temp file remains", async () => {
    writeTree();
    const cwd = path.join(base, "interrupted");
    const child = spawn(process.execPath, [BIN, "tree", "--write"], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let lines = 0;
    let sent = false;
    child.stdout.resume();
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      lines += chunk.split("\n").length - 1;
      // Change lines stream as files finish: interrupt once a good share is done.
      if (!sent && lines > 400) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const pristine = path.join(base, "original");
    const complete = path.join(base, "written");
    let rewritten = 0;
    let untouched = 0;
    for (const f of listFiles(cwd)) {
      expect(f).not.toMatch(/\.dfopt-tmp-/);
      const now = readFileSync(path.join(cwd, f));
      // A proposed .dockerignore didn't exist before: "original" is its absence.
      const original = existsSync(path.join(pristine, f)) ? readFileSync(path.join(pristine, f)) : null;
      const done = readFileSync(path.join(complete, f));
      if (now.equals(done) && (original === null || !now.equals(original))) rewritten++;
      else if (original !== null && now.equals(original)) untouched++;
      else {
        expect.fail(`${f} is neither the original nor the complete output`);
      }
    }
    expect(rewritten).toBeGreaterThan(0);
    expect(untouched).toBeGreaterThan(0);
  }, 600_000);

  it.skipIf(spawnSync("tmux", ["-V"]).status !== 0)(
    "draws a progress bar in a real terminal (tmux) and clears it before the summary",
    async () => {
      const session = `dfopt-test-${process.pid}`;
      const cwd = path.join(base, "written");
      const done = path.join(base, "tmux-done");
      const script = `cd '${cwd}' && node '${BIN}' tree --check -j 1 >/dev/null; echo EXIT=$? > '${done}'; sleep 120`;
      execFileSync("tmux", ["new-session", "-d", "-s", session, "-x", "150", "-y", "30", script]);
      try {
        let bar = "";
        const deadline = Date.now() + 300_000;
        while (!existsSync(done) && Date.now() < deadline) {
          const screen = execFileSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" });
          const m = screen.match(/^dfopt [█░]+ \d+\/\d+ files \d+% \| \d+ files\/s \| ETA \S+ \| .*$/m);
          if (m) bar = m[0];
          await new Promise((r) => setTimeout(r, 150));
        }
        expect(bar).toMatch(new RegExp(`/${count} files`));
        const screen = execFileSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" });
        expect(screen).toMatch(/dfopt check: \d+ files scanned/);
        // The bar was cleared: it is not on the line above the summary.
        expect(screen).not.toMatch(/░.*\n\s*\ndfopt check/);
      } finally {
        spawnSync("tmux", ["kill-session", "-t", session]);
      }
    },
    600_000,
  );
});
