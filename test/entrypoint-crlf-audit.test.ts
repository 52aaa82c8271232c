import { describe, expect, it } from "vitest";
import { entrypointCrlf } from "../passes/entrypoint-crlf.js";
import { copiedPath } from "../passes/lib/copy-destination.js";
import { isWindowsImage } from "../passes/lib/windows-base.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type BuildContext } from "../src/types.js";

const CRLF = '#!/bin/sh\r\nexec "$@"\r\n';

function context(files: Record<string, string>): BuildContext {
  return { dockerignore: null, exists: (p) => p in files, readText: (p) => files[p] ?? null };
}

function run(text: string, files: Record<string, string> = { "docker-entrypoint.sh": CRLF, "start.sh": CRLF }) {
  const options = { ...defaultPassOptions, buildContext: context(files) };
  const result = entrypointCrlf.run(parseDockerfile(text), options);
  const out = optimizeDockerfile(text, {
    only: ["entrypoint-crlf"],
    passOptions: { buildContext: options.buildContext },
  });
  return { result, output: out.output, added: result.changes.map((c) => c.edits[0]!.newText.trim()) };
}

/** The path COPY's last argument resolves to for the COPY on line `line` (1-based). */
function pathOf(text: string, line: number): ReturnType<typeof copiedPath> {
  const file = parseDockerfile(text);
  const node = file.instructions.find((i) => i.line === line)!;
  const args = node.args.map((a) => a.value);
  return copiedPath(file, node, args[0]!, args[args.length - 1]!, args.length - 1);
}

describe("entrypoint-crlf: destination without a trailing slash (audit finding 13)", () => {
  it("targets <dir>/<script> when the destination is a directory every image has", () => {
    expect(run("FROM debian:bookworm\nCOPY docker-entrypoint.sh /usr/local/bin\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /usr/local/bin/docker-entrypoint.sh",
    ]);
    expect(run("FROM debian:bookworm\nCOPY start.sh /root\n").added).toEqual(["RUN sed -i 's/\\r$//' /root/start.sh"]);
    expect(run("FROM debian:bookworm\nCOPY start.sh /\n").added).toEqual(["RUN sed -i 's/\\r$//' /start.sh"]);
  });

  it("targets <dir>/<script> when the stage made the directory (WORKDIR, mkdir, COPY into dir/)", () => {
    expect(run("FROM node:20\nWORKDIR /app\nCOPY ./docker-entrypoint.sh /app\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /app/docker-entrypoint.sh",
    ]);
    expect(run("FROM node:20\nRUN mkdir -p /opt/tool/bin\nCOPY start.sh /opt/tool\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /opt/tool/start.sh",
    ]);
    expect(run("FROM node:20 AS base\nWORKDIR /srv/app\nFROM base\nCOPY start.sh /srv\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /srv/start.sh",
    ]);
    expect(run("FROM node:20\nWORKDIR /app\nCOPY start.sh scripts\n").result.skips[0]?.reason).toMatch(
      /can't tell whether scripts is a directory/,
    );
    expect(run("FROM node:20\nCOPY x/ /data/\nWORKDIR /data\nCOPY start.sh .\n").added).toEqual([
      "RUN sed -i 's/\\r$//' ./start.sh",
    ]);
  });

  it("targets the destination itself when it names the file", () => {
    expect(run("FROM debian:bookworm\nCOPY docker-entrypoint.sh /entrypoint.sh\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /entrypoint.sh",
    ]);
    expect(run("FROM debian:bookworm\nCOPY start.sh /usr/local/bin/start\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /usr/local/bin/start",
    ]);
    expect(run("FROM phusion/baseimage\nCOPY start.sh /etc/service/app/run\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /etc/service/app/run",
    ]);
    expect(run("FROM phusion/baseimage\nCOPY start.sh /etc/my_init.d/10_start\n").added).toEqual([
      "RUN sed -i 's/\\r$//' /etc/my_init.d/10_start",
    ]);
  });

  it("skips with a reason when the destination may or may not be a directory", () => {
    const { result, output } = run("FROM debian:bookworm\nCOPY start.sh /app\n");
    expect(result.changes).toEqual([]);
    expect(result.skips[0]?.reason).toMatch(/CRLF.*can't tell whether \/app is a directory/);
    expect(output).toBe("FROM debian:bookworm\nCOPY start.sh /app\n");
    expect(pathOf("FROM x\nCOPY start.sh /etc/init.d\n", 2).kind).toBe("unknown");
  });

  it("is idempotent on its own output and counts its own RUN only for the path it names", () => {
    const text = "FROM debian:bookworm\nCOPY start.sh /usr/local/bin\nCOPY start.sh /root/\n";
    const first = run(text).output;
    expect(first).toBe(
      "FROM debian:bookworm\nCOPY start.sh /usr/local/bin\nRUN sed -i 's/\\r$//' /usr/local/bin/start.sh\n" +
        "COPY start.sh /root/\nRUN sed -i 's/\\r$//' /root/start.sh\n",
    );
    expect(run(first).output).toBe(first);
  });
});

describe("entrypoint-crlf: no sed on Windows or non-POSIX shells", () => {
  it("recognises Windows base images by name", () => {
    expect(isWindowsImage("mcr.microsoft.com/windows/servercore:ltsc2022")).toBe(true);
    expect(isWindowsImage("mcr.microsoft.com/windows/nanoserver:1809")).toBe(true);
    expect(isWindowsImage("mcr.microsoft.com/dotnet/framework/sdk:4.8")).toBe(true);
    expect(isWindowsImage("python:3.12-windowsservercore")).toBe(true);
    expect(isWindowsImage("python:3.12-slim")).toBe(false);
    expect(isWindowsImage("ubuntu:20.04")).toBe(false);
  });

  it("only reports on a Windows base, even with a shell-form RUN", () => {
    const { result } = run("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN echo hi\nCOPY start.sh C:/app/\n");
    expect(result.changes).toEqual([]);
    expect(result.skips[0]?.reason).toMatch(/Windows image/);
  });

  it("only reports under the backtick escape without a SHELL, or a SHELL inherited from a parent stage", () => {
    expect(run("# escape=`\nFROM myco/base\nCOPY start.sh /root/\n").result.skips[0]?.reason).toMatch(/backtick/);
    const inherited = run('FROM debian AS a\nSHELL ["pwsh", "-c"]\nFROM a\nCOPY start.sh /root/\n').result;
    expect(inherited.changes).toEqual([]);
    expect(inherited.skips[0]?.reason).toMatch(/not a POSIX shell/);
  });

  it("only reports when a parent stage set a non-root USER", () => {
    const { result } = run("FROM debian AS a\nUSER app\nFROM a\nCOPY start.sh /root/\n");
    expect(result.changes).toEqual([]);
    expect(result.skips[0]?.reason).toMatch(/runs as app/);
  });
});
