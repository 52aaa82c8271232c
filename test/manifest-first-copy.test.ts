import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { allPasses } from "../passes/index.js";
import { dockerignoreMatcher, readDockerignore } from "../passes/lib/dockerignore.js";
import {
  checkComposerJson,
  checkGemfile,
  checkGoMod,
  checkPackageJson,
  checkPipfile,
  checkPyprojectPoetry,
  checkPyprojectUv,
  checkRequirements,
  classifyInstall,
  isLocalPipRequirement,
  packageLocation,
} from "../passes/lib/manifests.js";
import { manifestFirstCopy } from "../passes/manifest-first-copy.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { optimize } from "../src/pipeline.js";
import { selectPasses } from "../src/select.js";
import type { SimpleCommand } from "../src/shell.js";
import { type BuildContext, defaultPassOptions } from "../src/types.js";
import { CORPUS_DIR, folderContext, loadCases } from "./support/cases.js";

/** A build context from a map of files (directories are implied by their files). */
function fakeContext(files: Record<string, string>): BuildContext {
  return {
    dockerignore: files[".dockerignore"] ?? null,
    exists: (p) => Object.keys(files).some((f) => f === p || f.startsWith(`${p}/`)),
    readText: (p) => files[p] ?? null,
  };
}

function run(text: string, files: Record<string, string> | null, unsafe = false) {
  return optimizeDockerfile(text, {
    only: ["manifest-first-copy"],
    unsafe,
    passOptions: { buildContext: files ? fakeContext(files) : null },
  });
}

function passResult(text: string, files: Record<string, string> | null) {
  return manifestFirstCopy.run(parseDockerfile(text), {
    ...defaultPassOptions,
    enabledPasses: new Set(["manifest-first-copy"]),
    buildContext: files ? fakeContext(files) : null,
  });
}

function command(text: string): SimpleCommand {
  const file = parseDockerfile(`FROM x\nRUN ${text}\n`);
  const script = file.instructions[1]!.shell!.parse;
  if (!script.ok) throw new Error(script.error);
  const c = script.script.statements[0]!.andOr.pipelines[0]!.commands[0]!;
  if (c.kind !== "simple") throw new Error("not simple");
  return c;
}

const NPM = `FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
CMD ["node", "index.js"]
`;

describe(".dockerignore matching (moby/patternmatcher semantics)", () => {
  it("anchors patterns at the context root, unlike .gitignore", () => {
    const m = dockerignoreMatcher("*.txt\n");
    expect(m.ignores("requirements.txt")).toBe(true);
    expect(m.ignores("requirements/prod.txt")).toBe(false);
  });

  it("excludes everything below an excluded directory", () => {
    const m = dockerignoreMatcher("node_modules\n");
    expect(m.ignores("node_modules")).toBe(true);
    expect(m.ignores("node_modules/left-pad/index.js")).toBe(true);
    expect(m.ignores("web/node_modules")).toBe(false);
  });

  it("matches any depth with **", () => {
    const m = dockerignoreMatcher("**/node_modules\n**/*.pyc\n");
    expect(m.ignores("node_modules")).toBe(true);
    expect(m.ignores("web/node_modules")).toBe(true);
    expect(m.ignores("a/b/c.pyc")).toBe(true);
  });

  it("applies the last matching pattern, so ! re-includes", () => {
    const m = dockerignoreMatcher("*\n!package.json\n!src\n");
    expect(m.ignores("package.json")).toBe(false);
    expect(m.ignores("package-lock.json")).toBe(true);
    expect(m.ignores("src/index.js")).toBe(false);
  });

  it("reads comments, blank lines, leading slashes and a BOM like Docker", () => {
    expect(readDockerignore("\uFEFF# comment\n\n /dist/ \n!/keep\n ./a/../b\n")).toEqual(["dist", "!keep", "b"]);
    const m = dockerignoreMatcher("/dist\n  # not a comment once indented? it is a pattern\n");
    expect(m.ignores("dist/app.js")).toBe(true);
  });

  it("knows when a negation may re-include something below an excluded directory", () => {
    const m = dockerignoreMatcher("node_modules\n!node_modules/keep\n.venv\n");
    expect(m.mayReincludeUnder("node_modules")).toBe(true);
    expect(m.mayReincludeUnder(".venv")).toBe(false);
  });
});

describe("manifest content checks", () => {
  it("collects nested requirement files and refuses local paths", () => {
    expect(checkRequirements("-r base.txt\n--constraint=constraints.txt\nflask==3.0 # web\n", "r.txt")).toEqual({
      ok: true,
      references: ["base.txt", "constraints.txt"],
      packageDirs: [],
    });
    expect(checkRequirements("flask\n-e .\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("./libs/common\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("mypkg @ file:///src/mypkg\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("-e git+https://github.com/x/y.git#egg=y\nreq @ https://x/y.whl\n", "r.txt").ok).toBe(
      true,
    );
    expect(checkRequirements("--find-links ./wheels\nfoo\n", "r.txt")).toEqual({
      ok: true,
      references: [],
      packageDirs: [{ path: "wheels", nearFile: true }],
    });
  });

  it("reads find-links and index locations in requirements files", () => {
    const verdict = checkRequirements(
      "-f=/opt/wheels\n--index-url file:///srv/simple\n--extra-index-url https://pypi.org/simple\n-f https://x/links.html\nflask\n",
      "r.txt",
    );
    expect(verdict).toEqual({
      ok: true,
      references: [],
      packageDirs: [
        { path: "/opt/wheels", nearFile: true },
        { path: "/srv/simple", nearFile: false },
      ],
    });
    expect(checkRequirements("-f ${WHEELS}\nflask\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("-i file:relative/simple\nflask\n", "r.txt").ok).toBe(false);
  });

  it("tells local package locations from remote ones", () => {
    expect(packageLocation("vendor")).toEqual({ kind: "local", path: "vendor" });
    expect(packageLocation("./vendor/")).toEqual({ kind: "local", path: "vendor" });
    expect(packageLocation("/app/vendor")).toEqual({ kind: "local", path: "/app/vendor" });
    expect(packageLocation("file:///app/my%20wheels")).toEqual({ kind: "local", path: "/app/my wheels" });
    expect(packageLocation("file://localhost/srv/simple")).toEqual({ kind: "local", path: "/srv/simple" });
    for (const remote of ["https://pypi.org/simple", "http://mirror:8080/simple/", "https://x/torch_stable.html"]) {
      expect(packageLocation(remote).kind, remote).toBe("remote");
    }
    for (const unknown of [null, "", "file:vendor", "~/wheels", "$WHEELS"]) {
      expect(packageLocation(unknown).kind, String(unknown)).toBe("unknown");
    }
  });

  it("refuses pyproject/Pipfile package sources in local directories", () => {
    expect(checkPyprojectUv('[tool.uv]\nfind-links = ["vendor"]\n').ok).toBe(false);
    expect(checkPyprojectUv('[tool.uv]\nfind-links = ["https://x/links.html"]\n').ok).toBe(true);
    expect(checkPyprojectUv('[[tool.uv.index]]\nname = "local"\nurl = "./simple"\n').ok).toBe(false);
    expect(checkPyprojectPoetry('[[tool.poetry.source]]\nname = "x"\nurl = "file:///app/simple"\n').ok).toBe(false);
    expect(checkPipfile('[[source]]\nurl = "file:///wheels"\nname = "w"\n').ok).toBe(false);
    expect(checkPipfile('[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n').ok).toBe(true);
  });

  it("tells local pip requirements from index names", () => {
    for (const local of [".", "./pkg", "../x", "/abs", "dist/pkg-1.0.whl", "pkg.tar.gz", "file:///x"]) {
      expect(isLocalPipRequirement(local), local).toBe(true);
    }
    for (const remote of ["flask", "uvicorn[standard]>=0.20", "git+https://x/y", "https://x/y.whl", "Django==4.2"]) {
      expect(isLocalPipRequirement(remote), remote).toBe(false);
    }
  });

  it("refuses package.json install scripts, workspaces and local dependencies", () => {
    const none = new Set<string>();
    expect(checkPackageJson('{"scripts":{"start":"node .","build":"tsc"}}', none).ok).toBe(true);
    expect(checkPackageJson('{"scripts":{"postinstall":"node scripts/x.js"}}', none).ok).toBe(false);
    expect(checkPackageJson('{"scripts":{"prepare":"husky install"}}', new Set(["--ignore-scripts"])).ok).toBe(true);
    expect(checkPackageJson('{"workspaces":["packages/*"]}', none).ok).toBe(false);
    expect(checkPackageJson('{"dependencies":{"shared":"file:../shared"}}', none).ok).toBe(false);
    expect(checkPackageJson("{not json", none).ok).toBe(false);
  });

  it("refuses go.mod replaces with local directories", () => {
    expect(checkGoMod("module x\nreplace example.com/a => example.com/b v1.0.0\n").ok).toBe(true);
    expect(checkGoMod("module x\nreplace example.com/a => ../a\n").ok).toBe(false);
    expect(checkGoMod("module x\nreplace (\n\texample.com/a v1 => ./third_party/a\n)\n").ok).toBe(false);
  });

  it("refuses Gemfiles that read the sources and copies .ruby-version along", () => {
    expect(checkGemfile('source "https://rubygems.org"\ngemspec\n').ok).toBe(false);
    expect(checkGemfile('gem "x", path: "vendor/x"\n').ok).toBe(false);
    expect(checkGemfile('ruby File.read(".ruby-version").strip\ngem "rails"\n')).toEqual({
      ok: true,
      references: [".ruby-version"],
    });
  });

  it("refuses path dependencies in pyproject.toml and composer scripts", () => {
    expect(checkPyprojectPoetry('[tool.poetry.dependencies]\nlib = { path = "../lib", develop = true }\n').ok).toBe(
      false,
    );
    expect(checkPyprojectPoetry('[tool.poetry.dependencies]\npython = "^3.12"\n').ok).toBe(true);
    expect(checkPyprojectUv("[tool.uv.workspace]\nmembers = []\n").ok).toBe(false);
    expect(
      checkComposerJson('{"scripts":{"post-autoload-dump":["@php artisan package:discover"]}}', new Set()).ok,
    ).toBe(false);
    expect(checkComposerJson('{"autoload":{"psr-4":{"App\\\\":"app/"}}}', new Set()).ok).toBe(true);
    expect(checkComposerJson('{"autoload":{"classmap":["database"]}}', new Set(["--no-autoloader"])).ok).toBe(true);
  });
});

describe("install command recognition", () => {
  it("finds the manifests a command names, in any flag spelling", () => {
    for (const text of [
      "pip install -r req/prod.txt",
      "pip install --requirement=req/prod.txt",
      "pip3 install -Ur req/prod.txt",
    ]) {
      const c = classifyInstall(command(text), new Map());
      expect(c.kind, text).toBe("deps");
      if (c.kind === "deps") expect(c.install.manifests.map((m) => m.path)).toEqual(["req/prod.txt"]);
    }
  });

  it("separates deps-only installs from ones that need the project", () => {
    expect(classifyInstall(command("pip install ."), new Map()).kind).toBe("source");
    expect(classifyInstall(command("pip install -e ."), new Map()).kind).toBe("source");
    expect(classifyInstall(command("python setup.py install"), new Map()).kind).toBe("source");
    expect(classifyInstall(command("npm install express"), new Map()).kind).toBe("source");
    expect(classifyInstall(command("cargo fetch"), new Map()).kind).toBe("source");
    expect(classifyInstall(command("poetry install"), new Map()).kind).toBe("variant");
    expect(classifyInstall(command("poetry install --no-root"), new Map()).kind).toBe("deps");
    expect(classifyInstall(command("uv sync --frozen"), new Map()).kind).toBe("variant");
    expect(classifyInstall(command("go mod download"), new Map()).kind).toBe("deps");
    expect(classifyInstall(command("pip install flask gunicorn"), new Map()).kind).toBe("free");
    expect(classifyInstall(command("npm install -g pm2"), new Map()).kind).toBe("free");
    expect(classifyInstall(command("pip install -r r.txt"), new Map([["PIP_CONSTRAINT", "c.txt"]])).kind).toBe(
      "source",
    );
  });

  it("reads local find-links and index locations as package directories", () => {
    const dirs = (text: string, env: [string, string][] = []) => {
      const c = classifyInstall(command(text), new Map(env));
      return c.kind === "deps" ? { dirs: c.install.packageDirs, uncertain: c.install.uncertain } : c.kind;
    };
    expect(dirs("pip install --no-index --find-links vendor -r r.txt")).toEqual({ dirs: ["vendor"], uncertain: [] });
    expect(dirs("pip install --find-links=./vendor/ -r r.txt")).toEqual({ dirs: ["vendor"], uncertain: [] });
    expect(dirs("pip install -fvendor -r r.txt")).toEqual({ dirs: ["vendor"], uncertain: [] });
    expect(dirs("pip install -f file:///app/vendor -r r.txt")).toEqual({ dirs: ["/app/vendor"], uncertain: [] });
    expect(dirs("pip install -i file:///srv/simple --extra-index-url ./idx -r r.txt")).toEqual({
      dirs: ["/srv/simple", "idx"],
      uncertain: [],
    });
    expect(dirs("pip install -f https://x/links.html -i https://pypi.org/simple -r r.txt")).toEqual({
      dirs: [],
      uncertain: [],
    });
    expect(dirs("pip install -r r.txt", [["PIP_FIND_LINKS", "/wheels vendor"]])).toEqual({
      dirs: ["/wheels", "vendor"],
      uncertain: [],
    });
    expect(dirs("uv pip install --index local=./simple -r r.txt")).toEqual({ dirs: ["simple"], uncertain: [] });
    expect(dirs("uv pip install -r r.txt", [["PIP_FIND_LINKS", "vendor"]])).toEqual({ dirs: [], uncertain: [] });
    expect(dirs('pip install -i "$INDEX_URL" -r r.txt')).toEqual({
      dirs: [],
      uncertain: ["the install's -i expands a variable"],
    });
    expect(dirs("pip install -r r.txt", [["PIP_INDEX_URL", "${MIRROR}/simple"]])).toEqual({
      dirs: [],
      uncertain: ["the install's PIP_INDEX_URL expands a variable"],
    });
    // A find-links path from a variable is often a local directory: left alone.
    expect(dirs('pip install -f "$WHEELS" -r r.txt')).toBe("source");
    expect(dirs("pip install -f ~/wheels -r r.txt")).toBe("source");
    // Without a manifest, a wheelhouse still makes it an install that reads the context.
    expect(dirs("pip install --no-index -f vendor gunicorn")).toEqual({ dirs: ["vendor"], uncertain: [] });
  });
});

describe("manifest-first-copy with a known build context", () => {
  it("names exactly the lockfile and config the context has (safe)", () => {
    const r = run(NPM, {
      "package.json": "{}",
      "package-lock.json": "{}",
      ".npmrc": "registry=https://r.example/",
      ".dockerignore": "node_modules\n",
      "index.js": "",
    });
    expect(r.output).toBe(`FROM node:20
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
CMD ["node", "index.js"]
`);
    expect(r.applied.map((c) => c.safety)).toEqual(["safe"]);
  });

  it("never names a lockfile the context lacks or .dockerignore excludes", () => {
    const missing = run(NPM, { "package.json": "{}" });
    expect(missing.output).toContain("COPY package.json .\nRUN npm ci\nCOPY . .\n");
    const ignored = run(NPM, {
      "package.json": "{}",
      "package-lock.json": "{}",
      ".dockerignore": "package-lock.json\n",
    });
    expect(ignored.output).toContain("COPY package.json .\n");
  });

  it("refuses when .dockerignore excludes the manifest the install reads", () => {
    const r = passResult(NPM, { "package.json": "{}", ".dockerignore": "*.json\n" });
    expect(r.changes).toEqual([]);
    expect(r.skips.map((s) => s.reason)).toEqual([
      ".dockerignore excludes package.json, so COPY package.json would fail",
    ]);
  });

  it("treats a maybe-re-included file as excluded for COPY, but as present when it would block", () => {
    // `!**/keep` could re-include something: not enough to name package.json in a COPY.
    const r = passResult(NPM, { "package.json": "{}", ".dockerignore": "package.json\n!**/keep\n" });
    expect(r.skips[0]!.reason).toMatch(/excludes package\.json/);
    const yarn = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install\n";
    const excluded = run(yarn, { "package.json": "{}", ".yarn/cache/x.zip": "", ".dockerignore": ".yarn\n" });
    expect(excluded.output).toContain("COPY package.json .\nRUN yarn install");
    const partly = passResult(yarn, {
      "package.json": "{}",
      ".yarn/cache/x.zip": "",
      ".dockerignore": ".yarn\n!.yarn/releases\n",
    });
    expect(partly.skips[0]!.reason).toMatch(/may re-include parts of it/);
  });

  it("refuses when the named requirements file is not in the context", () => {
    const text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    const r = passResult(text, { "app.py": "" });
    expect(r.changes).toEqual([]);
    expect(r.skips[0]!.reason).toMatch(/requirements\.txt is not in the build context/);
  });

  it("copies nested -r files too and refuses requirements that install the project", () => {
    const text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n";
    const ok = run(text, { "requirements/prod.txt": "-r base.txt\ngunicorn\n", "requirements/base.txt": "django\n" });
    expect(ok.output).toContain("COPY requirements/prod.txt requirements/base.txt requirements/\n");
    expect(ok.applied[0]!.safety).toBe("safe");
    const editable = passResult(text, { "requirements/prod.txt": "-e .\n" });
    expect(editable.changes).toEqual([]);
    expect(editable.skips[0]!.reason).toMatch(/editable mode/);
    const missingNested = passResult(text, { "requirements/prod.txt": "-r base.txt\n" });
    expect(missingNested.skips[0]!.reason).toMatch(/references base\.txt, which is missing/);
  });

  it("refuses when the context has node_modules the full COPY would copy over the installed ones", () => {
    const files = { "package.json": "{}", "node_modules/x/index.js": "" };
    expect(passResult(NPM, files).skips[0]!.reason).toMatch(/has node_modules.*add it to \.dockerignore/);
    expect(run(NPM, { ...files, ".dockerignore": "node_modules\n" }).applied).toHaveLength(1);
    const reincluded = passResult(NPM, { ...files, ".dockerignore": "node_modules\n!node_modules/x\n" });
    expect(reincluded.changes).toEqual([]);
  });

  it("refuses manifests whose contents need the sources", () => {
    expect(passResult(NPM, { "package.json": '{"scripts":{"postinstall":"node build.js"}}' }).skips[0]!.reason).toMatch(
      /postinstall/,
    );
    const go = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\n";
    expect(passResult(go, { "go.mod": "module x\nreplace a => ./a\n" }).skips[0]!.reason).toMatch(/local directory/);
    expect(passResult(go, { "go.mod": "module x\n", "go.work": "go 1.22\n" }).skips[0]!.reason).toMatch(/workspace/);
    const pnpm = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n";
    expect(passResult(pnpm, { "package.json": "{}", "pnpm-workspace.yaml": "" }).skips[0]!.reason).toMatch(/workspace/);
    expect(passResult(NPM, { "package.json": "{}", "binding.gyp": "{}" }).skips[0]!.reason).toMatch(/native addon/);
  });

  it("marks the change unsafe when a manifest can't be read", () => {
    const r = passResult(NPM, { "package.json": "{}" });
    const ctx = fakeContext({ "package.json": "{}" });
    const unreadable = manifestFirstCopy.run(parseDockerfile(NPM), {
      ...defaultPassOptions,
      buildContext: { ...ctx, readText: () => null },
    });
    expect(r.changes).toHaveLength(1);
    expect(unreadable.changes[0]!.safety).toBe("unsafe");
    expect(unreadable.changes[0]!.unsafeBecause).toMatch(/could not read package\.json/);
  });

  it("copies a Yarn 2+ .yarn directory with its own COPY", () => {
    const text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\n";
    const r = run(text, {
      "package.json": "{}",
      "yarn.lock": "",
      ".yarnrc.yml": "yarnPath: .yarn/releases/yarn-4.1.0.cjs\n",
      ".yarn/releases/yarn-4.1.0.cjs": "",
    });
    expect(r.output).toContain("COPY package.json yarn.lock .yarnrc.yml ./\nCOPY .yarn/ .yarn/\nRUN yarn install");
  });

  it("is a fixed point: a second run changes nothing", () => {
    const files = { "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.12"\n', "poetry.lock": "" };
    const text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN poetry install --only main\n";
    const first = run(text, files);
    expect(first.output).toBe(
      "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --only main --no-root\nCOPY . .\nRUN poetry install --only main\n",
    );
    expect(run(first.output, files).output).toBe(first.output);
    expect(run(first.output, files).skips).toEqual([]);
  });
});

describe("manifest-first-copy with local package directories (offline builds)", () => {
  const PIP = (flags: string, copy = "COPY . .") =>
    `FROM python:3.11-slim\nWORKDIR /app\n${copy}\nRUN pip install --no-index ${flags} -r requirements.txt\nCMD ["python", "app.py"]\n`;
  const files = { "requirements.txt": "flask\n", "vendor/flask-3.0.0-py3-none-any.whl": "", "app.py": "" };

  it("copies the wheelhouse's contents into the same directory before the install (safe)", () => {
    const r = run(PIP("--find-links vendor"), files);
    expect(r.output).toBe(
      'FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY vendor/ vendor/\nRUN pip install --no-index --find-links vendor -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n',
    );
    expect(r.applied.map((c) => c.safety)).toEqual(["safe"]);
    expect(run(r.output, files).output).toBe(r.output);
    expect(run(r.output, files).skips).toEqual([]);
  });

  it("maps absolute and file:// locations under the destination back to the context", () => {
    const r = run(PIP("-f file:///app/vendor", "COPY src/ /app/"), {
      "src/requirements.txt": "flask\n",
      "src/vendor/flask.whl": "",
    });
    expect(r.output).toContain("COPY src/requirements.txt /app/\nCOPY src/vendor/ /app/vendor/\nRUN pip install");
    expect(r.applied[0]!.safety).toBe("safe");
  });

  it("needs nothing for a wheelhouse outside the copied tree or a remote index", () => {
    for (const flags of ["-f /wheels", "-f https://x/links.html", "-i https://mirror/simple"]) {
      const r = run(PIP(flags), files);
      expect(r.output, flags).toContain("COPY requirements.txt .\nRUN pip install");
      expect(r.applied[0]!.safety, flags).toBe("safe");
    }
  });

  it("refuses a wheelhouse missing from the context, excluded by .dockerignore, or holding the whole tree", () => {
    const reason = (text: string, ctx: Record<string, string>) => passResult(text, ctx).skips[0]?.reason;
    expect(reason(PIP("-f vendor"), { "requirements.txt": "flask\n" })).toMatch(
      /vendor, which is not in the build context/,
    );
    expect(reason(PIP("-f vendor"), { ...files, ".dockerignore": "vendor\n" })).toMatch(
      /vendor, which \.dockerignore excludes, so COPY vendor\/ would fail/,
    );
    expect(reason(PIP("-f vendor"), { ...files, ".dockerignore": "vendor\n!vendor/flask*\n" })).toMatch(
      /may re-include/,
    );
    expect(reason(PIP("-f ."), files)).toMatch(/reads packages from \/app, the whole tree/);
    expect(reason(PIP("-f /"), files)).toMatch(/reads packages from \/, which holds the tree/);
    expect(passResult(PIP("-f vendor"), { ...files, ".dockerignore": "vendor/*.tar.gz\n" }).changes).toHaveLength(1);
  });

  it("copies an HTML page of links as a file", () => {
    const r = run(PIP("-f links.html"), { ...files, "links.html": "<a href='x.whl'>x</a>" });
    expect(r.output).toContain("COPY requirements.txt links.html ./\n");
  });

  it("takes find-links from requirements files, next to the file first like pip", () => {
    const text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n";
    const near = run(text, { "requirements/prod.txt": "--find-links ../vendor\nflask\n", "vendor/a.whl": "" });
    expect(near.output).toContain("COPY requirements/prod.txt requirements/\nCOPY vendor/ vendor/\nRUN pip");
    // `wheels` isn't next to the file: pip falls back to the working directory.
    const fallback = run(text, { "requirements/prod.txt": "-f wheels\nflask\n", "wheels/a.whl": "" });
    expect(fallback.output).toContain("COPY wheels/ wheels/\nRUN pip");
    expect(fallback.applied[0]!.safety).toBe("safe");
    const index = run(text, {
      "requirements/prod.txt": "--index-url file:///app/simple\nflask\n",
      "simple/flask/x": "",
    });
    expect(index.output).toContain("COPY simple/ simple/\nRUN pip");
    const missing = passResult(text, { "requirements/prod.txt": "-f wheels\nflask\n" });
    expect(missing.skips[0]!.reason).toMatch(
      /a requirements file reads packages from wheels, which is not in the build context/,
    );
  });

  it("copies the wheelhouse of an install that names no manifest", () => {
    const text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-index -f vendor gunicorn\n";
    const r = run(text, files);
    expect(r.output).toBe(
      "FROM python:3.11-slim\nWORKDIR /app\nCOPY vendor/ vendor/\nRUN pip install --no-index -f vendor gunicorn\nCOPY . .\n",
    );
    expect(run(r.output, files).output).toBe(r.output);
  });

  it("marks an index URL from a variable unsafe: it could be a local directory", () => {
    const r = passResult(PIP('-i "$INDEX_URL"'), files);
    expect(r.changes[0]!.safety).toBe("unsafe");
    expect(r.changes[0]!.unsafeBecause).toMatch(/-i expands a variable/);
  });

  it("never lets a chmod between the COPY and the install change the wheelhouse", () => {
    const text =
      "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN chmod 600 vendor/a.whl\nENV X=1\nRUN pip install --no-index -f vendor -r requirements.txt\n";
    const r = passResult(text, files);
    expect(r.changes).toEqual([]);
    expect(r.skips[0]!.reason).toMatch(/which the install reads packages from/);
  });

  it("moves the full COPY past the source-free RUNs that follow the install, not past a project around it", () => {
    const text = `${PIP("-f vendor")}RUN rm -rf /var/lib/apt/lists/*\n`.replace('CMD ["python", "app.py"]\n', "");
    expect(run(text, files).output).toMatch(
      /RUN pip install[^\n]*\nRUN rm -rf \/var\/lib\/apt\/lists\/\*\nCOPY \. \.\n$/,
    );
    const around =
      "FROM node:20\nCOPY package.json /tmp/\nCOPY lib /tmp/lib\nRUN cd /tmp/lib && npm ci\nRUN cd /tmp && npm install\n";
    const r = run(around, { "lib/package.json": "{}", "lib/package-lock.json": "{}", "package.json": "{}" });
    expect(r.output).toContain("RUN cd /tmp/lib && npm ci\nCOPY lib /tmp/lib\nRUN cd /tmp && npm install\n");
  });
});

describe("splitting a RUN that chain-runs joined", () => {
  it("keeps the comment lines between the moved and the kept commands, above the RUN that stays", () => {
    const text =
      "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci \\\n    && npm install -g grunt-cli \\\n# build the site\n    && grunt build\n";
    const r = run(text, { "package.json": "{}", "package-lock.json": "{}" });
    expect(r.output).toBe(
      "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci \\\n    && npm install -g grunt-cli\nCOPY . .\n# build the site\nRUN grunt build\n",
    );
  });
});

describe("corpus fixtures with a context/ folder, run against that context", () => {
  for (const c of loadCases().filter((k) => k.name.startsWith("manifest-first-copy-"))) {
    const dir = path.join(CORPUS_DIR, c.name, "context");
    if (!existsSync(dir)) continue;
    it(`${c.name}: safe with the context, no --unsafe needed`, () => {
      // A fixture may name passes to compose with (cache-mounts, for the wheelhouse bind mount).
      const only = c.options.only ?? ["manifest-first-copy"];
      const options = { only, passOptions: { buildContext: folderContext(dir) } };
      const result = optimizeDockerfile(c.input, options);
      expect(result.output).toBe(c.expected);
      expect(result.applied.every((a) => a.safety === "safe")).toBe(true);
      expect(optimizeDockerfile(result.output, options).output).toBe(result.output);
      if (c.expected === c.input) expect(result.skips.some((s) => s.pass === "manifest-first-copy")).toBe(true);
    });
  }
});

describe("manifest-first-copy safety without a context", () => {
  it("proposes only unsafe changes, applied with --unsafe", () => {
    const text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    expect(run(text, null).output).toBe(text);
    expect(run(text, null).notApplied[0]!.why).toBe("unsafe");
    expect(run(text, null, true).output).toContain("COPY requirements.txt .\nRUN pip install");
  });

  it("copies a wheelhouse the full COPY provides, but can't check it: unsafe", () => {
    const text =
      "FROM python:3.12\nCOPY . /app\nWORKDIR /app\nRUN pip install --no-index -f /app/wheels -r requirements.txt\n";
    const r = passResult(text, null);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]!.safety).toBe("unsafe");
    expect(r.changes[0]!.unsafeBecause).toMatch(/package directory wheels is in the context/);
    expect(run(text, null, true).output).toBe(
      "FROM python:3.12\nCOPY requirements.txt /app/\nCOPY wheels/ /app/wheels/\nWORKDIR /app\nRUN pip install --no-index -f /app/wheels -r requirements.txt\nCOPY . /app\n",
    );
  });

  it("refuses when something between the COPY and the install writes into the copied tree", () => {
    const text =
      "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /app/static && ./collect.sh\nENV X=1\nRUN pip install -r requirements.txt\n";
    expect(passResult(text, null).changes).toEqual([]);
  });

  it("keeps a move inside the RUN's own commands: writes into the tree block it", () => {
    const text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt && rm -rf /app/tests\n";
    const r = passResult(text, null);
    expect(r.changes).toEqual([]);
    expect(r.skips[0]!.reason).toMatch(/writes \/app\/tests/);
  });

  it("refuses a full COPY into /", () => {
    const r = passResult("FROM python:3.12\nCOPY . /\nRUN pip install -r /requirements.txt\n", null);
    expect(r.changes).toEqual([]);
    expect(r.skips[0]!.reason).toMatch(/into \//);
  });

  it("can't tell where the base image's WORKDIR is, so doesn't guess", () => {
    const r = passResult("FROM python:3.12\nCOPY . /app\nRUN pip install -r requirements.txt\n", null);
    expect(r.changes).toEqual([]);
    expect(r.skips[0]!.reason).toMatch(/WORKDIR is unknown/);
  });
});

describe("composition with the other default passes", () => {
  function shuffled<T>(items: readonly T[], seed: number): T[] {
    const out = [...items];
    let state = seed;
    for (let i = out.length - 1; i > 0; i--) {
      state = (state * 1103515245 + 12345) % 2147483648;
      const j = state % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  const cases: [string, Record<string, string>][] = [
    [
      "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nRUN npm prune --omit=dev\n",
      { "package.json": '{"scripts":{"build":"tsc"}}', "package-lock.json": "{}" },
    ],
    [
      "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download && \\\n    go build -o /app .\n",
      { "go.mod": "module x\n", "go.sum": "" },
    ],
    [
      "FROM python:3.12\nENV POETRY_VIRTUALENVS_CREATE=false\nCOPY . /app\nWORKDIR /app\nRUN pip install poetry && poetry install\nRUN python -m compileall .\n",
      { "pyproject.toml": "[tool.poetry]\n", "poetry.lock": "" },
    ],
    [
      // bench/apps/inventory-split-apt: chain-runs may merge the install with the RUN after it, before or after this pass.
      'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y python3-pip\nWORKDIR /srv/inventory\nCOPY . .\nRUN pip3 install --no-cache-dir --no-index --find-links vendor -r requirements.txt\n\nRUN rm -rf /var/lib/apt/lists/*\n\nCMD ["python3", "server.py"]\n',
      { "requirements.txt": "bottle\n", "vendor/bottle.whl": "", "server.py": "" },
    ],
  ];

  it("reaches the same fixed point in any pass order", () => {
    const defaults = selectPasses(allPasses, {});
    const orders = [
      defaults,
      [...defaults].reverse(),
      shuffled(defaults, 7),
      shuffled(defaults, 42),
      shuffled(defaults, 3),
    ];
    for (const [text, files] of cases) {
      const outputs = orders.map(
        (passes) =>
          optimize(text, {
            passes,
            passOptions: {
              ...defaultPassOptions,
              enabledPasses: new Set(passes.map((p) => p.meta.id)),
              buildContext: fakeContext(files),
            },
            unsafe: false,
          }).output,
      );
      for (const o of outputs) expect(o).toBe(outputs[0]);
      expect(outputs[0]).not.toBe(text);
    }
  });
});
