/**
 * Discovery: which names count as Dockerfiles, and which files a walk over
 * directories / globs finds (ignore files, skipped trees, symlinks, explicit
 * files, bad arguments).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { discover, isDockerfileName, NOT_DOCKERFILE_EXTENSIONS } from "../src/discover.js";

describe("isDockerfileName", () => {
  it.each([
    "Dockerfile",
    "dockerfile",
    "DOCKERFILE",
    "Dockerfile.dev",
    "Dockerfile.3",
    "Dockerfile-alpine",
    "Dockerfile_prod",
    "api.Dockerfile",
    "web.dockerfile",
    "Containerfile",
    "Containerfile.fedora",
    "app.containerfile",
    "owner__repo__Dockerfile.3",
    "Dockerfile.dist",
  ])("%s is a Dockerfile", (name) => {
    expect(isDockerfileName(name)).toBe(true);
  });

  it.each([
    "Makefile",
    "docker-compose.yml",
    "Dockerfile.md",
    "Dockerfile.j2",
    "Dockerfile.template",
    "Dockerfile.in",
    "Dockerfile.dockerignore",
    "app.Dockerfile.dockerignore",
    "dockerfile.go",
    "dockerfile_test.go",
    "Dockerfile.orig",
    "Dockerfile~",
    ".dockerfilelintrc",
    "MyDockerfiles",
    "dockerfiles.txt",
    "build-dockerfile.sh",
  ])("%s is not", (name) => {
    expect(isDockerfileName(name)).toBe(false);
  });

  it("the pre-commit hooks select the same names", () => {
    const hooks = parse(readFileSync(path.resolve(import.meta.dirname, "../.pre-commit-hooks.yaml"), "utf8")) as {
      id: string;
      files: string;
      exclude: string;
    }[];
    expect(hooks.map((h) => h.id)).toEqual(["dfopt", "dfopt-check"]);
    const jsRegex = (python: string) => new RegExp(python.replace(/^\(\?i\)/, ""), "i");
    const files = jsRegex(hooks[0]!.files);
    const exclude = jsRegex(hooks[0]!.exclude);
    const extensions = /\\\.\((.*)\)\)\$$/.exec(hooks[0]!.exclude)![1]!.split("|");
    expect(new Set(extensions)).toEqual(NOT_DOCKERFILE_EXTENSIONS);
    const names = [
      "Dockerfile",
      "dockerfile",
      "Dockerfile.dev",
      "Dockerfile.3",
      "Dockerfile-alpine",
      "api.Dockerfile",
      "web.dockerfile",
      "Containerfile",
      "app.containerfile",
      "owner__repo__Dockerfile.3",
      "Makefile",
      "docker-compose.yml",
      "Dockerfile.md",
      "Dockerfile.j2",
      "Dockerfile.in",
      "app.Dockerfile.dockerignore",
      "dockerfile_test.go",
      "Dockerfile~",
      ".dockerfilelintrc",
      "MyDockerfiles",
      "build-dockerfile.sh",
      "Dockerfile.tar.gz",
    ];
    for (const name of names) {
      for (const p of [name, `svc/api/${name}`]) {
        expect(files.test(p) && !exclude.test(p), p).toBe(isDockerfileName(name));
      }
    }
  });
});

let dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "dfopt-discover-"));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    if (rel.endsWith("/")) mkdirSync(full, { recursive: true });
    else writeFileSync(full, text);
  }
  return root;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const D = "FROM scratch\n";
const rel = (root: string, files: readonly { path: string }[]) => files.map((f) => path.relative(root, f.path));

describe("discover", () => {
  it("walks directories for Dockerfile names, sorted, skipping .git, node_modules, vendor, third_party", async () => {
    const root = tree({
      "b/Dockerfile": D,
      "a/api.Dockerfile": D,
      "a/Dockerfile.md": "# docs",
      "a/README": "x",
      ".devcontainer/Dockerfile": D,
      Containerfile: D,
      ".git/Dockerfile": D,
      "node_modules/pkg/Dockerfile": D,
      "vendor/lib/Dockerfile": D,
      "x/third_party/y/Dockerfile": D,
    });
    const r = await discover(["."], { cwd: root });
    expect(rel(root, r.files)).toEqual([
      ".devcontainer/Dockerfile",
      "Containerfile",
      "a/api.Dockerfile",
      "b/Dockerfile",
    ]);
    expect(r.problems).toEqual([]);
    expect(r.files.every((f) => !f.explicit && f.root === root)).toBe(true);
  });

  it("honours nested .gitignore files, negations and .dfoptignore", async () => {
    const root = tree({
      ".gitignore": "build/\n*.gen.Dockerfile\n",
      "build/Dockerfile": D,
      "app/x.gen.Dockerfile": D,
      "app/Dockerfile": D,
      "app/.gitignore": "!keep.gen.Dockerfile\nDockerfile.local\n",
      "app/keep.gen.Dockerfile": D,
      "app/Dockerfile.local": D,
      "other/Dockerfile.local": D,
      "legacy/.dfoptignore": "Dockerfile.v1\n",
      "legacy/Dockerfile.v1": D,
      "legacy/Dockerfile": D,
    });
    const r = await discover(["."], { cwd: root });
    expect(rel(root, r.files)).toEqual([
      "app/Dockerfile",
      "app/keep.gen.Dockerfile",
      "legacy/Dockerfile",
      "other/Dockerfile.local",
    ]);
    const all = await discover(["."], { cwd: root, useIgnoreFiles: false });
    expect(all.files).toHaveLength(8);
  });

  it("applies the .gitignore of enclosing directories up to the repository root", async () => {
    const root = tree({ ".git/": "", ".gitignore": "gen/\n", "svc/gen/Dockerfile": D, "svc/Dockerfile": D });
    const r = await discover(["svc"], { cwd: root });
    expect(rel(root, r.files)).toEqual(["svc/Dockerfile"]);
    expect(r.files[0]!.root).toBe(path.join(root, "svc"));
  });

  it("processes an explicitly named file whatever its name, even if .gitignore'd, but not if .dfoptignore'd", async () => {
    const root = tree({
      ".gitignore": "*.build\n",
      ".dfoptignore": "never.Dockerfile\n",
      "image.build": D,
      "never.Dockerfile": D,
    });
    const r = await discover(["image.build", "never.Dockerfile"], { cwd: root });
    expect(rel(root, r.files)).toEqual(["image.build"]);
    expect(r.files[0]!.explicit).toBe(true);
    expect(r.ignored.map((i) => path.relative(root, i.path))).toEqual(["never.Dockerfile"]);
    expect(path.basename(r.ignored[0]!.by)).toBe(".dfoptignore");
  });

  it("reports a missing path or an empty directory for that argument only", async () => {
    const root = tree({ "ok/Dockerfile": D, "empty/README": "x" });
    const r = await discover(["missing", "empty", "ok"], { cwd: root });
    expect(rel(root, r.files)).toEqual(["ok/Dockerfile"]);
    expect(r.problems.map((p) => p.arg)).toEqual(["missing", "empty"]);
    expect(r.problems[0]!.message).toMatch(/no such file/);
    expect(r.problems[1]!.message).toMatch(/no Dockerfiles found/);
  });

  it("does not follow symlinked directories, so loops terminate; symlinked files are deduplicated", async () => {
    const root = tree({ "a/Dockerfile": D, "b/README": "x" });
    symlinkSync(root, path.join(root, "a", "loop"));
    symlinkSync(path.join(root, "a"), path.join(root, "b", "link-to-a"));
    symlinkSync(path.join(root, "a", "Dockerfile"), path.join(root, "b", "Dockerfile"));
    symlinkSync(path.join(root, "nowhere"), path.join(root, "b", "dangling.Dockerfile"));
    const r = await discover(["."], { cwd: root });
    // b/Dockerfile and a/Dockerfile are one file: kept once, under the first path.
    expect(rel(root, r.files)).toEqual(["a/Dockerfile"]);
  });

  it("a symlink loop named explicitly still terminates", async () => {
    const root = tree({ "a/Dockerfile": D });
    symlinkSync(path.join(root, "a"), path.join(root, "a", "self"));
    const r = await discover(["a/self"], { cwd: root });
    expect(r.files).toHaveLength(1);
  });

  it("expands globs, filtering by name unless the last segment is a literal name", async () => {
    const root = tree({
      "svc/a/Dockerfile": D,
      "svc/a/run.sh": "#!/bin/sh",
      "svc/b/build.docker": D,
      "svc/b/node_modules/Dockerfile": D,
    });
    const star = await discover(["svc/*/*"], { cwd: root });
    expect(rel(root, star.files)).toEqual(["svc/a/Dockerfile"]);
    const literal = await discover(["svc/*/build.docker"], { cwd: root });
    expect(rel(root, literal.files)).toEqual(["svc/b/build.docker"]);
    const deep = await discover(["svc/**/Dockerfile"], { cwd: root });
    expect(rel(root, deep.files)).toEqual(["svc/a/Dockerfile"]);
    const none = await discover(["svc/*/Containerfile"], { cwd: root });
    expect(none.problems).toHaveLength(1);
  });

  it("picks up the shared corpus naming (owner__repo__Dockerfile.N)", async () => {
    const root = tree({
      "corpus/acme__web__Dockerfile.0": D,
      "corpus/acme__web__Dockerfile.12": D,
      "corpus/MANIFEST.tsv": "x",
    });
    const r = await discover(["corpus"], { cwd: root });
    expect(r.files).toHaveLength(2);
  });
});
