import { describe, expect, it } from "vitest";
import { DockerfileParser, type Argument } from "dockerfile-ast";
import { unpatchedArguments } from "../src/dockerfile-ast-memo.js";
import { rememberBounded } from "../src/memo.js";
import { DockerfileError, parseDockerfile } from "../src/dockerfile.js";
import { fileRangeOf, logicalText } from "../src/logical.js";
import { stateEffects } from "../src/shell-facts.js";
import { parseShell, type ShellScript } from "../src/shell.js";
import { contextAt } from "../src/stage-facts.js";

function script(source: string): ShellScript {
  const parsed = parseShell(source);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.script;
}

describe("logical text (what Docker hands the shell)", () => {
  it("removes line continuations and comment lines inside them, mapping back to the file", () => {
    const file = "RUN apt-get update \\\n  # a comment Docker drops\n  && apt-get install -y curl";
    const logical = logicalText(file, 4, file.length, "\\");
    expect(logical.text).toBe("apt-get update   && apt-get install -y curl");
    const at = logical.text.indexOf("curl");
    const range = fileRangeOf(logical, at, at + 4);
    expect(file.slice(range.start, range.end)).toBe("curl");
  });

  it("honours the backtick escape character and CRLF", () => {
    const file = "RUN echo a `\r\n  b\\c";
    expect(logicalText(file, 4, file.length, "`").text).toBe("echo a   b\\c");
  });

  it("keeps a continuation inside single quotes from reaching the shell", () => {
    const file = "RUN echo 'a \\\nb'";
    expect(logicalText(file, 4, file.length, "\\").text).toBe("echo 'a b'");
  });
});

describe("parseDockerfile", () => {
  it("groups instructions into stages with names and images", () => {
    const file = parseDockerfile("ARG V=3\nFROM python:$V AS Build\nRUN make\nFROM debian\nCOPY --from=build /a /a\n");
    expect(file.stages.map((s) => [s.name, s.image, s.instructions.length])).toEqual([
      ["build", "python:$V", 2],
      [null, "debian", 2],
    ]);
    expect(file.instructions[0]!.stage).toBe(-1);
    expect(file.instructions[4]!.flags[0]).toMatchObject({ name: "from", value: "build" });
  });

  it("parses shell, exec and heredoc RUN forms", () => {
    const file = parseDockerfile('FROM a\nRUN echo hi && cd /x\nRUN ["echo", "hi"]\nRUN <<EOF\necho hi\nEOF\n');
    expect(file.instructions.map((i) => i.form)).toEqual(["shell", "shell", "exec", "heredoc"]);
    expect(file.instructions[2]!.execArgs).toEqual(["echo", "hi"]);
    const run = file.instructions[1]!;
    expect(run.shell?.parse.ok).toBe(true);
  });

  it("keeps the BOM out of offsets but remembers it", () => {
    const file = parseDockerfile("\uFEFFFROM a\n");
    expect(file.hasBom).toBe(true);
    expect(file.text).toBe("FROM a\n");
  });

  it.each([
    ["", /empty/],
    ["FROM a\u0000", /binary/],
    ["# only a comment\n", /no instructions/],
    ["RUN echo\n", /before the first FROM/],
    ["FROM a\nFOOO b\n", /unknown instruction "FOOO" \(did you mean FROM\?\)/],
    ["# escape=x\nFROM a\n", /invalid escape directive/],
    ["FROM a\nRUN <<EOF\necho hi\n", /unterminated heredoc <<EOF/],
  ])("refuses %j with a clear message", (text, message) => {
    expect(() => parseDockerfile(text)).toThrow(DockerfileError);
    expect(() => parseDockerfile(text)).toThrow(message);
  });

  it("reports the line of an unknown instruction", () => {
    try {
      parseDockerfile("FROM a\nRUN x\nCOPPY a b\n");
    } catch (error) {
      expect((error as DockerfileError).line).toBe(3);
    }
  });
});

describe("instructions a line continuation swallows", () => {
  it("a RUN whose continuation runs over a blank or comment line into an instruction counts as not parsing, and says why", () => {
    const text = "FROM a\nRUN make \\\n\n# settings\nENV A=1\nRUN echo ok\n";
    const runs = parseDockerfile(text).instructions.filter((i) => i.keyword === "RUN");
    expect(runs.map((r) => r.shell?.parse.ok)).toEqual([false, true]);
    const first = runs[0]!.shell!.parse;
    expect(first.ok ? "" : first.error).toMatch(/line 5: "ENV A=1" is part of this instruction/);
  });
});

describe("dockerfile-ast argument memo (src/dockerfile-ast-memo.ts)", () => {
  it("gives the same arguments on every call, in fresh arrays (callers shift flags off them)", () => {
    parseDockerfile("FROM a\n"); // installs the memo
    const text = "FROM a\nRUN --mount=type=cache,target=/x echo a b\nCOPY --chown=1 x y\nENV A=1 B=2\n";
    for (const instruction of DockerfileParser.parse(text).getInstructions()) {
      const first = instruction.getArguments();
      const again = instruction.getArguments();
      expect(again).not.toBe(first);
      expect(again.map((a) => a.getValue())).toEqual(first.map((a) => a.getValue()));
    }
    const run = DockerfileParser.parse(text).getInstructions()[1]!;
    expect(run.getArguments().map((a) => a.getValue())).toEqual(["echo", "a", "b"]);
    expect(run.getArguments().map((a) => a.getValue())).toEqual(["echo", "a", "b"]);
  });

  it("moves a split remembered by text to where the same instruction now stands", () => {
    const body = 'RUN --mount=type=cache,target=/x apt-get \\\n    install -y \\\r\n  curl && echo "a b"';
    // The same instruction text at the start of a line, then indented, lower and after CRLFs, then again.
    const texts = [`FROM a\n${body}\n`, `FROM a\r\n\r\n# c\r\n   ${body}\nCOPY x y\n`, `FROM a\n${body}\n`];
    for (const text of texts) {
      parseDockerfile(text); // installs the memo and remembers this text's split
      const memo = DockerfileParser.parse(text).getInstructions()[1]!;
      const library = DockerfileParser.parse(text).getInstructions()[1]!;
      const ranges = (args: readonly Argument[]) => args.map((a) => [a.getValue(), a.getRange()]);
      const raw = (memo as unknown as { getRawArguments(): Argument[] }).getRawArguments();
      expect(ranges(raw)).toEqual(ranges(unpatchedArguments(library)));
      expect(memo.getArguments().map((a) => a.getValue())).toEqual([
        "apt-get",
        "install",
        "-y",
        "curl",
        "&&",
        "echo",
        '"a',
        'b"',
      ]);
    }
  });
});

describe("shell facts", () => {
  it("finds state that leaks into chained commands, but not from subshells or pipelines", () => {
    const effects = stateEffects(
      script("cd /opt && export A=1 && (cd /tmp) && umask 022 | cat && B=2 && set -e && . ./env"),
    );
    expect(effects.map((e) => e.what)).toEqual(["cd", "export", "assignment", "set", "."]);
  });

  it("sees builtins inside if/for bodies (they run in the current shell)", () => {
    expect(stateEffects(script("if true; then cd /x; fi")).map((e) => e.what)).toEqual(["cd"]);
  });

  it("reads static words through quotes and marks expansions as unknown", () => {
    const command = script(`pip install "flask==2.2" 'a b' $PKG c\\ d`).statements[0]!.andOr.pipelines[0]!.commands[0]!;
    if (command.kind !== "simple") throw new Error("expected a simple command");
    expect(command.words.map((w) => w.value)).toEqual(["pip", "install", "flask==2.2", "a b", null, "c d"]);
  });

  it("spans a command's redirects and trailing words, whatever tree-sitter nests them under", () => {
    for (const [source, expected] of [
      ["rm -f /x && echo b > /etc/k && apt-get update", ["rm -f /x", "echo b > /etc/k", "apt-get update"]],
      ["a | b > f && c", ["a | b > f", "c"]],
      ["echo a > f b && c", ["echo a > f b", "c"]],
      ["pip install x>=1.0 && rm -rf /c", ["pip install x>=1.0", "rm -rf /c"]],
    ] as const) {
      const pipelines = script(source).statements[0]!.andOr.pipelines;
      expect(pipelines.map((p) => source.slice(p.start, p.end))).toEqual(expected);
      const last = pipelines.map((p) => p.commands[p.commands.length - 1]!);
      expect(last.map((c) => source.slice(c.start, c.end))).toEqual(expected.map((e) => e.split(" | ").pop()));
    }
  });
});

describe("stage facts", () => {
  it("tracks USER, WORKDIR (relative to the previous one) and ENV per instruction", () => {
    const file = parseDockerfile("FROM a\nWORKDIR /app\nWORKDIR src\nUSER app\nENV A=1 B=2\nRUN x\n");
    const context = contextAt(file, file.instructions[5]!);
    expect(context).toMatchObject({ user: "app", workdir: "/app/src", userFromBase: false });
    expect([...context.env]).toEqual([
      ["A", "1"],
      ["B", "2"],
    ]);
  });
});

describe("rememberBounded (src/memo.ts)", () => {
  it("keeps the cache under its limit by forgetting the older half, never the newest entries", () => {
    const cache = new Map<number, string>();
    for (let i = 0; i < 10; i++) rememberBounded(cache, i, `v${i}`, 4);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(cache.get(9)).toBe("v9");
    expect(cache.get(8)).toBe("v8");
    expect(cache.has(0)).toBe(false);
  });
});
