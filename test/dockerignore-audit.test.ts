import { describe, expect, it } from "vitest";
import { planDockerignore } from "../passes/dockerignore.js";
import { parseDockerfile } from "../src/dockerfile.js";
import type { BuildContext } from "../src/types.js";

const PRESENT = [".git", ".venv", "venv", "node_modules", ".env", ".pytest_cache", "dist", "build", "Dockerfile"];

/** A context holding every candidate path (as the audit's corpus run did). */
function context(present: readonly string[] = PRESENT): BuildContext {
  return {
    dockerignore: null,
    exists: (p) => present.some((x) => p === x || p.startsWith(`${x}/`)),
    readText: () => null,
  };
}

function plan(text: string, present?: readonly string[]) {
  const result = planDockerignore(parseDockerfile(text), context(present));
  return {
    added: result?.added ?? [],
    omitted: Object.fromEntries((result?.omitted ?? []).map((o) => [o.pattern, o.reason])),
  };
}

describe("dockerignore: .git and indirect readers (audit finding 14)", () => {
  it("keeps .git when git is installed through an ENV package list and make runs", () => {
    const { added, omitted } = plan(
      "FROM golang:alpine\nENV PACKAGES make git libc-dev bash gcc\nRUN apk add $PACKAGES\nCOPY . .\nRUN make tools deps build\n",
    );
    expect(added).not.toContain(".git");
    expect(omitted[".git"]).toMatch(/git metadata/);
  });

  it("keeps .git when a project build tool runs over the whole context", () => {
    for (const run of [
      "make install",
      "go build ./...",
      "mvn -B package",
      "./gradlew build",
      "bundle install",
      "npm run build",
      "yarn build",
      "python setup.py install",
      "pip install .",
      "./build.sh",
    ]) {
      expect(plan(`FROM debian\nADD . /src/\nRUN cd /src && ${run}\n`).added, run).not.toContain(".git");
    }
  });

  it("still proposes .git when nothing reads it", () => {
    expect(plan("FROM nginx\nCOPY . /usr/share/nginx/html\n").added).toContain(".git");
    expect(plan("FROM python:3.12\nCOPY app.py .\nRUN pip install flask\n").added).toContain(".git");
  });

  it("counts RUN --mount=type=bind as a read of the context", () => {
    const text = "FROM alpine\nRUN --mount=type=bind,source=.,target=/ctx cd /ctx && git rev-parse HEAD > /rev\n";
    expect(plan(text).added).not.toContain(".git");
    // No source= binds the whole context too.
    expect(plan("FROM alpine\nRUN --mount=target=/ctx make -C /ctx\n").added).not.toContain(".git");
    // A named bind source conflicts like a COPY source.
    const dist = plan("FROM alpine\nRUN --mount=type=bind,source=dist,target=/d cp -r /d /out\n");
    expect(dist.added).not.toContain("dist");
    expect(dist.omitted["dist"]).toMatch(/copies dist/);
    // from= binds another stage or image, not the context.
    expect(plan("FROM alpine\nRUN --mount=type=bind,from=build,source=dist,target=/d cp -r /d /out\n").added).toContain(
      "dist",
    );
  });
});

describe("dockerignore: node_modules and yarn scripts", () => {
  it("a yarn script is not an install: node_modules stays", () => {
    const { added, omitted } = plan('FROM node:20\nCOPY . .\nCMD ["yarn", "start"]\n');
    expect(added).not.toContain("node_modules");
    expect(omitted["node_modules"]).toMatch(/never installed/);
    expect(plan("FROM node:20\nCOPY . .\nRUN yarn build\n").added).not.toContain("node_modules");
  });

  it("a global install is not an install of the project's node_modules", () => {
    expect(plan("FROM node:20\nCOPY . .\nRUN npm install -g serve && npm run build\n").added).not.toContain(
      "node_modules",
    );
    expect(plan("FROM node:20\nCOPY . .\nRUN yarn global add serve\n").added).not.toContain("node_modules");
  });

  it("bare yarn, yarn install/add, npm ci and pnpm install are installs", () => {
    for (const run of ["yarn", "yarn --frozen-lockfile", "yarn install", "yarn add left-pad", "npm ci", "pnpm i"]) {
      expect(plan(`FROM node:20\nCOPY . .\nRUN ${run}\n`).added, run).toContain("node_modules");
    }
  });
});

describe("dockerignore: wildcard COPY sources", () => {
  it("never proposes an entry a source pattern could match", () => {
    const env = plan("FROM node:20\nCOPY package.json .env* ./\nRUN npm ci\n");
    expect(env.added).not.toContain(".env");
    expect(env.omitted[".env"]).toMatch(/copies \.env\*/);
    const nm = plan("FROM node:20\nCOPY package.json node_modules* /app/\nRUN npm ci\n");
    expect(nm.added).not.toContain("node_modules");
    expect(plan("FROM python:3.12\nCOPY src/*.py[co] /app/\n").added).not.toContain("**/*.pyc");
    expect(plan("FROM python:3.12\nCOPY */config.yml /cfg/\n").added).not.toContain("build");
  });

  it("a pattern that can't match a candidate leaves it proposed", () => {
    const { added } = plan("FROM python:3.12\nCOPY requirements*.txt ./\nCOPY src/*.py /app/\n");
    expect(added).toEqual(expect.arrayContaining([".env", "node_modules", "**/*.pyc", "**/__pycache__", "dist"]));
  });
});
