import { describe, expect, it } from "vitest";
import { addToCopy, classifyAddSource } from "../passes/add-to-copy.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type BuildContext } from "../src/types.js";

const withContext = (files: Record<string, string>) => ({
  ...defaultPassOptions,
  buildContext: {
    dockerignore: null,
    exists: (p: string) => p in files,
    readText: (p: string) => files[p] ?? null,
  } satisfies BuildContext,
});

describe("add-to-copy: wildcard sources (audit finding 12)", () => {
  it("never calls a pattern that may match a tar archive safe", () => {
    for (const source of ["vendor/oracle/*", "./build/*", "./*", "*", "app-*", "file[0-9]", "data?", "conf*/", "x.*"]) {
      expect(classifyAddSource(source, defaultPassOptions).kind, source).toBe("unsafe");
    }
  });

  it("stays unsafe with a build context: the context can't be listed", () => {
    expect(classifyAddSource("vendor/oracle/*", withContext({ "vendor/oracle/a.txt": "x" })).kind).toBe("unsafe");
  });

  it("is safe when every match ends in a literal non-archive extension", () => {
    for (const source of ["*.py", "conf/*.yml", "src/**/*.js", "app-?.jar", "*/settings.py"]) {
      expect(classifyAddSource(source, defaultPassOptions).kind, source).toBe("copy");
    }
  });

  it("keeps ADD for patterns that name tar archives", () => {
    expect(classifyAddSource("dist/*.tar.gz", defaultPassOptions).kind).toBe("keep");
    expect(classifyAddSource("*.tgz", defaultPassOptions).kind).toBe("keep");
  });

  it("applies the glob rewrite only with --unsafe, naming the risk", () => {
    const text = "FROM debian:bookworm\nADD vendor/oracle/* /opt/oracle/\n";
    const change = addToCopy.run(parseDockerfile(text), defaultPassOptions).changes[0]!;
    expect(change.safety).toBe("unsafe");
    expect(change.unsafeBecause).toMatch(/pattern that may match a tar archive/);
    expect(optimizeDockerfile(text, { only: ["add-to-copy"] }).output).toBe(text);
    expect(optimizeDockerfile(text, { only: ["add-to-copy"], unsafe: true }).output).toBe(
      "FROM debian:bookworm\nCOPY vendor/oracle/* /opt/oracle/\n",
    );
  });
});

describe("add-to-copy: never-an-archive extensions", () => {
  it("does not treat Alpine .apk packages (gzip tar) as plain files", () => {
    expect(classifyAddSource("glibc-2.35-r0.apk", defaultPassOptions).kind).toBe("unsafe");
    expect(classifyAddSource("packages/*.apk", defaultPassOptions).kind).toBe("unsafe");
  });

  it("does not treat other tar-based package formats as plain files", () => {
    for (const source of ["x.gem", "x.crate", "x.ipk", "x.ova", "x.box"]) {
      expect(classifyAddSource(source, defaultPassOptions).kind, source).not.toBe("copy");
    }
  });

  it("still treats zip-based and text formats as plain", () => {
    for (const source of ["app.jar", "app.whl", "a.zip", "x.deb", "nginx.conf"]) {
      expect(classifyAddSource(source, defaultPassOptions).kind, source).toBe("copy");
    }
  });
});
