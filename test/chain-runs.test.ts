/**
 * chain-runs: the safety analysis (what leaks, what needs grouping, when
 * errexit or a separate RUN's fresh world matters) and a differential check
 * that runs Dockerfiles before and after the pass with a real shell, RUN by
 * RUN as Docker does, and compares what the build prints and whether it fails.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chainRuns } from "../passes/chain-runs.js";
import {
  aptListsEvents,
  bodyShape,
  carryOverHazard,
  deepWalk,
  execAsShell,
  leakedState,
  mayEnableErrexit,
  selfUpgradedTools,
  setsErrexit,
  shellOptions,
} from "../passes/lib/chain-body.js";
import { detectChainStyle } from "../passes/lib/chain-layout.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell, type ShellScript, type SimpleCommand } from "../src/shell.js";
import { defaultPassOptions } from "../src/types.js";

function script(source: string): ShellScript {
  const parsed = parseShell(source);
  if (!parsed.ok) throw new Error(`does not parse: ${source}`);
  return parsed.script;
}

function firstCommand(source: string): SimpleCommand {
  const command = script(source).statements[0]!.andOr.pipelines[0]!.commands[0]!;
  if (command.kind !== "simple") throw new Error("not a simple command");
  return command;
}

function chain(text: string, unsafe = false): string {
  return optimizeDockerfile(text, { only: ["chain-runs"], unsafe }).output;
}

function skipsOf(text: string): string[] {
  return chainRuns.run(parseDockerfile(text), defaultPassOptions).skips.map((s) => s.reason);
}

describe("chain-runs: body analysis", () => {
  it("finds the shell state a body leaves behind", () => {
    expect(leakedState(script("apt-get update && apt-get install -y curl"))).toEqual([]);
    expect(leakedState(script("cd /src && make"))).toEqual(["cd"]);
    expect(leakedState(script("export A=1; B=2 make"))).toEqual(["export"]);
    expect(leakedState(script("A=1"))).toEqual(["assignment"]);
    expect(leakedState(script("set -x && make"))).toEqual(["set"]);
    expect(leakedState(script("f() { :; }"))).toEqual(["function"]);
    expect(leakedState(script("if true; then exit 0; fi"))).toEqual(["exit"]);
    // Inside a subshell, a pipeline or the background nothing leaks.
    expect(leakedState(script("(cd /src && make) && echo ok"))).toEqual([]);
    expect(leakedState(script("cd /x | cat"))).toEqual([]);
  });

  it("sees state set behind `command`, by assigning builtins and by assigning expansions", () => {
    expect(leakedState(script("command cd /tmp"))).toEqual(["command cd"]);
    expect(leakedState(script("command -p export A=1"))).toEqual(["command export"]);
    expect(leakedState(script("builtin cd /tmp"))).toEqual(["builtin", "builtin cd"]);
    expect(leakedState(script("command -v cd >/dev/null"))).toEqual([]);
    expect(leakedState(script("read A < /etc/hostname"))).toEqual(["read"]);
    expect(leakedState(script("command read -r A < f"))).toEqual(["read"]);
    expect(leakedState(script("getopts ab OPT"))).toEqual(["getopts"]);
    expect(leakedState(script("mapfile -t L < f"))).toEqual(["mapfile"]);
    expect(leakedState(script("readarray L < f"))).toEqual(["readarray"]);
    expect(leakedState(script("printf -v P %s x"))).toEqual(["printf -v"]);
    expect(leakedState(script("echo ${B:=x}"))).toEqual(["${VAR:=…} assignment"]);
    expect(leakedState(script(": ${B=x}"))).toEqual(["${VAR:=…} assignment"]);
    expect(leakedState(script("echo $((N=5)) $((M++))"))).toEqual(["$((…)) assignment"]);
    // Not state: a pipeline's `read` runs in a subshell; `${#V}`, `${V:-x}`, `$((a <= b))` assign nothing.
    expect(leakedState(script("echo a | read V"))).toEqual([]);
    expect(leakedState(script("echo ${#V} ${V:-x} $((a <= b)) $((a == b))"))).toEqual([]);
    // A printf whose format holds an expansion is no `printf -v`.
    expect(leakedState(script('printf "K=${K}\\n" > /out/info'))).toEqual([]);
  });

  it("wraps such bodies in ( … ) when chaining", () => {
    const out = chain("FROM debian:12\nRUN command cd /tmp\nRUN pwd\n");
    expect(out).toBe("FROM debian:12\nRUN (command cd /tmp) \\\n    && pwd\n");
    expect(chain("FROM debian:12\nRUN read A < /etc/hostname\nRUN echo $A\n")).toContain("(read A < /etc/hostname)");
    expect(chain("FROM debian:12\nRUN echo ${B:=x}\nRUN echo $B\n")).toContain("(echo ${B:=x})");
    // `$DIR/bin/tool` contains a `/`: always a file, never a builtin.
    expect(leakedState(script("$CONDA_DIR/bin/conda clean -y"))).toEqual([]);
    expect(leakedState(script("$CMD install"))).toEqual(["dynamic command"]);
  });

  it("tells which bodies need grouping", () => {
    expect(bodyShape(script("a && b"))).toMatchObject({ statements: 1, hasOr: false, trailing: "" });
    expect(bodyShape(script("a || b"))).toMatchObject({ hasOr: true });
    expect(bodyShape(script("a; b"))).toMatchObject({ statements: 2 });
    expect(bodyShape(script("a;"))).toMatchObject({ statements: 1, trailing: ";" });
    expect(bodyShape(script("a &"))).toMatchObject({ trailing: "&" });
    expect(bodyShape(script("a && b # note"))).toMatchObject({ hasComment: true, trailing: "" });
  });

  it("reads errexit from set, and refuses to guess through source/eval/variables", () => {
    expect(setsErrexit(firstCommand("set -e"))).toBe(true);
    expect(setsErrexit(firstCommand("set -eux"))).toBe(true);
    expect(setsErrexit(firstCommand("set -o errexit"))).toBe(true);
    expect(setsErrexit(firstCommand("set -Eeuo pipefail"))).toBe(true);
    expect(setsErrexit(firstCommand("set -x"))).toBe(false);
    expect(setsErrexit(firstCommand("set -o pipefail"))).toBe(false);
    expect(setsErrexit(firstCommand("set -xo pipefail"))).toBe(false);
    expect(setsErrexit(firstCommand("set -- -e"))).toBe(false);
    expect(setsErrexit(firstCommand("set $FLAGS"))).toBe(null);
    expect(mayEnableErrexit(deepWalk(script("set -x; make")))).toBe(null);
    expect(mayEnableErrexit(deepWalk(script("(set -e; make) && echo")))).toMatch(/set -e/);
    expect(mayEnableErrexit(deepWalk(script(". /etc/os-release && echo $ID")))).toMatch(/`\.`/);
    expect(mayEnableErrexit(deepWalk(script('eval "$X"')))).toMatch(/eval/);
    expect(mayEnableErrexit(deepWalk(script("builtin set -e")))).toMatch(/set -e/);
  });

  it("walks into subshells and functions and knows what runs in the shell itself", () => {
    const walk = deepWalk(script("(cd /x && make) | tee log; f() { pip install -U pip; }; pip --version"));
    const byName = new Map(walk.commands.map((c) => [c.command.name, c.currentShell]));
    expect(byName.get("make")).toBe(false);
    expect(byName.get("tee")).toBe(false);
    expect(byName.get("pip")).toBe(true);
    expect(walk.background).toBe(false);
    expect(deepWalk(script("(sleep 1 &) && echo")).background).toBe(true);
  });

  it("spots what only the end of a RUN undoes", () => {
    const hazard = (s: string, workdir: string | null = null) => carryOverHazard(deepWalk(script(s)), workdir, null);
    expect(hazard("rm /bin/sh && ln -s /bin/bash /bin/sh")).toMatch(/replaces the shell/);
    expect(hazard("ln -sf bash /bin/sh")).toMatch(/replaces the shell/);
    expect(hazard("useradd -m -s /bin/bash app")).toBe(null);
    expect(hazard("echo '10.0.0.1 db' >> /etc/hosts")).toMatch(/hosts/);
    expect(hazard("sed -i 's/a/b/' /etc/resolv.conf")).toMatch(/resolv/);
    expect(hazard("cp /etc/hosts /tmp/hosts && cat /etc/resolv.conf")).toBe(null);
    expect(hazard("service postgresql start && psql -c 'select 1'")).toMatch(/starts a service/);
    expect(hazard("sudo service mysql start")).toMatch(/starts a service/);
    expect(hazard("service mysql start && mysql < x.sql && service mysql stop")).toBe(null);
    expect(hazard("systemctl enable nginx")).toBe(null);
    expect(hazard("nohup server")).toMatch(/service/);
    expect(hazard("rm -rf /app", "/app")).toMatch(/WORKDIR/);
    expect(hazard("rm -rf /tmp/*", "/tmp")).toBe(null);
    expect(hazard("rm -rf /usr/src/*", "/usr/src/app")).toMatch(/WORKDIR/);
  });

  it("finds package managers that upgrade themselves", () => {
    expect([...selfUpgradedTools(deepWalk(script("pip3 install --upgrade pip")))]).toContain("pip3");
    expect([...selfUpgradedTools(deepWalk(script("python -m pip install -U pip setuptools")))]).toContain("pip");
    expect([...selfUpgradedTools(deepWalk(script("npm install -g npm@10")))]).toEqual(["npm"]);
    expect([...selfUpgradedTools(deepWalk(script("gem update --system")))]).toEqual(["gem"]);
    expect(selfUpgradedTools(deepWalk(script("pip install flask"))).size).toBe(0);
  });

  it("orders apt list events", () => {
    expect(
      aptListsEvents(deepWalk(script("apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*"))),
    ).toEqual(["update", "needs-lists", "remove-lists"]);
    expect(aptListsEvents(deepWalk(script("rm -rf /var/lib/apt/lists/* /tmp/*")))).toEqual(["remove-lists"]);
    expect(aptListsEvents(deepWalk(script("apt-get clean")))).toEqual([]);
  });

  it("rewrites exec form only when the words mean the same in shell form", () => {
    expect(execAsShell(["apt-get", "install", "-y", "curl"])).toBe("apt-get install -y curl");
    expect(execAsShell(["/usr/bin/pip", "install", "flask==3.0"])).toBe("/usr/bin/pip install flask==3.0");
    expect(execAsShell(["echo", "hi"])).toBe(null); // builtin echo differs from /bin/echo
    expect(execAsShell(["sh", "-c", "a && b"])).toBe(null);
    expect(execAsShell(["ls", "*.txt"])).toBe(null);
    expect(execAsShell(["printf", "$HOME"])).toBe(null);
    expect(execAsShell(["A=b", "cmd"])).toBe(null);
    expect(execAsShell([])).toBe(null);
  });

  it("reads SHELL options", () => {
    expect(shellOptions(null)).toEqual({ errexit: false });
    expect(shellOptions(["/bin/bash", "-o", "pipefail", "-c"])).toEqual({ errexit: false });
    expect(shellOptions(["/bin/bash", "-eo", "pipefail", "-c"])).toEqual({ errexit: true });
    expect(shellOptions(["/bin/sh", "-ec"])).toEqual({ errexit: true });
    expect(shellOptions(["/bin/bash", "-l", "-c"])).toHaveProperty("refuse");
    expect(shellOptions(["/bin/bash", "--login", "-c"])).toHaveProperty("refuse");
    expect(shellOptions(["powershell", "-Command"])).toHaveProperty("refuse");
  });

  it("detects the file's continuation style", () => {
    const trailing = parseDockerfile("FROM a\nRUN a && \\\n  b && \\\n  c\n");
    expect(detectChainStyle(trailing)).toEqual({ indent: "  ", operator: "trailing" });
    const leading = parseDockerfile("FROM a\nRUN a \\\n\t&& b \\\n\t&& c\n");
    expect(detectChainStyle(leading)).toEqual({ indent: "\t", operator: "leading" });
    expect(detectChainStyle(parseDockerfile("FROM a\nRUN a\n"))).toEqual({ indent: "    ", operator: "leading" });
  });
});

describe("chain-runs: rewrites", () => {
  it("joins update with install, keeping each body's bytes", () => {
    expect(chain("FROM d\nRUN apt-get update\nRUN apt-get install -y curl\n")).toBe(
      "FROM d\nRUN apt-get update \\\n    && apt-get install -y curl\n",
    );
  });

  it("groups a || b and multi-statement bodies on either side of &&", () => {
    expect(chain("FROM d\nRUN a || b\nRUN c || d\n")).toBe("FROM d\nRUN { a || b; } \\\n    && { c || d; }\n");
    expect(chain("FROM d\nRUN a; b\nRUN c\n")).toBe("FROM d\nRUN { a; b; } \\\n    && c\n");
    expect(chain("FROM d\nRUN (a) ; cd x\nRUN c\n")).toBe("FROM d\nRUN ( (a) ; cd x) \\\n    && c\n");
  });

  it("unites differing cache mounts and keeps identical flags once", () => {
    expect(
      chain(
        "FROM d\nRUN --mount=type=cache,target=/root/.cache/pip pip install a\nRUN --mount=type=cache,target=/root/.npm npm ci\n",
      ),
    ).toBe(
      "FROM d\nRUN --mount=type=cache,target=/root/.cache/pip --mount=type=cache,target=/root/.npm pip install a \\\n    && npm ci\n",
    );
    expect(chain("FROM d\nRUN --network=none a\nRUN --network=none b\n")).toBe(
      "FROM d\nRUN --network=none a \\\n    && b\n",
    );
  });

  it("refuses a cache mount the other RUN would see", () => {
    const implicit = "FROM d\nRUN --mount=type=cache,target=/root/.cache/pip pip install a\nRUN pip install b\n";
    expect(chain(implicit)).toBe(implicit);
    expect(skipsOf(implicit).join("\n")).toMatch(/runs pip, whose cache that is/);
    const parent = "FROM d\nRUN --mount=type=cache,target=/root/.cache/pip pip install a\nRUN rm -rf /root/.cache\n";
    expect(chain(parent)).toBe(parent);
    expect(skipsOf(parent).join("\n")).toMatch(/works on \/root\/.cache/);
    const home = "FROM d\nRUN --mount=type=cache,target=/root/.npm npm ci\nRUN rm -rf ~/.npm/_logs\n";
    expect(chain(home)).toBe(home);
  });

  it("chains after a pip self-upgrade on the official python image only", () => {
    const ubuntu = "FROM ubuntu:20.04\nRUN pip install -U pip\nRUN pip install flask\n";
    expect(chain(ubuntu)).toBe(ubuntu);
    expect(chain("FROM python:3.12-slim\nRUN pip install -U pip\nRUN pip install flask\n")).toBe(
      "FROM python:3.12-slim\nRUN pip install -U pip \\\n    && pip install flask\n",
    );
    // The shell never ran `pip` itself: nothing to remember.
    expect(chain("FROM ubuntu\nRUN python3 -m pip install -U pip\nRUN pip install flask\n")).toBe(
      "FROM ubuntu\nRUN python3 -m pip install -U pip \\\n    && pip install flask\n",
    );
  });

  it("never chains across stages, instructions, heredocs, or onto a dangling continuation", () => {
    const stages = "FROM a AS one\nRUN x\nFROM one\nRUN y\n";
    expect(chain(stages)).toBe(stages);
    const onbuild = "FROM a\nRUN x\nONBUILD RUN y\nRUN z\n";
    expect(chain(onbuild)).toBe(onbuild);
    const heredoc = "FROM a\nRUN <<EOF\necho hi\nEOF\nRUN y\n";
    expect(chain(heredoc)).toBe(heredoc);
    expect(skipsOf(heredoc).join()).toMatch(/heredoc/);
  });

  it("keeps a RUN under # dfopt ignore or # hadolint ignore=DL3059 apart, and chains its neighbours", () => {
    const hadolint = "FROM a\nRUN x\n# hadolint ignore=DL3059\nRUN y\nRUN z\nRUN w\n";
    expect(chain(hadolint)).toBe("FROM a\nRUN x\n# hadolint ignore=DL3059\nRUN y\nRUN z \\\n    && w\n");
    const dfopt = "FROM a\nRUN x\n# dfopt ignore=chain-runs\nRUN y\n";
    expect(chain(dfopt)).toBe(dfopt);
    // An ignore comment for another pass belongs to the RUN below it: chained, it would be lost.
    const other = "FROM a\nRUN x\n# dfopt ignore=cache-mounts\nRUN y\n";
    expect(chain(other)).toBe(other);
    expect(skipsOf(other).join()).toMatch(/applies to this RUN alone/);
  });

  it("refuses under a login SHELL or ENV BASH_ENV", () => {
    const login = 'FROM a\nSHELL ["/bin/bash", "--login", "-c"]\nRUN x\nRUN y\n';
    expect(chain(login)).toBe(login);
    const bashEnv = "FROM a\nENV BASH_ENV=/root/.bashrc\nRUN x\nRUN y\n";
    expect(chain(bashEnv)).toBe(bashEnv);
  });

  it("reaches the same result merging one RUN at a time or all at once", () => {
    const text = "FROM a\nRUN cd /x && make\nRUN a || b\nRUN c; d\nRUN e\n";
    const once = chain(text);
    // Chain the first two by hand the way the pass would, then let it finish.
    const stepwise = chain("FROM a\nRUN (cd /x && make) \\\n    && { a || b; }\nRUN c; d\nRUN e\n");
    expect(stepwise).toBe(once);
  });
});

/**
 * Docker runs each RUN as `sh -c <body>` in a fresh shell, stopping the build
 * at the first that fails. Build many Dockerfiles that way in one driver
 * process (each in a fresh directory) and return, per build, what it printed
 * and whether it succeeded.
 */
function buildAll(builds: readonly { text: string; shell: readonly string[] }[]): string[] {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const root = mkdtempSync(path.join(tmpdir(), "chain-runs-"));
  try {
    const lines: string[] = [];
    builds.forEach(({ text, shell }, i) => {
      const bodies: string[] = [];
      for (const node of parseDockerfile(text).instructions) {
        if (node.keyword === "RUN" && node.shell) bodies.push(node.shell.logical.text);
      }
      // A fresh directory per build, with a fixed name so `pwd` prints the same.
      const dir = path.join(root, String(i), "work");
      mkdirSync(dir, { recursive: true });
      const runs = bodies.map((b) => `${shell.join(" ")} ${quote(b)}`).join(" && ");
      lines.push(`cd ${quote(dir)} && (${runs}); printf '\\n@@status %s@@\\n' $?`);
    });
    const script = path.join(root, "driver.sh");
    writeFileSync(script, lines.join("\n") + "\n");
    const r = spawnSync("dash", [script], {
      // The system directories only: a long PATH (node_modules/.bin…) makes every lookup slow.
      env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const results = r.stdout.split(/@@\n/).slice(0, builds.length);
    expect(results.length).toBe(builds.length);
    return results;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Every Dockerfile the pass changes, built before and after: the results must match. */
function differential(texts: readonly { text: string; shell: readonly string[] }[]): {
  chained: number;
  differing: string[];
} {
  const cases = texts.map((c) => ({ ...c, output: chain(c.text) })).filter((c) => c.output !== c.text);
  const before = buildAll(cases);
  const after = buildAll(cases.map((c) => ({ text: c.output, shell: c.shell })));
  const differing = cases.flatMap((c, i) =>
    before[i] === after[i] ? [] : [`${c.text}→\n${c.output}\n${before[i]} vs ${after[i]}`],
  );
  return { chained: cases.length, differing };
}

const BODIES = [
  "echo a",
  "false; echo b",
  "echo c; false",
  "false || echo d",
  "true || false",
  "false || false",
  "mkdir -p sub && cd sub && pwd | sed 's|.*/||'",
  "pwd | sed 's|.*/||'",
  "export X=1; echo x=$X",
  "echo x=${X:-unset}",
  "Y=2",
  "echo y=${Y:-unset}",
  "exit 0",
  "exit 3",
  "echo e; exit 0; echo never",
  "set -e; false; echo after-set-e",
  "f() { echo f; }; f",
  "command -v f >/dev/null && echo has-f || echo no-f",
  "true;",
  "false;",
  "! false",
  "touch made && ls",
  "umask 077; touch u; echo umask",
  "trap 'echo trapped' EXIT; echo t",
  "if true; then echo i; fi",
  "for i in 1 2; do echo $i; done",
  "echo i=${i:-none}",
  "exec echo execd",
  "set -x; echo traced",
  // State the shell model alone does not flag (audit): `command cd`, `read`, `getopts`, `${V:=x}`, `$((v=1))`.
  "command cd / && pwd",
  "echo q > rf; read R < rf",
  "getopts ab O -a",
  "echo ${B:=assigned} $((N=4))",
  "echo r=${R:-unset} b=${B:-unset} o=${O:-unset} n=${N:-unset} && pwd | sed 's|.*/||'",
];

const HAS_DASH = spawnSync("dash", ["-c", "true"]).status === 0;

describe.skipIf(!HAS_DASH)("chain-runs: chained Dockerfiles build and print the same (differential)", () => {
  it("every pair of bodies under /bin/sh (dash)", () => {
    const texts = BODIES.flatMap((a) =>
      BODIES.map((b) => ({ text: `FROM scratch\nRUN ${a}\nRUN ${b}\n`, shell: ["dash", "-c"] })),
    );
    const { chained, differing } = differential(texts);
    expect(differing).toEqual([]);
    // Not vacuous: most pairs do get chained.
    expect(chained).toBeGreaterThan(texts.length * 0.6);
  }, 300_000);

  it("triples of bodies, under /bin/sh and under a SHELL with -e", () => {
    let state = 7;
    const pick = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return BODIES[state % BODIES.length]!;
    };
    const texts: { text: string; shell: readonly string[] }[] = [];
    for (let n = 0; n < 120; n++) {
      const runs = `RUN ${pick()}\nRUN ${pick()}\nRUN ${pick()}\n`;
      texts.push({ text: `FROM scratch\n${runs}`, shell: ["dash", "-c"] });
      texts.push({ text: `FROM scratch\nSHELL ["/bin/bash", "-e", "-c"]\n${runs}`, shell: ["bash", "-e", "-c"] });
    }
    const { chained, differing } = differential(texts);
    expect(differing).toEqual([]);
    expect(chained).toBeGreaterThan(120);
  }, 300_000);
});
