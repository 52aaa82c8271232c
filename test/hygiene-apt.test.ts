import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { aptHygiene } from "../passes/apt-hygiene.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type PassOptions } from "../src/types.js";

const none: PassOptions = { ...defaultPassOptions, cacheStrategy: "none", enabledPasses: new Set(["apt-hygiene"]) };
const mount: PassOptions = {
  ...defaultPassOptions,
  cacheStrategy: "mount",
  enabledPasses: new Set(["apt-hygiene", "cache-mounts"]),
};

function reasons(text: string, options = none): string[] {
  return aptHygiene.run(parseDockerfile(text), options).changes.map((c) => c.reason);
}

function fix(text: string, unsafe = false): string {
  return optimizeDockerfile(text, { only: ["apt-hygiene"], unsafe }).output;
}

describe("apt-hygiene", () => {
  it("adds update, -y and cleanup, and turns apt into apt-get", () => {
    expect(fix("FROM debian:bookworm\nRUN apt install curl\n")).toBe(
      "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
  });

  it("never cleans the lists when caches live in cache mounts (composes with cache-mounts)", () => {
    const r = reasons("FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n", mount);
    expect(r.some((x) => x.includes("package lists are useless"))).toBe(false);
    const own = reasons(
      "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y curl\n",
    );
    expect(own.some((x) => x.includes("package lists are useless"))).toBe(false);
  });

  it("keeps the lists when a later RUN installs without updating", () => {
    const text =
      "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nRUN apt-get -t x install -y git\n";
    const result = aptHygiene.run(parseDockerfile(text), none);
    expect(result.changes.some((c) => c.reason.includes("package lists are useless"))).toBe(false);
    expect(result.skips.map((s) => s.reason).join()).toMatch(/line 3 installs without apt-get update/);
  });

  it("marks cleanup unsafe when a later script the Dockerfile doesn't show may read the lists", () => {
    const text = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nRUN ./install-deps.sh\n";
    const change = aptHygiene
      .run(parseDockerfile(text), none)
      .changes.find((c) => c.reason.includes("lists are useless"));
    expect(change?.safety).toBe("unsafe");
    expect(change?.unsafeBecause).toMatch(/install-deps\.sh/);
  });

  it("does not count configure scripts as apt users", () => {
    const text = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc && ./configure && make\n";
    const change = aptHygiene
      .run(parseDockerfile(text), none)
      .changes.find((c) => c.reason.includes("lists are useless"));
    expect(change?.safety).toBe("safe");
  });

  it("only proposes --no-install-recommends as unsafe, adding ca-certificates next to curl", () => {
    const change = aptHygiene
      .run(parseDockerfile("FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"), none)
      .changes.find((c) => c.reason.includes("--no-install-recommends"));
    expect(change?.safety).toBe("unsafe");
    expect(fix("FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n", true)).toContain(
      "apt-get install --no-install-recommends -y curl ca-certificates",
    );
  });

  it("without recommends, gcc gets libc6-dev (it only recommends the C headers; nothing compiles without them)", () => {
    const out = fix("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc libpq-dev\n", true);
    expect(out).toContain("apt-get install --no-install-recommends -y gcc libpq-dev libc6-dev");
    // build-essential and g++ depend on libc6-dev: nothing to add.
    for (const pkgs of ["build-essential", "g++ gcc", "gcc libc6-dev"]) {
      const text = `FROM debian:bookworm\nRUN apt-get update && apt-get install -y ${pkgs}\n`;
      expect(fix(text, true)).toContain(`apt-get install --no-install-recommends -y ${pkgs} &&`);
    }
  });

  it.skipIf(!aptCacheAnswers())("gcc recommends libc6-dev, and g++ and clang depend on it (bookworm apt-cache)", () => {
    const depends = (pkg: string) => execFileSync("apt-cache", ["depends", pkg], { encoding: "utf8" });
    expect(depends("gcc-12")).toMatch(/Recommends: libc6-dev\b/);
    expect(depends("gcc-12")).not.toMatch(/Depends: libc6-dev\b/);
    expect(depends("g++-12")).toMatch(/Depends: libstdc\+\+-12-dev\b/);
    expect(depends("libstdc++-12-dev")).toMatch(/Depends: libc6-dev\b/);
    expect(depends("clang-14")).toMatch(/Depends: libc6-dev\b/);
  });

  it("leaves apt upgrade alone (it differs from apt-get upgrade) and says so", () => {
    const result = aptHygiene.run(parseDockerfile("FROM debian:bookworm\nRUN apt upgrade -y\n"), none);
    expect(result.changes.filter((c) => c.reason.includes("→"))).toEqual([]);
    expect(result.skips[0]?.reason).toMatch(/apt upgrade left as written/);
  });

  it("does not prepend update where `||` would change what runs", () => {
    const r = reasons("FROM debian:bookworm\nRUN apt-get install -y curl || true\n");
    expect(r.some((x) => x.includes("without apt-get update"))).toBe(false);
  });

  it("keeps sudo for update and cleanup of a non-root stage", () => {
    const out = fix("FROM x/y:1\nUSER app\nRUN sudo apt-get install -y curl\n");
    expect(out).toContain(
      "RUN sudo apt-get update && sudo apt-get install -y curl && sudo rm -rf /var/lib/apt/lists/*",
    );
  });

  it("merges adjacent installs only with identical options, as an unsafe change", () => {
    const separate = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y a && apt-get install -y b\n";
    // One transaction sets packages up in dependency order only: not proven, so not by default.
    expect(fix(separate)).toContain("apt-get install -y a && apt-get install -y b");
    expect(
      fix("FROM debian:bookworm\nRUN apt-get update && apt-get install -y a && apt-get install -y b\n", true),
    ).toContain("apt-get install --no-install-recommends -y a b &&");
    const r = reasons(
      "FROM debian:bookworm\nRUN apt-get update && apt-get install -y a && apt-get install -y -t bp b\n",
    );
    expect(r.some((x) => x.includes("merged"))).toBe(false);
  });

  it("drops an update-only RUN once every later install updates itself", () => {
    const out = fix("FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n");
    expect(out).toBe(
      "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
  });

  it("is idempotent on its output", () => {
    const once = fix(
      "FROM debian:bookworm\nRUN apt-get update && \\\n    apt-get install -y \\\n      curl \\\n      git\n",
      true,
    );
    expect(fix(once, true)).toBe(once);
    expect(once).toContain("rm -rf /var/lib/apt/lists/*");
  });

  // Second audit: --no-install-recommends left out what a later step needs.
  it("keeps what cmake, gnupg, bundler and r-base only recommend when the build needs it", () => {
    const second = (text: string) => fix(text, true).split("\n")[1];
    expect(second("FROM debian:bookworm\nRUN apt-get update && apt-get install -y cmake\n")).toContain(
      "--no-install-recommends -y cmake make gcc libc6-dev",
    );
    expect(second("FROM debian:stretch\nRUN apt-get update && apt-get install -y gnupg2\n")).toContain("dirmngr");
    const bundler = "FROM ubuntu:14.04\nRUN apt-get update && apt-get install -y bundler\nRUN bundle install\n";
    expect(second(bundler)).not.toContain("--no-install-recommends");
    const skips = optimizeDockerfile(bundler, { only: ["apt-hygiene"], unsafe: true }).skips.map((k) => k.reason);
    expect(skips.join("\n")).toMatch(/bundler only recommends build-essential and ruby-dev/);
    const r =
      "FROM debian:bookworm\nRUN apt-get update && apt-get install -y r-base\nRUN Rscript -e 'install.packages(\"x\")'\n";
    expect(second(r)).not.toContain("--no-install-recommends");
    // Without a later build step the flag is added as before.
    expect(second("FROM debian:bookworm\nRUN apt-get update && apt-get install -y r-base\n")).toContain(
      "--no-install-recommends",
    );
  });
});

function aptCacheAnswers(): boolean {
  return spawnSync("apt-cache", ["show", "--no-all-versions", "gcc"], { encoding: "utf8" }).status === 0;
}
