import { describe, expect, it } from "vitest";
import { classifyAddSource } from "../passes/add-to-copy.js";
import { downloadedFile, extractedArchive } from "../passes/archive-cleanup.js";
import { npmCacheClean } from "../passes/npm-cache-clean.js";
import { yumHygiene } from "../passes/yum-hygiene.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell, type SimpleCommand } from "../src/shell.js";
import { defaultPassOptions, type BuildContext, type PassOptions } from "../src/types.js";

const none: PassOptions = { ...defaultPassOptions, cacheStrategy: "none", enabledPasses: new Set() };
const mount: PassOptions = { ...defaultPassOptions, cacheStrategy: "mount", enabledPasses: new Set(["cache-mounts"]) };

function command(source: string): SimpleCommand {
  const parsed = parseShell(source);
  if (!parsed.ok) throw new Error(parsed.error);
  const c = parsed.script.statements[0]!.andOr.pipelines[0]!.commands[0]!;
  if (c.kind !== "simple") throw new Error("not simple");
  return c;
}

function context(files: Record<string, string>): BuildContext {
  return {
    dockerignore: files[".dockerignore"] ?? null,
    exists: (p) => p in files || Object.keys(files).some((f) => f.startsWith(`${p}/`)),
    readText: (p) => files[p] ?? null,
  };
}

describe("add-to-copy", () => {
  it("keeps ADD for URLs, archives and variables; COPY for the rest", () => {
    expect(classifyAddSource("https://x.org/a.sh", defaultPassOptions).kind).toBe("keep");
    expect(classifyAddSource("app.tar.gz", defaultPassOptions).kind).toBe("keep");
    expect(classifyAddSource("rootfs.tgz", defaultPassOptions).kind).toBe("keep");
    expect(classifyAddSource("$SRC", defaultPassOptions).kind).toBe("keep");
    expect(classifyAddSource(".", defaultPassOptions).kind).toBe("copy");
    expect(classifyAddSource("src/", defaultPassOptions).kind).toBe("copy");
    expect(classifyAddSource("app.jar", defaultPassOptions).kind).toBe("copy");
    expect(classifyAddSource("data.bin", defaultPassOptions).kind).toBe("unsafe");
    const ctx = { ...defaultPassOptions, buildContext: context({ "data.bin": "plain text" }) };
    expect(classifyAddSource("data.bin", ctx).kind).toBe("copy");
  });

  it("keeps the keyword's case", () => {
    expect(optimizeDockerfile("from x\nadd a.txt /\n", { only: ["add-to-copy"] }).output).toBe(
      "from x\ncopy a.txt /\n",
    );
  });
});

describe("yum-hygiene", () => {
  it("cleans only without cache mounts", () => {
    const text = "FROM centos:7\nRUN yum install -y httpd\n";
    expect(yumHygiene.run(parseDockerfile(text), none).changes.map((c) => c.reason)).toEqual([
      "yum clean all in the same RUN keeps repository metadata and packages out of the layer",
    ]);
    expect(yumHygiene.run(parseDockerfile(text), mount).changes).toEqual([]);
  });

  it("finds the subcommand after options with values", () => {
    const text = "FROM fedora:39\nRUN dnf --setopt tsflags=nodocs install httpd\n";
    expect(optimizeDockerfile(text, { only: ["yum-hygiene"] }).output).toContain(
      "dnf --setopt tsflags=nodocs install -y httpd && dnf clean all",
    );
  });
});

describe("npm-cache-clean", () => {
  it("cleans yarn safely only when the context rules out Yarn 2+", () => {
    const text = "FROM node:20\nRUN yarn install\n";
    const unknown = npmCacheClean.run(parseDockerfile(text), none).changes[0];
    expect(unknown?.safety).toBe("unsafe");
    const classic = npmCacheClean.run(parseDockerfile(text), {
      ...none,
      buildContext: context({ "package.json": "{}" }),
    });
    expect(classic.changes[0]?.safety).toBe("safe");
    const berry = npmCacheClean.run(parseDockerfile(text), {
      ...none,
      buildContext: context({ ".yarnrc.yml": "nodeLinker: pnp" }),
    });
    expect(berry.changes).toEqual([]);
    expect(berry.skips[0]?.reason).toMatch(/Yarn 2\+/);
  });

  it("does nothing in mount mode", () => {
    expect(npmCacheClean.run(parseDockerfile("FROM node:20\nRUN npm ci\n"), mount).changes).toEqual([]);
  });
});

describe("gem-no-document", () => {
  it("adds --no-document after install", () => {
    expect(optimizeDockerfile("FROM ruby:3\nRUN gem install rake\n", { only: ["gem-no-document"] }).output).toBe(
      "FROM ruby:3\nRUN gem install --no-document rake\n",
    );
  });
});

describe("archive-cleanup", () => {
  it("knows where wget and curl write", () => {
    expect(downloadedFile(command("wget https://x.org/a/b.tgz"), "/tmp")).toBe("/tmp/b.tgz");
    expect(downloadedFile(command("wget -O /opt/x.zip https://x.org/d"), "/tmp")).toBe("/opt/x.zip");
    expect(downloadedFile(command("wget -P dl https://x.org/a.tgz"), "/w")).toBe("/w/dl/a.tgz");
    expect(downloadedFile(command("curl -fsSLO https://x.org/a.tgz"), "/w")).toBe("/w/a.tgz");
    expect(downloadedFile(command("curl -fsSLo out.tgz https://x.org/a.tgz"), "/w")).toBe("/w/out.tgz");
    expect(downloadedFile(command("curl -fsSL https://x.org/a.tgz > f.tgz"), "/w")).toBe("/w/f.tgz");
    expect(downloadedFile(command("curl https://x.org/a.tgz?v=1 -O"), "/w")).toBeNull();
    expect(downloadedFile(command("curl https://x.org/a.tgz"), "/w")).toBeNull();
  });

  it("knows which archive tar and unzip read", () => {
    expect(extractedArchive(command("tar xzf a.tgz -C /opt"))?.value).toBe("a.tgz");
    expect(extractedArchive(command("tar -C /opt -xvf a.tgz"))?.value).toBe("a.tgz");
    expect(extractedArchive(command("tar --extract --file a.tgz"))?.value).toBe("a.tgz");
    expect(extractedArchive(command("tar czf a.tgz dir"))).toBeNull();
    expect(extractedArchive(command("tar xz"))).toBeNull();
    expect(extractedArchive(command("unzip -q -d /opt a.zip"))?.value).toBe("a.zip");
  });

  it("removes nothing a later instruction still names", () => {
    const text = "FROM debian\nWORKDIR /t\nRUN wget https://x.org/a.tgz && tar xzf a.tgz\nRUN sha256sum a.tgz\n";
    const r = optimizeDockerfile(text, { only: ["archive-cleanup"] });
    expect(r.output).toBe(text);
    expect(r.skips[0]?.reason).toMatch(/line 4 mentions it/);
  });
});
