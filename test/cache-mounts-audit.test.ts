/**
 * cache-mounts: the refusals added after the audit of /tmp/audit/a (mount
 * points the RUN creates itself, apk's other roots, the apk index, ONBUILD
 * readers, files put in the cache on purpose, pip config files).
 */
import { describe, expect, it } from "vitest";
import { cacheCreations } from "../passes/lib/cache-mount-shell.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseShell, type ShellScript } from "../src/shell.js";

function run(text: string, only: string[] = ["cache-mounts"]): ReturnType<typeof optimizeDockerfile> {
  return optimizeDockerfile(text, { only });
}

function script(source: string): ShellScript {
  const parse = parseShell(source);
  if (!parse.ok) throw new Error(parse.error);
  return parse.script;
}

const ctx = { home: "/root", env: new Map<string, string | null>(), cwd: "/src" };

function creates(source: string, targets: string[]): string[] {
  return cacheCreations(script(source), targets, ctx).map((c) => c.target);
}

describe("cacheCreations: the RUN creates the mount point or a parent", () => {
  it("flags mkdir without -p, git clone, ln and useradd -m onto the target or a parent", () => {
    expect(creates("mkdir /go && go build", ["/go/pkg/mod"])).toEqual(["/go/pkg/mod"]);
    expect(creates("mkdir -m 755 /root/.cache", ["/root/.cache/pip"])).toEqual(["/root/.cache/pip"]);
    expect(creates("sudo mkdir /root/.npm", ["/root/.npm"])).toEqual(["/root/.npm"]);
    expect(creates("git clone --depth 1 https://x/y.git /go", ["/go/pkg/mod"])).toEqual(["/go/pkg/mod"]);
    expect(creates("ln -sf /data/cache /root/.cache", ["/root/.cache/pip"])).toEqual(["/root/.cache/pip"]);
    expect(creates("useradd -m app", ["/home/app/.cache/pip"])).toEqual(["/home/app/.cache/pip"]);
    expect(creates("adduser -D -h /srv/app app", ["/srv/app/.npm"])).toEqual(["/srv/app/.npm"]);
    // A relative directory in the WORKDIR.
    expect(creates("mkdir go", ["/src/go/pkg/mod"])).toEqual(["/src/go/pkg/mod"]);
  });

  it("leaves mkdir -p, paths inside the cache, unrelated paths and / alone", () => {
    expect(creates("mkdir -p /go/src && go build", ["/go/pkg/mod"])).toEqual([]);
    expect(creates("mkdir -pv /root/.cache", ["/root/.cache/pip"])).toEqual([]);
    expect(creates("mkdir --parents /root/.cache", ["/root/.cache/pip"])).toEqual([]);
    expect(creates("mkdir /var/cache/apt/archives/partial2", ["/var/cache/apt"])).toEqual([]);
    expect(creates("mkdir /app && git clone https://x/y.git /app/y", ["/go/pkg/mod"])).toEqual([]);
    expect(creates("useradd -M app", ["/home/app/.cache/pip"])).toEqual([]);
    expect(creates("ln -s /usr/bin/python3 /usr/bin/python", ["/root/.cache/pip"])).toEqual([]);
  });
});

describe("cache-mounts: audit refusals", () => {
  it("adds no mount under a directory the RUN creates with mkdir (alone and merged by chain-runs)", () => {
    const alone = run("FROM golang:1.21\nENV GOPATH=/gopath\nRUN mkdir /gopath && go get github.com/tools/godep\n");
    expect(alone.output).not.toContain("/gopath/pkg/mod");
    expect(alone.skips.some((s) => /mkdir \/gopath.*File exists/.test(s.reason))).toBe(true);
    const merged = run(
      "FROM debian:12\nENV GOPATH /go\nRUN mkdir /go\nRUN apt-get update && apt-get install -y golang\nRUN go get -d example.com/x\n",
      ["cache-mounts", "chain-runs"],
    );
    expect(merged.output).toContain("mkdir /go");
    expect(merged.output).not.toContain("target=/go/pkg/mod");
    expect(merged.output).toContain("target=/var/cache/apt");
    const pip = run("FROM python:3.11\nRUN mkdir /root/.cache && pip install --no-cache-dir x\n");
    expect(pip.output).toContain("--no-cache-dir");
    // With -p the mount is fine.
    expect(run("FROM python:3.11\nRUN mkdir -p /root/.cache && pip install --no-cache-dir x\n").output).toContain(
      "--mount=type=cache,target=/root/.cache/pip",
    );
  });

  it("leaves apk with another root alone: --no-cache stays", () => {
    for (const flags of ["-p /out", "--root /out", "--root=/out", "--cache-dir /c", "--keys-dir /k"]) {
      const text = `FROM alpine:3.19\nRUN apk add --no-cache --initdb ${flags} busybox\n`;
      const r = run(text);
      expect(r.output).toBe(text);
      expect(r.skips.some((s) => /another root or cache directory/.test(s.reason))).toBe(true);
    }
    expect(run("FROM alpine:3.19\nRUN apk add --no-cache busybox\n").output).toContain("--update-cache");
  });

  it("counts ONBUILD RUN apt-get install as a later reader of the lists and a later apt run", () => {
    const r = run(
      "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nONBUILD RUN apt-get install -y wget\n",
    );
    expect(r.output).not.toContain("/var/lib/apt/lists");
    expect(r.output).not.toContain("docker-clean");
    expect(r.skips.some((s) => /ONBUILD RUN at line 3/.test(s.reason))).toBe(true);
    // An ONBUILD that updates first reads nothing old.
    const ok = run(
      "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nONBUILD RUN apt-get update && apt-get install -y wget\n",
    );
    expect(ok.output).toContain("/var/lib/apt/lists");
  });

  it("guards the apk index like the apt lists", () => {
    for (const later of [
      'RUN sh -c "apk add curl"',
      'RUN ["apk", "add", "curl"]',
      "RUN /install.sh",
      "ONBUILD RUN apk add curl",
    ]) {
      const text = `FROM alpine:3.19\nRUN apk update\n${later}\n`;
      expect(run(text).output).toBe(text);
    }
    // A child stage that reads the index.
    const child =
      "FROM alpine:3.19 AS base\nRUN apk update && apk add git\nFROM base\nRUN apk add --virtual x jq || true\n";
    expect(run(child).output).toBe(child);
    // An apk add that reads an index an earlier layer left gets no mount (it would hide that index).
    const reader = "FROM alpine:3.19\nRUN apk update\nRUN apk add jq\n";
    expect(run(reader).output).toBe(reader);
    // A RUN that fetches its own index, or deletes the one it fetched, is fine.
    expect(run("FROM alpine:3.19\nRUN apk update && apk add --no-cache bash\n").output).toContain(
      "--mount=type=cache,target=/var/cache/apk",
    );
    expect(run("FROM alpine:3.19\nRUN apk add --no-cache bash\nRUN apk add --no-cache curl\n").output).toContain(
      "apk add --update-cache curl",
    );
    expect(
      run("FROM alpine:3.19\nRUN apk update && apk add bash && rm -rf /var/cache/apk/*\nRUN sh -c 'apk add curl'\n")
        .output,
    ).toContain("--mount=type=cache,target=/var/cache/apk");
  });

  it("does not hide files an earlier COPY/ADD put in (or over) the cache, or .debs kept for a later RUN", () => {
    const go = "FROM golang:1.21\nCOPY --from=golang:1.21 /go /go\nRUN go build -mod=mod ./...\n";
    expect(run(go).output).not.toContain("/go/pkg/mod");
    const wheels = "FROM python:3.11\nCOPY wheels /root/.cache/pip/wheels\nRUN pip install --no-cache-dir x\n";
    expect(run(wheels).output).toBe(wheels);
    const dir = "FROM python:3.11\nCOPY home/ /root/\nRUN pip install --no-cache-dir x\n";
    expect(run(dir).output).toBe(dir);
    // A file into a parent, or a build-context overlay at /, doesn't count.
    expect(run("FROM python:3.11\nCOPY requirements.txt /root/\nRUN pip install --no-cache-dir x\n").output).toContain(
      "target=/root/.cache/pip",
    );
    expect(run("FROM python:3.11\nCOPY rootfs /\nRUN pip install --no-cache-dir x\n").output).toContain(
      "target=/root/.cache/pip",
    );
    const debs =
      "FROM debian:12\nRUN apt-get update && apt-get install -y --download-only curl\nRUN dpkg -i /var/cache/apt/archives/*.deb\n";
    const r = run(debs);
    expect(r.output).not.toContain("target=/var/cache/apt,");
    expect(r.skips.some((s) => /only downloads \.debs/.test(s.reason))).toBe(true);
  });

  it("treats pip's cache location as unknown when a pip config may set it", () => {
    const cases = [
      "COPY pip.conf /etc/pip.conf\nRUN pip install --no-cache-dir a\n",
      "COPY conf/ /root/.pip/\nRUN pip install --no-cache-dir a\n",
      "ENV PIP_CONFIG_FILE=/etc/pip.conf\nRUN pip install --no-cache-dir a\n",
      "RUN printf '[global]\\ncache-dir=/pc\\n' > /etc/pip.conf && pip install --no-cache-dir a\n",
      "RUN pip config set global.cache-dir /pc\nRUN pip install --no-cache-dir a\n",
      "RUN curl -o /etc/pip.conf https://example.com/pip.conf\nRUN pip install --no-cache-dir a\n",
    ];
    for (const c of cases) {
      const text = `FROM python:3.11\n${c}`;
      const r = run(text);
      expect(r.output).toBe(text);
      expect(r.skips.some((s) => /pip's cache directory in a config file/.test(s.reason))).toBe(true);
    }
    // A literal mirror-only config, or `pip config set` of another key, is fine.
    expect(
      run(
        "FROM python:3.11\nRUN echo '[global]\\nindex-url = https://m/simple' > /etc/pip.conf\nRUN pip install --no-cache-dir a\n",
      ).output,
    ).toContain("target=/root/.cache/pip");
    expect(
      run("FROM python:3.11\nRUN pip config set global.index-url https://m/simple\nRUN pip install --no-cache-dir a\n")
        .output,
    ).toContain("target=/root/.cache/pip");
  });

  // Second audit: dropping `rm -rf /go` (--unsafe) kept all of GOPATH in the image for no cache gain.
  it("drops an rm of a parent only when that parent holds nothing but caches", () => {
    const unsafe = (text: string) => optimizeDockerfile(text, { only: ["cache-mounts"], unsafe: true }).output;
    expect(unsafe("FROM golang:1.21\nRUN go install example.com/tool@latest && rm -rf /go\n")).toContain(
      "&& rm -rf /go",
    );
    expect(unsafe("FROM python:3.11\nRUN pip install flask && rm -rf /root/.cache\n")).toBe(
      "FROM python:3.11\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
    );
  });
});
