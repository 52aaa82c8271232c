import { describe, expect, it } from "vitest";
import { cacheMounts } from "../passes/cache-mounts.js";
import { cacheSpec, pathRelation, resolveCacheDirs, type DirContext } from "../passes/lib/cache-dirs.js";
import { opaqueCommands, removalRefusal, toolCalls, wordPath } from "../passes/lib/cache-mount-shell.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell, type ShellScript, type SimpleCommand } from "../src/shell.js";
import { allSimpleCommands } from "../src/shell-facts.js";
import { defaultPassOptions, type PassOptions } from "../src/types.js";

const on: PassOptions = { ...defaultPassOptions, enabledPasses: new Set(["cache-mounts"]) };

function run(text: string, unsafe = false): ReturnType<typeof optimizeDockerfile> {
  return optimizeDockerfile(text, { only: ["cache-mounts"], unsafe });
}

function script(source: string): ShellScript {
  const parse = parseShell(source);
  if (!parse.ok) throw new Error(parse.error);
  return parse.script;
}

function commandNamed(s: ShellScript, name: string, nth = 0): SimpleCommand {
  return [...allSimpleCommands(s.statements)].filter((c) => c.name === name)[nth]!;
}

describe("pathRelation", () => {
  it("tells the mount point, its parents, its inside and the rest apart", () => {
    expect(pathRelation("/root/.cache/pip", "/root/.cache/pip")).toBe("mountpoint");
    expect(pathRelation("/root/.cache/pip/", "/root/.cache/pip")).toBe("mountpoint");
    expect(pathRelation("/root/.cache", "/root/.cache/pip")).toBe("ancestor");
    expect(pathRelation("/", "/root/.cache/pip")).toBe("ancestor");
    expect(pathRelation("/root/.cache/pip/http", "/root/.cache/pip")).toBe("inside");
    expect(pathRelation("/root/.cache/pipx", "/root/.cache/pip")).toBe("unrelated");
    expect(pathRelation("/tmp", "/root/.cache/pip")).toBe("unrelated");
  });

  it("matches globs as the shell does", () => {
    expect(pathRelation("/var/lib/apt/lists/*", "/var/lib/apt/lists")).toBe("inside");
    expect(pathRelation("/var/cache/apt/archives/*.deb", "/var/cache/apt")).toBe("inside");
    // The glob names the mount point (and maybe siblings): as bad as a parent.
    expect(pathRelation("/var/cache/*", "/var/cache/apt")).toBe("ancestor");
    expect(pathRelation("/root/.cache/*", "/root/.cache/pip")).toBe("ancestor");
    expect(pathRelation("/root/.[acpw]*", "/root/.cache/pip")).toBe("ancestor");
    // `*` does not match a leading dot: /root/* leaves /root/.cache alone.
    expect(pathRelation("/root/*", "/root/.cache/pip")).toBe("unrelated");
    expect(pathRelation("/tmp/*", "/var/cache/apt")).toBe("unrelated");
  });
});

describe("resolveCacheDirs", () => {
  const ctx = (over: Partial<DirContext> = {}): DirContext => ({
    env: new Map(),
    home: "/root",
    isRoot: true,
    baseImage: "python:3.12",
    familyText: "",
    ...over,
  });

  it("follows each tool's own lookup order", () => {
    expect(resolveCacheDirs(cacheSpec("pip"), ctx())).toEqual({ dirs: ["/root/.cache/pip"] });
    expect(resolveCacheDirs(cacheSpec("pip"), ctx({ env: new Map([["XDG_CACHE_HOME", "/c"]]) }))).toEqual({
      dirs: ["/c/pip"],
    });
    expect(
      resolveCacheDirs(
        cacheSpec("pip"),
        ctx({
          env: new Map([
            ["XDG_CACHE_HOME", "/c"],
            ["PIP_CACHE_DIR", "/p"],
          ]),
        }),
      ),
    ).toEqual({ dirs: ["/p"] });
    expect(resolveCacheDirs(cacheSpec("pip"), ctx({ home: "/home/app", isRoot: false }))).toEqual({
      dirs: ["/home/app/.cache/pip"],
    });
  });

  it("knows yarn 1's root special case and poetry's subdirectories", () => {
    expect(resolveCacheDirs(cacheSpec("yarn"), ctx())).toEqual({ dirs: ["/usr/local/share/.cache/yarn"] });
    expect(resolveCacheDirs(cacheSpec("yarn"), ctx({ home: "/home/node", isRoot: false }))).toEqual({
      dirs: ["/home/node/.cache/yarn"],
    });
    // virtualenvs/ lives in poetry's cache dir too and must stay in the image.
    expect(resolveCacheDirs(cacheSpec("poetry"), ctx())).toEqual({
      dirs: ["/root/.cache/pypoetry/cache", "/root/.cache/pypoetry/artifacts"],
    });
  });

  it("refuses what it can't know", () => {
    expect(resolveCacheDirs(cacheSpec("pip"), ctx({ home: null }))).toHaveProperty("unknown");
    expect(resolveCacheDirs(cacheSpec("pip"), ctx({ env: new Map([["PIP_CACHE_DIR", null]]) }))).toHaveProperty(
      "unknown",
    );
    expect(resolveCacheDirs(cacheSpec("go-mod"), ctx({ baseImage: "ubuntu:22.04" }))).toHaveProperty("unknown");
    expect(resolveCacheDirs(cacheSpec("go-mod"), ctx({ baseImage: "golang:1.22" }))).toEqual({
      dirs: ["/go/pkg/mod"],
    });
    expect(resolveCacheDirs(cacheSpec("go-mod"), ctx({ env: new Map([["GOPATH", "/a:/b"]]) }))).toEqual({
      dirs: ["/a/pkg/mod"],
    });
    expect(resolveCacheDirs(cacheSpec("cargo"), ctx({ baseImage: "debian:12" }))).toHaveProperty("unknown");
    expect(resolveCacheDirs(cacheSpec("cargo"), ctx({ baseImage: "rust:1.78-slim" }))).toEqual({
      dirs: ["/usr/local/cargo/registry", "/usr/local/cargo/git"],
    });
    expect(resolveCacheDirs(cacheSpec("pnpm"), ctx())).toHaveProperty("unknown");
    expect(resolveCacheDirs(cacheSpec("pnpm"), ctx({ env: new Map([["PNPM_HOME", "/pnpm"]]) }))).toEqual({
      dirs: ["/pnpm/store"],
    });
  });
});

describe("shell analysis", () => {
  it("recognises the calls and their subcommands behind options", () => {
    const calls = toolCalls(
      script(
        "apt-get -o Dpkg::Options::=--force-confnew -y install x && python3 -m pip install y && sudo apt-cache policy z",
      ),
    );
    expect(calls.map((c) => [c.tool, c.subcommand, c.viaSudo])).toEqual([
      ["apt-get", "install", false],
      ["pip", "install", false],
      ["apt-cache", "policy", true],
    ]);
  });

  it("removes a cleanup only from a plain && chain", () => {
    const s = script("a && rm -rf /x && b");
    expect(removalRefusal(s, commandNamed(s, "rm"))).toBeNull();
    const or = script("a || rm -rf /x");
    expect(removalRefusal(or, commandNamed(or, "rm"))).toMatch(/\|\| branch/);
    const orAfter = script("a && rm -rf /x || b");
    expect(removalRefusal(orAfter, commandNamed(orAfter, "rm"))).toMatch(/\|\| branch/);
    const nested = script("if true; then rm -rf /x; fi; b");
    expect(removalRefusal(nested, commandNamed(nested, "rm"))).toMatch(/nested/);
    const last = script("a; rm -rf /x");
    expect(removalRefusal(last, commandNamed(last, "rm"))).toMatch(/last statement/);
    const first = script("rm -rf /x; a");
    expect(removalRefusal(first, commandNamed(first, "rm"))).toBeNull();
    const only = script("rm -rf /x");
    expect(removalRefusal(only, commandNamed(only, "rm"))).toMatch(/only command/);
    const bg = script("rm -rf /x & a");
    expect(removalRefusal(bg, commandNamed(bg, "rm"))).toMatch(/background/);
    const piped = script("a && rm -rfv /x | tee log && b");
    expect(removalRefusal(piped, commandNamed(piped, "rm"))).toMatch(/pipeline/);
    const redirected = script("a && rm -rf /x > log && b");
    expect(removalRefusal(redirected, commandNamed(redirected, "rm"))).toMatch(/redirects/);
    const devnull = script("a && rm -rf /x 2>/dev/null && b");
    expect(removalRefusal(devnull, commandNamed(devnull, "rm"))).toBeNull();
  });

  it("resolves ~, $HOME and ENV in paths, and gives up on the rest", () => {
    const s = script("rm -rf ~/.cache/pip $HOME/.npm ${GOPATH}/pkg/mod $(pip cache dir) rel/x");
    const words = commandNamed(s, "rm").words;
    const ctx = { home: "/root", env: new Map([["GOPATH", "/go"]]), cwd: "/app" };
    expect(words.slice(2).map((w) => wordPath(w, ctx))).toEqual([
      "/root/.cache/pip",
      "/root/.npm",
      "/go/pkg/mod",
      null,
      "/app/rel/x",
    ]);
  });

  it("finds commands that may run apt unseen", () => {
    const s = script(
      "$APT_INST wget && ./install.sh && sh -c 'apt-get install -y x' && ./configure && make && xargs apt-get install < l",
    );
    const env = new Map([["APT_INST", "apt-get install -y"]]);
    expect(opaqueCommands(s, env).map((o) => [o.command.words[0]!.source, o.apt])).toEqual([
      ["$APT_INST", "apt"],
      ["./install.sh", "maybe"],
      ["sh", "apt"],
      ["xargs", "apt"],
    ]);
  });
});

describe("cache-mounts pass", () => {
  it("does nothing in cache strategy none, or when it is not enabled", () => {
    const file = parseDockerfile("FROM python:3.12\nRUN pip install --no-cache-dir x\n");
    expect(cacheMounts.run(file, { ...on, cacheStrategy: "none" }).changes).toEqual([]);
    expect(cacheMounts.run(file, defaultPassOptions).changes).toEqual([]);
    expect(cacheMounts.run(file, on).changes).toHaveLength(1);
  });

  it("skips heredoc, unparseable and non-POSIX-shell RUNs with a reason", () => {
    const text = [
      "FROM python:3.12",
      "RUN <<EOF",
      "pip install x",
      "EOF",
      "RUN pip install 'x",
      'SHELL ["pwsh", "-Command"]',
      "RUN pip install y",
      "",
    ].join("\n");
    const result = cacheMounts.run(parseDockerfile(text), on);
    expect(result.changes).toEqual([]);
    const reasons = result.skips.map((s) => s.reason);
    expect(reasons.some((r) => /heredoc/.test(r))).toBe(true);
    expect(reasons.some((r) => /does not parse/.test(r))).toBe(true);
    expect(reasons.some((r) => /not a POSIX shell/.test(r))).toBe(true);
  });

  it("keeps the lists in the image when a later RUN runs apt through a variable", () => {
    const text = [
      "FROM debian:12",
      "ENV APT_INST apt-get install -y --no-install-recommends",
      "RUN apt-get update",
      "RUN $APT_INST curl",
      "",
    ].join("\n");
    const r = run(text);
    expect(r.output).not.toContain("/var/lib/apt/lists");
    expect(r.output).toContain("RUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update\n");
    // The recipe is not added: the later RUN's apt would keep .debs in its layer.
    expect(r.output.match(/docker-clean/g)).toBeNull();
  });

  it("adds the docker-clean recipe once per stage family", () => {
    const text = [
      "FROM debian:12 AS base",
      "RUN apt-get update && apt-get install -y curl",
      "FROM base AS dev",
      "RUN apt-get update && apt-get install -y git",
      "FROM debian:12",
      "RUN apt-get update && apt-get install -y tini",
      "",
    ].join("\n");
    const out = run(text).output;
    const lines = out.split("\n");
    expect(lines[1]).toContain("rm -f /etc/apt/apt.conf.d/docker-clean && echo");
    expect(lines[3]).not.toContain("docker-clean");
    expect(lines[3]).toContain("--mount=type=cache,target=/var/cache/apt,sharing=locked");
    expect(lines[5]).toContain("docker-clean");
  });

  it("puts the recipe right before the first apt command, after what runs before it", () => {
    const out = run("FROM debian:12\nRUN set -eux; echo hi && apt-get update && apt-get install -y x\n").output;
    expect(out).toContain(
      "set -eux; echo hi && rm -f /etc/apt/apt.conf.d/docker-clean && echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache && apt-get update",
    );
  });

  it("gives a RUN the same result whether chain-runs merges it before or after", () => {
    const separate = [
      "FROM debian:12",
      "RUN pip install -r requirements.txt",
      "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
      "",
    ].join("\n");
    const mounted = run(separate).output.split("\n");
    // chain-runs keeps the first RUN's flags, adds the second's, joins the bodies with &&.
    const flags = (line: string) => line.match(/--mount=\S+/g) ?? [];
    const body = (line: string) => line.replace(/^RUN (--mount=\S+ )*/, "");
    const mergedAfter = `FROM debian:12\nRUN ${[...new Set([...flags(mounted[1]!), ...flags(mounted[2]!)])].join(" ")} ${body(mounted[1]!)} && ${body(mounted[2]!)}\n`;
    const mergedBefore = run(
      "FROM debian:12\nRUN pip install -r requirements.txt && apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    ).output;
    expect(run(mergedAfter).output).toBe(mergedBefore);
  });

  it("keeps ENV PIP_NO_CACHE_DIR that reaches the final image unless unsafe", () => {
    const text = "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n";
    const safe = run(text);
    expect(safe.output).toBe(text);
    expect(safe.notApplied.map((n) => n.unsafeBecause)).toEqual([expect.stringMatching(/final image/)]);
    expect(safe.skips.map((s) => s.reason)).toContain(
      "pip cache not mounted: ENV PIP_NO_CACHE_DIR (line 2) turns pip's cache off",
    );
    const unsafe = run(text, true);
    expect(unsafe.output).toBe("FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n");
  });

  it("does not mount over what a COPY --from takes out of the stage", () => {
    const text = [
      "FROM golang:1.22 AS build",
      "RUN go mod download && go build -o /app .",
      "FROM golang:1.22",
      "COPY --from=build /go/pkg/mod /go/pkg/mod",
      "",
    ].join("\n");
    const out = run(text).output;
    expect(out).not.toContain("/go/pkg/mod go");
    expect(out).toContain("--mount=type=cache,target=/root/.cache/go-build");
  });

  it("leaves a cleanup that only empties the cache when it can't be removed", () => {
    const text = "FROM debian:12\nRUN apt-get update && apt-get install -y curl || rm -rf /var/lib/apt/lists/*\n";
    const r = run(text);
    expect(r.output).toContain("--mount=type=cache,target=/var/lib/apt/lists,sharing=locked");
    expect(r.output).toContain("|| rm -rf /var/lib/apt/lists/*");
    expect(r.skips.some((s) => /left in place \(it is in an \|\| branch\)/.test(s.reason))).toBe(true);
  });

  it("is idempotent on its own output across the fixture shapes", () => {
    const text = [
      "FROM node:20",
      "RUN npm ci && npm cache clean --force",
      "RUN --mount=type=cache,target=/root/.npm npm install --no-audit",
      "FROM alpine:3.19",
      "RUN apk add --no-cache curl && rm -rf /var/cache/apk/*",
      "",
    ].join("\n");
    const once = run(text).output;
    expect(once).not.toBe(text);
    const file = parseDockerfile(once);
    expect(cacheMounts.run(file, on).changes).toEqual([]);
  });
});

describe("Windows stages", () => {
  it("gets no cache mounts on any Windows base lib/windows-base.ts recognises, with the reason", () => {
    for (const image of [
      "mcr.microsoft.com/windows/servercore:ltsc2022",
      "mcr.microsoft.com/dotnet/framework/sdk:4.8",
      "python:3.11-windowsservercore-ltsc2022",
      "ARG BASE=mcr.microsoft.com/windows/nanoserver:1809\nFROM $BASE",
    ]) {
      const text = `${image.startsWith("ARG") ? image : `FROM ${image}`}\nRUN pip install flask\n`;
      const result = run(text);
      expect(result.output, image).toBe(text);
      expect(result.skips.map((s) => s.reason).join("\n"), image).toMatch(/Windows image/);
    }
  });
});
