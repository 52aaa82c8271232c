/**
 * Every Debian name in the apk→apt table (and every package the
 * alpine-to-debian pass installs on its own) must exist in Debian's archive.
 * Asks the local apt-cache, so it runs on a Debian bookworm machine whose
 * package lists are present (`apt-get update`); elsewhere it is skipped
 * (this test never runs apt-get update itself).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { IMAGE_FAMILIES } from "../passes/lib/alpine-images.js";
import { BUSYBOX_APPLETS } from "../passes/lib/alpine-idioms.js";
import { APK_TO_APT, APT_TABLE_RELEASE } from "../passes/lib/apk-to-apt.js";

function aptCache(args: readonly string[]): string | null {
  try {
    return execFileSync("apt-cache", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (error) {
    // apt-cache exits non-zero when some names are missing but still prints the others.
    const out = (error as { stdout?: unknown }).stdout;
    return typeof out === "string" ? out : null;
  }
}

function osRelease(): string | null {
  try {
    return execFileSync("sh", ["-c", ". /etc/os-release && echo $VERSION_CODENAME"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

/** apt-cache is usable when it knows a package every Debian archive has. */
const available =
  osRelease() === APT_TABLE_RELEASE &&
  (aptCache(["show", "--no-all-versions", "bash"]) ?? "").includes("Package: bash");

describe.skipIf(!available)(`apk→apt table against the Debian ${APT_TABLE_RELEASE} archive`, () => {
  const names = new Set<string>();
  for (const entry of Object.values(APK_TO_APT)) for (const name of entry.debian) names.add(name);
  for (const applet of Object.values(BUSYBOX_APPLETS)) names.add(applet.debian);
  for (const family of IMAGE_FAMILIES) for (const name of family.preinstalled ?? []) names.add(name);
  names.add("ca-certificates");

  it("covers the common Alpine packages", () => {
    expect(Object.keys(APK_TO_APT).length).toBeGreaterThanOrEqual(150);
  });

  it("names only real (not purely virtual) Debian packages", () => {
    const out = aptCache(["show", "--no-all-versions", ...names]) ?? "";
    const found = new Set([...out.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]!));
    const missing = [...names].filter((n) => !found.has(n)).sort();
    expect(missing).toEqual([]);
  }, 120_000);
});
