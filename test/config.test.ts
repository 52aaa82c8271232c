/**
 * Configuration: every supported file form is found upward from a
 * Dockerfile, the nearest wins, package.json needs a "dfopt" key, errors name
 * the file and the key, lookups are cached per directory, and command-line
 * flags override what a config says.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, ConfigResolver, mergeOptions } from "../src/config.js";

const known = new Set(["cache-mounts", "uv-install", "maintainer-to-label"]);
let dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "dfopt-config-"));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return root;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const resolver = (opts: Partial<ConstructorParameters<typeof ConfigResolver>[0]> = {}) =>
  new ConfigResolver({ knownPasses: known, ...opts });

describe("config discovery", () => {
  it.each([
    ["dfopt.config.json", '{"unsafe": true, "passes": {"cache-mounts": false}}'],
    ["dfopt.config.yaml", "unsafe: true\npasses:\n  cache-mounts: false\n"],
    ["dfopt.config.yml", "unsafe: true\npasses:\n  cache-mounts: false\n"],
    ["dfopt.config.mjs", 'export default { unsafe: true, passes: { "cache-mounts": false } };\n'],
    ["dfopt.config.js", 'export default { unsafe: true, passes: { "cache-mounts": false } };\n'],
    [".dfoptrc", '{"unsafe": true, "passes": {"cache-mounts": false}}'],
    [".dfoptrc", "unsafe: true\npasses: {cache-mounts: false}\n"],
    [".dfoptrc.yaml", "unsafe: true\npasses: {cache-mounts: false}\n"],
    ["package.json", '{"name": "x", "dfopt": {"unsafe": true, "passes": {"cache-mounts": false}}}'],
  ])("reads %s", async (name, text) => {
    const root = tree({ [name]: text, "svc/api/Dockerfile": "FROM scratch\n" });
    if (name.endsWith(".js")) writeFileSync(path.join(root, "package.json"), '{"type": "module"}');
    const r = await resolver().forFile(path.join(root, "svc/api/Dockerfile"));
    expect(r.file).toBe(path.join(root, name));
    expect(r.config).toEqual({ unsafe: true, passes: { "cache-mounts": false } });
  });

  it("the nearest config wins, without merging; package.json without a dfopt key is passed over", async () => {
    const root = tree({
      "dfopt.config.json": '{"unsafe": true}',
      "repo/package.json": '{"name": "repo"}',
      "repo/svc/.dfoptrc.yml": "cacheStrategy: none\n",
      "repo/svc/Dockerfile": "",
      "repo/Dockerfile": "",
    });
    const r = resolver();
    const near = await r.forFile(path.join(root, "repo/svc/Dockerfile"));
    expect(near.config).toEqual({ cacheStrategy: "none" });
    const far = await r.forFile(path.join(root, "repo/Dockerfile"));
    expect(far.file).toBe(path.join(root, "dfopt.config.json"));
  });

  it("with no config anywhere up to the filesystem root, uses defaults", async () => {
    const root = tree({ "a/Dockerfile": "" });
    const r = await resolver().forFile(path.join(root, "a/Dockerfile"));
    // (A config above the temp directory would be found; there is none on a clean machine.)
    if (r.file === null) expect(r.config).toEqual({});
  });

  it("caches per directory: files in one directory share one lookup", async () => {
    const root = tree({ ".dfoptrc": "unsafe: false\n", "a/Dockerfile": "", "a/api.Dockerfile": "" });
    const r = resolver();
    const p1 = r.forFile(path.join(root, "a/Dockerfile"));
    const p2 = r.forFile(path.join(root, "a/api.Dockerfile"));
    expect(p1).toBe(p2);
    expect(await r.forDir(root)).toBe(await p1);
  });

  it("--config uses one file for everything; --no-config ignores configs", async () => {
    const root = tree({ "x.yml": "unsafe: true\n", "dfopt.config.json": '{"cacheStrategy": "none"}', Dockerfile: "" });
    const explicit = await resolver({ explicitFile: path.join(root, "x.yml") }).forFile(path.join(root, "Dockerfile"));
    expect(explicit.config).toEqual({ unsafe: true });
    const none = await resolver({ disabled: true }).forFile(path.join(root, "Dockerfile"));
    expect(none.file).toBeNull();
    await expect(resolver({ explicitFile: path.join(root, "nope.json") }).forFile(root)).rejects.toThrow(
      /nope\.json: no such config file/,
    );
  });

  it("ignore patterns are relative to the config's directory", async () => {
    const root = tree({ "dfopt.config.json": '{"ignore": ["legacy/", "*.gen.Dockerfile"]}', Dockerfile: "" });
    const r = await resolver().forFile(path.join(root, "Dockerfile"));
    expect(r.isIgnored(path.join(root, "legacy/x/Dockerfile"))).toBe(true);
    expect(r.isIgnored(path.join(root, "svc/a.gen.Dockerfile"))).toBe(true);
    expect(r.isIgnored(path.join(root, "svc/Dockerfile"))).toBe(false);
    expect(r.isIgnored("/elsewhere/legacy/Dockerfile")).toBe(false);
  });
});

describe("config validation names the file and the key", () => {
  const cases: [string, string, RegExp][] = [
    ["dfopt.config.json", '{"pases": {}}', /dfopt\.config\.json: unknown key "pases" \(known keys: passes, /],
    ["dfopt.config.json", '{"passes": {"cache-mountz": false}}', /"passes\.cache-mountz": unknown pass/],
    ["dfopt.config.json", '{"passes": {"cache-mounts": "no"}}', /"passes\.cache-mounts": expected boolean/],
    ["dfopt.config.json", '{"unsafe": "yes"}', /"unsafe": expected boolean/],
    ["dfopt.config.json", '{"cacheStrategy": "disk"}', /"cacheStrategy": .*"mount"\|"none"/],
    ["dfopt.config.json", '{"debianRelease": "Bookworm 12"}', /"debianRelease": expected a Debian release/],
    ["dfopt.config.json", '{"ignore": "vendor/"}', /"ignore": expected array/],
    ["dfopt.config.json", "[1, 2]", /expected an object with keys/],
    ["dfopt.config.json", "{unsafe: true}", /dfopt\.config\.json: invalid JSON/],
    [".dfoptrc.yml", "passes:\n  - a\n  b: [", /\.dfoptrc\.yml: invalid YAML \(line \d+\)/],
    ["dfopt.config.mjs", "export default {;", /dfopt\.config\.mjs: could not load/],
  ];
  it.each(cases)("%s %s", async (name, text, message) => {
    const root = tree({ [name]: text, Dockerfile: "" });
    const r = resolver();
    const error = await r.forFile(path.join(root, "Dockerfile")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).file).toBe(path.join(root, name));
  });
});

describe("mergeOptions: flags override config", () => {
  it("config passes become enable/skip; unsafe and pass options pass through", () => {
    expect(
      mergeOptions(
        {
          passes: { "uv-install": true, "cache-mounts": false },
          unsafe: true,
          cacheStrategy: "none",
          debianRelease: "trixie",
        },
        {},
      ),
    ).toEqual({
      enable: ["uv-install"],
      skip: ["cache-mounts"],
      unsafe: true,
      passOptions: { cacheStrategy: "none", debianRelease: "trixie" },
    });
  });

  it("--enable beats a config false, --skip beats a config true, --no-unsafe beats unsafe: true", () => {
    const o = mergeOptions(
      { passes: { "uv-install": true, "cache-mounts": false }, unsafe: true },
      { enable: ["cache-mounts"], skip: ["uv-install"], unsafe: false, cacheStrategy: "mount" },
    );
    expect(new Set(o.enable)).toEqual(new Set(["cache-mounts"]));
    expect(new Set(o.skip)).toEqual(new Set(["uv-install"]));
    expect(o.unsafe).toBe(false);
    expect(o.passOptions).toEqual({ cacheStrategy: "mount" });
  });

  it("--only replaces the config's pass choices", () => {
    const o = mergeOptions({ passes: { "cache-mounts": false } }, { only: ["cache-mounts"] });
    expect(o.only).toEqual(["cache-mounts"]);
    expect(o.skip).toBeUndefined();
  });
});
