/**
 * builder-runner: python3-pip's recommended build packages (left out of the
 * runner with `build-essential- python3-dev-`), full python:X.Y images as the
 * builder with a slim runner, and the shared-library steps that give the slim
 * runner what the built extensions link. The library steps are run for real
 * through /bin/sh with stand-ins for ldd, dpkg, dpkg-query and apt-get.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { passById } from "../passes/index.js";
import {
  DEBIAN_BOOKWORM,
  installsWithoutBuildPackages,
  isAptPip,
  NO_BUILD_DEPENDS,
  PIP_RECOMMENDED_BUILD,
} from "../passes/lib/runtime-packages.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type BuildContext, type PassOptions } from "../src/types.js";

const pass = passById("builder-runner")!;

function runPass(text: string, options: Partial<PassOptions> = {}) {
  return pass.run(parseDockerfile(text), {
    ...defaultPassOptions,
    enabledPasses: new Set(["builder-runner"]),
    ...options,
  });
}

function fakeContext(files: Record<string, string>): BuildContext {
  return {
    dockerignore: null,
    exists: (p) => Object.keys(files).some((f) => f === p || f.startsWith(`${p.replace(/\/$/, "")}/`)),
    readText: (p) => files[p] ?? null,
  };
}

const reasons = (text: string) => runPass(text).skips.map((s) => s.reason);

// ---------------------------------------------------------------------------

/** Whether apt-cache can answer here (bookworm lists present). */
const aptCache = (() => {
  const r = spawnSync("apt-cache", ["show", "--no-all-versions", "python3-pip"], { encoding: "utf8" });
  return !r.error && r.status === 0 && /Recommends: .*build-essential/.test(r.stdout);
})();

describe.skipIf(!aptCache)("python3-pip's recommends against apt-cache (bookworm)", () => {
  it("python3-pip recommends exactly the build packages the pass leaves out", () => {
    const show = execFileSync("apt-cache", ["show", "--no-all-versions", "python3-pip"], { encoding: "utf8" });
    const recommends = /^Recommends: (.*)$/m
      .exec(show)![1]!
      .split(",")
      .map((p) => p.trim().split(/\s/)[0]!);
    expect(recommends.sort()).toEqual([...PIP_RECOMMENDED_BUILD].sort());
  });

  it("no package the runner may keep next to them depends on them (apt-get would fail)", () => {
    const names = [...NO_BUILD_DEPENDS, ...new Set(DEBIAN_BOOKWORM.flatMap((e) => e.runtime))];
    const out = execFileSync(
      "apt-cache",
      [
        "depends",
        "--recurse",
        "--no-recommends",
        "--no-suggests",
        "--no-conflicts",
        "--no-breaks",
        "--no-replaces",
        "--no-enhances",
        ...names,
      ],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    const reached = new Set(out.split("\n").filter((l) => /^\S/.test(l)));
    for (const p of [...PIP_RECOMMENDED_BUILD, "libpython3-dev", "python3.11-dev", "gcc", "g++", "make"]) {
      expect(reached.has(p), p).toBe(false);
    }
  });
});

describe("python3-pip installed with recommends", () => {
  const ubuntu = (install: string, tail = 'CMD ["python3", "app.py"]\n') =>
    `FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ${install}\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip3 install -r requirements.txt\nCOPY . .\n${tail}`;

  it("knows python3-pip and which packages can't depend on its recommends", () => {
    expect(isAptPip("python3-pip")).toBe(true);
    expect(isAptPip("python3-pip=23.0.1+dfsg-1")).toBe(true);
    expect(isAptPip("python3-pipx")).toBe(false);
    expect(installsWithoutBuildPackages("python3")).toBe(true);
    expect(installsWithoutBuildPackages("python3.10-venv")).toBe(true);
    expect(installsWithoutBuildPackages("libpq5")).toBe(true);
    expect(installsWithoutBuildPackages("nginx")).toBe(false);
    expect(installsWithoutBuildPackages("python3-numpy")).toBe(false);
  });

  it("splits safely and tells the runner's apt-get to leave build-essential and python3-dev out", () => {
    const r = runPass(ubuntu("python3 python3-pip curl"));
    expect(r.changes).toHaveLength(1);
    const change = r.changes[0]!;
    expect(change.safety).toBe("safe");
    expect(change.reason).toMatch(/python3-pip recommends build-essential and python3-dev/);
    const out = optimizeDockerfile(ubuntu("python3 python3-pip curl"), { only: ["builder-runner"] }).output;
    const [builder, runner] = out.split(/\n\n(?=FROM)/);
    // The builder installs exactly what the original did (compilers included).
    expect(builder).toContain("apt-get install -y python3 python3-pip curl\n");
    expect(builder).toContain("pip3 install --user -r requirements.txt");
    expect(runner).toContain("apt-get install -y python3 python3-pip curl build-essential- python3-dev-\n");
    expect(runner).not.toContain("pip3 install");
  });

  it("adds the exclusion next to runtime libraries when build packages are named too", () => {
    const out = optimizeDockerfile(ubuntu("python3 python3-pip gcc libpq-dev"), {
      only: ["builder-runner"],
      unsafe: true,
    }).output;
    expect(out).toContain("apt-get install -y python3 python3-pip libpq5 build-essential- python3-dev-\n");
  });

  it("is no candidate when recommends are off", () => {
    for (const install of [
      "--no-install-recommends python3 python3-pip",
      "-o APT::Install-Recommends=false python3 python3-pip",
    ]) {
      expect(runPass(ubuntu(install))).toEqual({ changes: [], skips: [] });
    }
    const configured = `FROM debian:bookworm-slim\nRUN echo 'APT::Install-Recommends "0";' > /etc/apt/apt.conf.d/norec\n${ubuntu("python3 python3-pip").split("\n").slice(1).join("\n")}`;
    expect(runPass(configured)).toEqual({ changes: [], skips: [] });
  });

  it("refuses when a kept package might depend on them: apt-get would fail", () => {
    expect(reasons(ubuntu("python3 python3-pip nginx"))).toEqual([
      expect.stringMatching(/also names nginx, which dfopt can't show does not depend on them/),
    ]);
  });

  it("refuses when something the runner keeps may use a tool they brought", () => {
    expect(reasons(ubuntu("python3 python3-pip", "RUN tar -xJf /tmp/a.tar.xz -C /srv\n"))).toEqual([
      expect.stringMatching(/runs `tar -xJf[^`]*`, which may need a tool they brought/),
    ]);
    expect(reasons(ubuntu("python3 python3-pip", 'CMD ["make", "serve"]\n'))).toEqual([
      expect.stringMatching(/runs make/),
    ]);
    expect(reasons(ubuntu("python3 python3-pip", "CMD perl -e 1 && python3 app.py\n"))).toEqual([
      expect.stringMatching(/runs perl/),
    ]);
    // Permissions and user setup are fine.
    expect(runPass(ubuntu("python3 python3-pip", "RUN chmod -R a+rX /app && mkdir -p /data\n")).changes).toHaveLength(
      1,
    );
  });
});

// ---------------------------------------------------------------------------

describe("a full python:X.Y image as the builder", () => {
  const full = (body: string, base = "python:3.11") =>
    `FROM ${base}\nWORKDIR /srv\nCOPY requirements.txt .\n${body}\nCOPY . .\nCMD ["python", "main.py"]\n`;

  it("splits a plain pip install onto a slim runner, unsafe, saying what the full image had", () => {
    const r = runPass(full("RUN pip install -r requirements.txt"));
    expect(r.changes).toHaveLength(1);
    const change = r.changes[0]!;
    expect(change.safety).toBe("unsafe");
    expect(change.unsafeBecause).toMatch(
      /python:3\.11-slim instead of python:3\.11: the full image's tools \(git, curl/,
    );
    expect(change.reason).toMatch(/on the full python:3\.11 image/);
    expect(change.reason).toMatch(/ldd, dpkg -S/);
    // Applied only with --unsafe.
    expect(optimizeDockerfile(full("RUN pip install -r requirements.txt"), { only: ["builder-runner"] }).output).toBe(
      full("RUN pip install -r requirements.txt"),
    );
  });

  it("names the slim variant of every full tag form, and refuses what it can't name", () => {
    const runner = (base: string) => {
      const out = optimizeDockerfile(full("RUN pip install flask", base), { only: ["builder-runner"], unsafe: true });
      return /FROM (\S+) AS runner/.exec(out.output)?.[1] ?? null;
    };
    expect(runner("python:3.11")).toBe("python:3.11-slim");
    expect(runner("python:3.11-bookworm")).toBe("python:3.11-slim-bookworm");
    expect(runner("python:bookworm")).toBe("python:slim-bookworm");
    expect(runner("python")).toBe("python:slim");
    expect(runner("python:3.11-slim")).toBeNull(); // slim already: nothing to build, no candidate
    expect(reasons(full("RUN pip install flask", "python@sha256:0123"))).toEqual([
      expect.stringMatching(/has no slim variant dfopt can name/),
    ]);
  });

  it("keeps the library list out of the image: a bind mount with BuildKit, else COPY then rm", () => {
    const buildkit = optimizeDockerfile(full("RUN --mount=type=cache,target=/root/.cache/pip pip install flask"), {
      only: ["builder-runner"],
      unsafe: true,
    }).output;
    expect(buildkit).toContain(
      "RUN --mount=type=bind,from=builder,source=/tmp/runtime-packages.txt,target=/tmp/runtime-packages.txt \\\n",
    );
    const legacy = optimizeDockerfile(full("RUN pip install flask"), { only: ["builder-runner"], unsafe: true }).output;
    expect(legacy).toContain("COPY --from=builder /tmp/runtime-packages.txt /tmp/runtime-packages.txt\n");
    expect(legacy).toContain("&& rm -f /tmp/runtime-packages.txt\n");
    // The runner's steps come before the packages, the app's COPY after them.
    const runner = legacy.split("AS runner")[1]!;
    expect(runner.indexOf("runtime-packages.txt")).toBeLessThan(runner.indexOf("COPY --from=builder /root/.local"));
    expect(runner.indexOf("COPY --from=builder /root/.local")).toBeLessThan(runner.indexOf("COPY . ."));
  });

  it("lists the user site of a non-root USER, and follows the file's escape character", () => {
    const text =
      "FROM python:3.11\nRUN useradd app\nWORKDIR /srv\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nUSER app\nCMD python main.py\n";
    const out = optimizeDockerfile(text, { only: ["builder-runner"], unsafe: true }).output;
    expect(out).toContain("RUN find /home/app/.local -type f \\( -name '*.so*' -o -perm -u+x \\)");
    const escaped = optimizeDockerfile(`# escape=\`\n${full("RUN pip install flask")}`, {
      only: ["builder-runner"],
      unsafe: true,
    }).output;
    expect(escaped).toContain("2>/dev/null `\n    | awk");
    expect(escaped).not.toContain("2>/dev/null \\\n");
  });

  it("refuses a stage with SHELL: the library steps are /bin/sh", () => {
    expect(reasons(`FROM python:3.11\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN pip install flask\n`)).toEqual([
      expect.stringMatching(/sets SHELL/),
    ]);
  });

  it("is idempotent and its output parses with every RUN still shell", () => {
    const out = optimizeDockerfile(full("RUN pip install -r requirements.txt"), {
      only: ["builder-runner"],
      unsafe: true,
      passOptions: { buildContext: fakeContext({ "requirements.txt": "flask\n" }) },
    }).output;
    const parsed = parseDockerfile(out);
    expect(parsed.stages).toHaveLength(2);
    expect(parsed.instructions.every((i) => !i.shell || i.shell.parse.ok)).toBe(true);
    expect(runPass(out)).toEqual({ changes: [], skips: [] });
  });
});

// ---------------------------------------------------------------------------
// The library steps, run through /bin/sh with stand-in tools.

describe.skipIf(process.platform !== "linux")("the shared-library steps, run for real", () => {
  const work = mkdtempSync(path.join(tmpdir(), "dfopt-libsteps-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const out = optimizeDockerfile(
    "FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCMD python\n",
    { only: ["builder-runner"], unsafe: true },
  ).output;
  /** A RUN's shell text: from after `RUN ` (and its flags) to the end of the instruction. */
  const runBody = (marker: string) => {
    const file = parseDockerfile(out);
    const node = file.instructions.find((i) => i.keyword === "RUN" && out.slice(i.start, i.end).includes(marker))!;
    return out.slice(node.bodyStart, node.end);
  };
  const tool = (bin: string, name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };

  it("the builder lists the packages owning the linked libraries, through usrmerge paths", () => {
    const root = path.join(work, "builder");
    const bin = path.join(root, "bin");
    const site = path.join(root, "home/.local/lib/site-packages");
    mkdirSync(bin, { recursive: true });
    mkdirSync(site, { recursive: true });
    mkdirSync(path.join(root, "usr/lib"), { recursive: true });
    symlinkSync(path.join(root, "usr/lib"), path.join(root, "lib"));
    writeFileSync(path.join(root, "usr/lib/libjpeg.so.62.3.0"), "");
    symlinkSync("libjpeg.so.62.3.0", path.join(root, "usr/lib/libjpeg.so.62"));
    writeFileSync(path.join(site, "_jpeg.cpython-311-x86_64-linux-gnu.so"), "");
    writeFileSync(path.join(site, "_bundled.so"), "");
    // ldd as glibc prints it: the vdso, libraries by soname, the loader; one from the user site.
    tool(
      bin,
      "ldd",
      `for f in "$@"; do echo "$f:"; echo "	linux-vdso.so.1 (0x00007ffd)"; echo "	libjpeg.so.62 => ${root}/lib/libjpeg.so.62 (0x00007f24)"; echo "	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f24)"; echo "	libz.so.1 => /usr/lib/libz.so.1 (0x1)"; echo "	libfoo.so.1 => ${site}/foo.libs/libfoo.so.1 (0x1)"; echo "	libgone.so.1 => not found"; echo "	/lib64/ld-linux-x86-64.so.2 (0x00007f24)"; done`,
    );
    // dpkg knows the /usr path of libjpeg only (usrmerge), /lib of libc, and a diverted, shared zlib.
    tool(
      bin,
      "dpkg",
      `case "$2" in
  ${root}/usr/lib/libjpeg.so.62.3.0) echo "libjpeg62-turbo:amd64: $2" ;;
  /lib/x86_64-linux-gnu/libc.so.6) echo "libc6:amd64: $2" ;;
  /usr/lib/libz.so.1) echo "diversion by zfoo from: $2"; echo "zlib1g:amd64, zlib-extra: $2" ;;
  *) echo "dpkg-query: no path found matching pattern $2" >&2; exit 1 ;;
esac`,
    );
    const script = runBody("ldd")
      .replaceAll("/root/.local", path.join(root, "home/.local"))
      .replaceAll("/tmp/runtime-packages.txt", path.join(root, "list.txt"));
    execFileSync("/bin/sh", ["-c", script], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(readFileSync(path.join(root, "list.txt"), "utf8")).toBe("libc6\nlibjpeg62-turbo\nzlib-extra\nzlib1g\n");
  });

  it("the builder writes an empty list when pip installed nothing (no user site)", () => {
    const list = path.join(work, "empty.txt");
    const script = runBody("ldd")
      .replaceAll("/root/.local", path.join(work, "nonexistent"))
      .replaceAll("/tmp/runtime-packages.txt", list);
    execFileSync("/bin/sh", ["-c", script]);
    expect(readFileSync(list, "utf8")).toBe("");
  });

  const runner = (listed: string, installed: readonly string[]) => {
    const root = mkdtempSync(path.join(work, "runner-"));
    const bin = path.join(root, "bin");
    mkdirSync(bin);
    const log = path.join(root, "apt.log");
    writeFileSync(path.join(root, "list.txt"), listed);
    tool(
      bin,
      "dpkg-query",
      `for p; do :; done; case " ${installed.join(" ")} " in *" $p "*) printf 'install ok installed' ;; *) echo "dpkg-query: no packages found matching $p" >&2; exit 1 ;; esac`,
    );
    tool(bin, "apt-get", `echo "apt-get $*" >> ${log}`);
    tool(bin, "rm", `echo "rm $*" >> ${log}`);
    const script = runBody("dpkg-query").replaceAll("/tmp/runtime-packages.txt", path.join(root, "list.txt"));
    execFileSync("/bin/sh", ["-c", script], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    try {
      return readFileSync(log, "utf8");
    } catch {
      return "";
    }
  };

  it("the runner installs exactly the listed packages it lacks", () => {
    const log = runner("libc6\nlibjpeg62-turbo\nlibpq5\n", ["libc6", "libpq5"]).split("\n");
    expect(log[0]).toBe("apt-get update");
    expect(log[1]).toBe("apt-get install -y --no-install-recommends libjpeg62-turbo");
    expect(log[2]).toMatch(/^rm -rf \/var\/lib\/apt\/lists\//);
    expect(log[3]).toMatch(/^rm -f .*list\.txt$/);
  });

  it("the runner runs no apt-get at all when it has everything", () => {
    expect(runner("libc6\nlibpq5\n", ["libc6", "libpq5"])).toMatch(/^rm -f .*list\.txt\n$/);
    expect(runner("", [])).toMatch(/^rm -f .*list\.txt\n$/);
  });
});
