import { describe, expect, it } from "vitest";
import { resolveAlpineImage } from "../passes/lib/alpine-images.js";
import { ashOnlySyntax, translateAddgroup, translateAdduser } from "../passes/lib/alpine-idioms.js";
import { APK_TO_APT, apkPackageName } from "../passes/lib/apk-to-apt.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseShell, type ShellWord, type SimpleCommand } from "../src/shell.js";

const only = ["alpine-to-debian"];

function run(text: string, unsafe = false, passOptions = {}) {
  const result = optimizeDockerfile(text, { only, unsafe, passOptions });
  expect(result.passFailures).toEqual([]);
  // Idempotent: the output is a fixed point.
  expect(optimizeDockerfile(result.output, { only, unsafe, passOptions }).output).toBe(result.output);
  return result;
}

function unsafeReasons(text: string, passOptions = {}): string {
  return run(text, false, passOptions)
    .notApplied.map((n) => n.unsafeBecause ?? "")
    .join("; ");
}

function words(command: string): ShellWord[] {
  const parsed = parseShell(command);
  if (!parsed.ok) throw new Error(parsed.error);
  return (parsed.script.statements[0]!.andOr.pipelines[0]!.commands[0] as SimpleCommand).words;
}

describe("official image table", () => {
  const convert = (ref: string, release = "bookworm") => {
    const r = resolveAlpineImage(ref, release);
    return r.kind === "convert" ? r.image : r.kind;
  };

  it("maps tags to Debian twins that exist", () => {
    expect(convert("python:3.11-alpine3.19")).toBe("python:3.11-slim-bookworm");
    expect(convert("python:3.11.4-alpine")).toBe("python:3.11.4-slim-bookworm");
    expect(convert("python:3.7-alpine")).toBe("python:3.7-slim-bookworm");
    expect(convert("python:3-alpine")).toBe("python:3-slim-bookworm");
    expect(convert("python:alpine")).toBe("python:slim-bookworm");
    expect(convert("node:20-alpine")).toBe("node:20-bookworm-slim");
    expect(convert("node:lts-alpine3.19")).toBe("node:lts-bookworm-slim");
    expect(convert("node:20.11.1-alpine")).toBe("node:20.11.1-bookworm-slim");
    expect(convert("golang:1.22-alpine")).toBe("golang:1.22-bookworm");
    expect(convert("golang:alpine3.19")).toBe("golang:bookworm");
    expect(convert("ruby:3.3-alpine")).toBe("ruby:3.3-slim-bookworm");
    expect(convert("php:8.2-fpm-alpine")).toBe("php:8.2-fpm-bookworm");
    expect(convert("php:8.2-alpine")).toBe("php:8.2-cli-bookworm");
    expect(convert("nginx:1.25-alpine")).toBe("nginx:1.25-bookworm");
    expect(convert("nginx:stable-alpine-perl")).toBe("nginx:stable-bookworm-perl");
    expect(convert("redis:7.2-alpine")).toBe("redis:7.2-bookworm");
    expect(convert("postgres:16-alpine")).toBe("postgres:16-bookworm");
    expect(convert("alpine:3.19")).toBe("debian:bookworm-slim");
    expect(convert("alpine")).toBe("debian:bookworm-slim");
    expect(convert("docker.io/library/alpine:edge")).toBe("docker.io/library/debian:bookworm-slim");
    expect(convert("alpine:3.19", "trixie")).toBe("debian:trixie-slim");
  });

  it("refuses versions without a Debian tag for the release", () => {
    // Patch releases before the first bookworm build, and lines that ended before it.
    expect(convert("python:3.11.3-alpine")).toBe("refuse");
    expect(convert("python:2.7-alpine")).toBe("refuse");
    expect(convert("node:19-alpine")).toBe("refuse");
    expect(convert("node:18.15-alpine")).toBe("refuse");
    // A floating major tag (golang:1) vouches for no minor below it.
    expect(convert("golang:1.7-alpine")).toBe("refuse");
    expect(convert("nginx:1.11-alpine")).toBe("refuse");
    expect(convert("nginx:1.25.0-alpine")).toBe("refuse");
    expect(convert("redis:7.2.4-alpine")).toBe("refuse");
    expect(convert("php:fpm-alpine")).toBe("refuse");
    expect(convert("nginx:alpine-slim")).toBe("refuse");
    expect(convert("python:3.13-rc-alpine")).toBe("refuse");
    expect(convert("python:3.11-alpine", "trixie")).toBe("refuse");
  });

  it("refuses digests and unofficial images, ignores non-Alpine images", () => {
    expect(convert("python:3.11-alpine@sha256:abc")).toBe("refuse");
    expect(convert("alpine@sha256:abc")).toBe("refuse");
    expect(convert("gliderlabs/alpine:3.4")).toBe("refuse");
    expect(convert("myregistry.io/python:3.11-alpine")).toBe("refuse");
    expect(convert("ubuntu:22.04")).toBe("other");
    expect(convert("python:3.11-slim")).toBe("other");
  });
});

describe("apk→apt table", () => {
  it("parses apk package specs", () => {
    expect(apkPackageName("graphviz=~9.0")).toEqual({ name: "graphviz", constraint: "=~9.0", repoTag: null });
    expect(apkPackageName("tini@community")).toEqual({ name: "tini", constraint: null, repoTag: "community" });
    expect(apkPackageName("curl")).toEqual({ name: "curl", constraint: null, repoTag: null });
  });

  it("maps the usual build dependencies", () => {
    expect(APK_TO_APT["build-base"]!.debian).toEqual(["build-essential"]);
    expect(APK_TO_APT["musl-dev"]!.debian).toEqual(["libc6-dev"]);
    expect(APK_TO_APT["postgresql-dev"]!.debian).toEqual(["libpq-dev"]);
    expect(APK_TO_APT["libc6-compat"]!.debian).toEqual([]);
    expect(APK_TO_APT["su-exec"]!.debian).toEqual(["gosu"]);
  });
});

describe("busybox adduser/addgroup", () => {
  const text = (command: string) => {
    const t = command.startsWith("adduser") ? translateAdduser(words(command)) : translateAddgroup(words(command));
    return t.ok ? t.text : `!${t.reason}`;
  };

  it("keeps the meaning of every flag", () => {
    expect(text("adduser -D app")).toBe("useradd --user-group --create-home --shell /bin/sh app");
    expect(text("adduser -S app")).toBe("useradd --system --gid nogroup --create-home --shell /usr/sbin/nologin app");
    expect(text("adduser -S -D -H -G app app")).toBe(
      "useradd --system --gid app --no-create-home --shell /usr/sbin/nologin app",
    );
    expect(text("adduser -D -u 1000 -h /srv -s /bin/ash -g 'App user' app")).toBe(
      "useradd --uid 1000 --user-group --home-dir /srv --create-home --shell /bin/sh --comment 'App user' app",
    );
    // Bundled flags and attached values (getopt).
    expect(text("adduser -DH -u1001 app")).toBe("useradd --uid 1001 --user-group --no-create-home --shell /bin/sh app");
    // busybox's long options, as Debian-minded Dockerfiles write them.
    expect(text("adduser --disabled-password --gecos '' --uid 1000 --ingroup app app")).toBe(
      "useradd --uid 1000 --gid app --create-home --shell /bin/sh --comment '' app",
    );
    // Skeleton only applies when a home is created.
    expect(text("adduser -D -H -k /etc/skel app")).toBe("useradd --user-group --no-create-home --shell /bin/sh app");
    expect(text("addgroup -S app")).toBe("groupadd --system app");
    expect(text("addgroup -g 1000 app")).toBe("groupadd --gid 1000 app");
    expect(text("addgroup app docker")).toBe("usermod -a -G docker app");
    expect(text("adduser app wheel")).toBe("usermod -a -G wheel app");
  });

  it("refuses what has no equivalent", () => {
    // Without -D busybox asks for a password interactively.
    expect(text("adduser app")).toMatch(/^!.*password/);
    expect(text("adduser -D -x app")).toMatch(/^!.*unknown option -x/);
    expect(text("adduser -D")).toMatch(/^!/);
  });

  it("reports implicit system ids and explicit ones", () => {
    const t = translateAdduser(words("adduser -S -u 100 app"));
    expect(t.ok && t.ids).toEqual([100]);
    expect(t.ok && t.implicitSystemId).toBe(false);
    const s = translateAddgroup(words("addgroup -S app"));
    expect(s.ok && s.implicitSystemId).toBe(true);
  });
});

describe("ash-only syntax", () => {
  const found = (body: string) => {
    const parsed = parseShell(body);
    if (!parsed.ok) throw new Error(parsed.error);
    return ashOnlySyntax(parsed.script);
  };

  it("finds what dash rejects", () => {
    expect(found("[[ -f x ]] && echo y")).toEqual(["[[ … ]] tests"]);
    expect(found('[ "$a" == b ]')).toEqual(["== in [ ] tests"]);
    expect(found("echo -e 'a\\tb'")).toEqual(["echo -e"]);
    expect(found("set -eo pipefail && x")).toEqual(["set -o pipefail"]);
    expect(found('echo "${v//a/b}"')).toEqual(["${var/…/…} or ${var:offset} expansions"]);
    expect(found('echo "${v:0:3}"')).toEqual(["${var/…/…} or ${var:offset} expansions"]);
    expect(found("source /etc/profile")).toEqual(["source (dash only has .)"]);
    expect(found("cat <<< x")).toEqual(["here-strings (<<<)"]);
    expect(found("(cd /x && [[ -d y ]])")).toEqual(["[[ … ]] tests"]);
  });

  it("leaves POSIX sh alone", () => {
    expect(found('[ "$a" = b ] && echo "${v:-default}" && echo -n x && . /etc/profile')).toEqual([]);
    expect(found("set -eux; f() { echo $((1 + 2)); }; f")).toEqual([]);
  });
});

describe("alpine-to-debian pass", () => {
  it("translates apk add/del and keeps what the group did not own", () => {
    const out = run(`FROM alpine:3.19
RUN apk add --no-cache tar curl && apk add --virtual .b curl gcc musl-dev tar && make && apk del .b
`).output;
    expect(out).toContain("FROM debian:bookworm-slim");
    expect(out).toContain(
      "apt-get update && apt-get install -y --no-install-recommends tar curl ca-certificates && rm -rf /var/lib/apt/lists/*",
    );
    // curl was installed outside the group and tar is Debian's own: neither is marked.
    expect(out).toContain("apt-mark auto gcc libc6-dev && apt-get autoremove -y --purge");
    expect(out).not.toMatch(/\bapk\b/);
  });

  it("drops apk update and the apk cache cleanup", () => {
    const out = run(`FROM alpine:3.19
RUN apk update
RUN apk update && apk add jq && rm -rf /var/cache/apk/* /tmp/x
`).output;
    expect(out).toBe(`FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends jq ca-certificates && rm -rf /var/lib/apt/lists/* && rm -rf /tmp/x
`);
  });

  it("keeps || semantics by grouping the translated install", () => {
    const out = run(`FROM alpine:3.19
RUN command -v jq || apk add --no-cache jq
`).output;
    expect(out).toContain(
      "command -v jq || { apt-get update && apt-get install -y --no-install-recommends jq ca-certificates && rm -rf /var/lib/apt/lists/*; }",
    );
  });

  it("turns apk cache mounts into apt cache mounts, where the lists need no cleanup", () => {
    const out = run(`FROM python:3.12-alpine
RUN --mount=type=cache,target=/var/cache/apk --mount=type=cache,target=/etc/apk/cache apk add gcc
`).output;
    expect(out).toContain(
      "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update && apt-get install -y --no-install-recommends gcc\n",
    );
  });

  it("installs the Debian package of busybox applets the stage uses", () => {
    const out = run(`FROM alpine:3.19
RUN wget -qO /x https://example.com/x
HEALTHCHECK CMD ps aux | grep -q app
`).output;
    expect(out).toContain(
      "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates procps wget && rm -rf /var/lib/apt/lists/*\n",
    );
  });

  it("does not rename /sbin/tini when tini did not come from apk", () => {
    const text = `FROM alpine:3.19
ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini-static /sbin/tini
ENTRYPOINT ["/sbin/tini", "--"]
`;
    expect(run(text).output).toContain('ENTRYPOINT ["/sbin/tini", "--"]');
  });

  it("skips pip into Debian's system Python (PEP 668), unsafe where its failure does not fail the RUN", () => {
    const certain = run("FROM alpine:3.19\nRUN apk add --no-cache python3 py3-pip && pip3 install flask\n", true);
    expect(certain.applied).toEqual([]);
    expect(certain.skips.map((s) => s.reason).join()).toContain("PEP 668");
    expect(
      unsafeReasons("FROM alpine:3.19\nRUN apk add --no-cache python3 py3-pip && pip3 install flask || true\n"),
    ).toContain("PEP 668");
    // A virtualenv is fine as far as PEP 668 goes.
    expect(
      unsafeReasons(
        "FROM alpine:3.19\nRUN apk add --no-cache python3 && python3 -m venv /v && /v/bin/pip install flask\n",
      ),
    ).not.toContain("PEP 668");
  });

  it("is unsafe when implicit system ids meet numeric ids", () => {
    expect(unsafeReasons("FROM alpine:3.19\nRUN adduser -S app\nUSER 100\n")).toContain("explicit id");
    expect(run("FROM alpine:3.19\nRUN adduser -S app\nUSER app\n").applied).toHaveLength(1);
  });

  it("is unsafe for ids and groups Debian's base already uses or lacks", () => {
    expect(unsafeReasons("FROM alpine:3.19\nRUN addgroup -g 50 app\n")).toContain("id 50 is already taken");
    expect(unsafeReasons("FROM alpine:3.19\nRUN adduser -D -G wheel app\n")).toContain("group wheel");
  });

  it("is unsafe for apk upgrade", () => {
    expect(unsafeReasons("FROM alpine:3.19\nRUN apk upgrade --no-cache\n")).toContain("apt-get upgrade");
    expect(run("FROM alpine:3.19\nRUN apk upgrade --no-cache\n", true).output).toContain(
      "RUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*",
    );
  });

  it("is unsafe for images whose Debian variant differs visibly", () => {
    expect(unsafeReasons("FROM php:8.2-fpm-alpine\nRUN apk add --no-cache git\n")).toContain("www-data");
  });

  it("refuses what it cannot translate, leaving the file unchanged", () => {
    const cases = [
      "FROM alpine:3.19\nRUN apk --root /out --initdb add busybox\n",
      "FROM alpine:3.19\nRUN (apk add curl)\n",
      "FROM alpine:3.19\nRUN apk add curl | tee log\n",
      "FROM alpine:3.19\nRUN apk info -v\n",
      "FROM alpine:3.19\nRUN apk add --frobnicate curl\n",
      'FROM alpine:3.19\nRUN ["apk", "add", "curl"]\n',
    ];
    for (const text of cases) {
      const result = run(text, true);
      expect(result.output, text).toBe(text);
      expect(
        result.skips.some((s) => s.pass === "alpine-to-debian"),
        text,
      ).toBe(true);
    }
  });

  it("moves stages that share files together", () => {
    const out = run(`FROM python:3.12-alpine AS build
RUN apk add --no-cache gcc musl-dev && pip wheel -w /w numpy
FROM python:3.12-alpine
COPY --from=build /w /w
RUN pip install /w/*
FROM build AS test
RUN apk add --no-cache make
`).output;
    expect(out.match(/python:3\.12-slim-bookworm/g)).toHaveLength(2);
    expect(out).toContain("FROM build AS test\nRUN apt-get update && apt-get install -y --no-install-recommends make");
  });

  it("leaves a group alone when programs may cross between musl and glibc stages", () => {
    const crossing = `FROM golang:1.22-alpine AS build
RUN go build -o /app .
FROM alpine@sha256:abc
COPY --from=build /app /app
`;
    const result = run(crossing, true);
    expect(result.output).toBe(crossing);
    expect(result.skips.map((s) => s.reason).join("\n")).toMatch(
      /copies files from a converted stage: programs built on Debian link against glibc/,
    );
    // A static build runs anywhere: converted, unsafe only for sharing files.
    expect(unsafeReasons(crossing.replace("RUN go build", "RUN CGO_ENABLED=0 go build"))).toContain(
      "stays on its image",
    );
  });

  it("checks the package table only against bookworm", () => {
    expect(unsafeReasons("FROM alpine:3.19\nRUN apk add --no-cache curl\n", { debianRelease: "trixie" })).toContain(
      "checked against Debian bookworm",
    );
  });

  it("leaves Debian images alone", () => {
    const text = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc\n";
    const result = run(text);
    expect(result.output).toBe(text);
    expect(result.skips).toEqual([]);
  });
});
