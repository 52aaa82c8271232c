import { describe, expect, it } from "vitest";
import { apkHygiene } from "../passes/apk-hygiene.js";
import { APK_BUILD_TOOLS, runtimePackageFor } from "../passes/lib/apk-build-deps.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type PassOptions } from "../src/types.js";

const mount: PassOptions = {
  ...defaultPassOptions,
  cacheStrategy: "mount",
  enabledPasses: new Set(["apk-hygiene", "cache-mounts"]),
};

function fix(text: string, unsafe = false): string {
  return optimizeDockerfile(text, { only: ["apk-hygiene"], unsafe }).output;
}

describe("apk-hygiene", () => {
  it("adds --no-cache, replaces --update and removes a redundant apk update", () => {
    expect(fix("FROM alpine:3.19\nRUN apk update && apk add curl\nRUN apk add -U bash\n")).toBe(
      "FROM alpine:3.19\nRUN apk add --no-cache curl\nRUN apk add --no-cache bash\n",
    );
  });

  it("adds nothing in mount mode (the cache-mounts pass keeps /var/cache/apk)", () => {
    const r = apkHygiene.run(parseDockerfile("FROM alpine:3.19\nRUN apk update && apk add curl\n"), mount);
    expect(r.changes).toEqual([]);
  });

  it("keeps apk update when a later RUN reads the index without fetching it", () => {
    const text = "FROM alpine:3.19\nRUN apk update && apk add --no-cache curl\nRUN apk search -v x\n";
    expect(fix(text)).toContain("apk update && apk add --no-cache curl");
  });

  it("keeps `apk update foo` (a lost line break) as written", () => {
    const text = "FROM alpine:3.19\nRUN apk update apk add bash\nRUN apk add curl\n";
    expect(fix(text)).toContain("RUN apk update apk add bash");
  });

  it("moves only provable build packages to .build-deps, keeping runtime libraries (unsafe)", () => {
    const text =
      "FROM python:3.12-alpine\nRUN apk add --no-cache gcc musl-dev libffi-dev weird-dev && pip install cffi\n";
    const result = apkHygiene.run(parseDockerfile(text), defaultPassOptions);
    const change = result.changes.find((c) => c.reason.includes(".build-deps"));
    expect(change?.safety).toBe("unsafe");
    expect(fix(text, true)).toBe(
      "FROM python:3.12-alpine\nRUN apk add --no-cache weird-dev libffi && apk add --virtual .build-deps --no-cache gcc musl-dev libffi-dev && pip install cffi && apk del .build-deps\n",
    );
  });

  it("refuses .build-deps when something after the pip install compiles", () => {
    const text = "FROM python:3.12-alpine\nRUN apk add --no-cache gcc && pip install x && make\n";
    const result = apkHygiene.run(parseDockerfile(text), defaultPassOptions);
    expect(result.changes.some((c) => c.reason.includes(".build-deps"))).toBe(false);
    expect(result.skips[0]?.reason).toMatch(/make runs after the pip install/);
  });

  it("leaves an existing virtual group alone (also in --virtual= form)", () => {
    const text =
      "FROM python:3.12-alpine\nRUN apk add --virtual=.deps --no-cache gcc && pip install x && apk del .deps\n";
    expect(fix(text, true)).toBe(text);
  });

  it("knows libpq's old name on Alpine < 3.15", () => {
    expect(runtimePackageFor("postgresql-dev", [3, 12])).toBe("postgresql-libs");
    expect(runtimePackageFor("postgresql-dev", null)).toBe("libpq");
    expect(runtimePackageFor("unknown-dev", null)).toBeUndefined();
    expect(APK_BUILD_TOOLS.has("gcc")).toBe(true);
  });
});
