import { describe, expect, it } from "vitest";
import { allPasses } from "../passes/index.js";
import { dockerignoreMatcher, readDockerignore } from "../passes/lib/dockerignore.js";
import {
  checkComposerJson,
  checkGemfile,
  checkGoMod,
  checkPackageJson,
  checkPyprojectPoetry,
  checkPyprojectUv,
  checkRequirements,
  classifyInstall,
  isLocalPipRequirement,
} from "../passes/lib/manifests.js";
import { manifestFirstCopy } from "../passes/manifest-first-copy.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { optimize } from "../src/pipeline.js";
import { selectPasses } from "../src/select.js";
import type { SimpleCommand } from "../src/shell.js";
import { type BuildContext, defaultPassOptions } from "../src/types.js";

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
    });
    expect(checkRequirements("flask\n-e .\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("./libs/common\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("mypkg @ file:///src/mypkg\n", "r.txt").ok).toBe(false);
    expect(checkRequirements("-e git+https://github.com/x/y.git#egg=y\nreq @ https://x/y.whl\n", "r.txt").ok).toBe(
      true,
    );
    expect(checkRequirements("-f ./wheels\nfoo\n", "r.txt").ok).toBe(false);
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

describe("manifest-first-copy safety without a context", () => {
  it("proposes only unsafe changes, applied with --unsafe", () => {
    const text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n";
    expect(run(text, null).output).toBe(text);
    expect(run(text, null).notApplied[0]!.why).toBe("unsafe");
    expect(run(text, null, true).output).toContain("COPY requirements.txt .\nRUN pip install");
  });

  it("never moves the install above a COPY that provides something else it reads", () => {
    const text =
      "FROM python:3.12\nCOPY . /app\nWORKDIR /app\nRUN pip install --no-index -f /app/wheels -r requirements.txt\n";
    const r = passResult(text, null);
    expect(r.changes).toEqual([]);
    expect(r.skips[0]!.reason).toMatch(/reads \/app\/wheels/);
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
