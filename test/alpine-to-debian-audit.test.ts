/**
 * Regressions from the alpine-to-debian audit (findings 1–11): each case
 * failed (a safe change that breaks the image, or an "unsafe" one certain
 * to fail) before the fix.
 */
import { describe, expect, it } from "vitest";
import { resolveAlpineImage } from "../passes/lib/alpine-images.js";
import { translateAdduser } from "../passes/lib/alpine-idioms.js";
import { APK_TO_APT } from "../passes/lib/apk-to-apt.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseShell, type SimpleCommand } from "../src/shell.js";

const only = ["alpine-to-debian"];

function run(text: string, unsafe = false) {
  const result = optimizeDockerfile(text, { only, unsafe });
  expect(result.passFailures).toEqual([]);
  expect(optimizeDockerfile(result.output, { only, unsafe }).output).toBe(result.output);
  return result;
}

/** Output in safe mode; throws when the change is not safe. */
function safeOutput(text: string): string {
  const r = run(text);
  expect(r.notApplied.map((n) => n.unsafeBecause)).toEqual([]);
  expect(r.applied.map((a) => a.safety)).toEqual(["safe"]);
  return r.output;
}

function unsafeReasons(text: string): string {
  const r = run(text);
  expect(r.applied).toEqual([]);
  return r.notApplied.map((n) => n.unsafeBecause ?? "").join("; ");
}

/** Skipped even with --unsafe: the file stays as it is and a skip says why. */
function skipReason(text: string): string {
  const r = run(text, true);
  expect(r.output).toBe(text);
  return r.skips.map((s) => s.reason).join("; ");
}

describe("1. apk paths left after conversion", () => {
  it("drops the cache cleanup even when a comment line sits in the continuation", () => {
    const out = safeOutput(
      "FROM alpine:3.7\nRUN apk add --update ca-certificates \\\n# && apk del --purge deps \\\n && rm /var/cache/apk/*\n",
    );
    expect(out).not.toContain("/var/cache/apk");
    expect(out).toContain("# && apk del --purge deps \\\n && true\n");
  });

  it("drops rm of any path under /etc/apk or /var/cache/apk", () => {
    const out = safeOutput("FROM alpine:3.18\nRUN apk add --no-cache curl && rm /etc/apk/keys/x.pub /tmp/a\n");
    expect(out).not.toContain("/etc/apk");
    expect(out).toContain("rm /tmp/a");
  });

  it("skips when a command on an apk path fails the RUN", () => {
    expect(skipReason("FROM alpine:3.7\nRUN apk add --update ca-certificates && ls /var/cache/apk\n")).toContain(
      "ls uses /var/cache/apk",
    );
    expect(
      skipReason("FROM alpine:3.18\nRUN echo http://x >> /etc/apk/repositories && apk add --no-cache curl\n"),
    ).toContain("/etc/apk/repositories");
    expect(skipReason("FROM alpine:3.18\nRUN sed -i s/a/b/ /etc/apk/repositories\n")).toContain(
      "sed uses /etc/apk/repositories",
    );
  });

  it("is unsafe (not skipped) when the failure does not fail the RUN", () => {
    expect(unsafeReasons("FROM alpine:3.18\nRUN ls /var/cache/apk || true\nRUN apk add --no-cache curl\n")).toContain(
      "ls uses /var/cache/apk",
    );
  });
});

describe("2. users and groups only Alpine has", () => {
  it("rewrites group nobody to nogroup everywhere it names an owner", () => {
    const out = safeOutput(
      "FROM alpine:3.18\nRUN chown -R nobody:nobody /srv && chown :nobody /a && chgrp nobody /b\nCOPY --chown=nobody:nobody x /x\nUSER nobody:nobody\n",
    );
    expect(out).toContain("chown -R nobody:nogroup /srv && chown :nogroup /a && chgrp nogroup /b");
    expect(out).toContain("COPY --chown=nobody:nogroup x /x");
    expect(out).toContain("USER nobody:nogroup");
  });

  it("keeps group nobody when the Dockerfile creates it", () => {
    const out = safeOutput("FROM alpine:3.18\nRUN addgroup nobody2 && addgroup nobody\nRUN chown nobody:nobody /srv\n");
    expect(out).toContain("chown nobody:nobody /srv");
  });

  it("is unsafe for users and groups only Alpine's base has", () => {
    expect(unsafeReasons("FROM alpine:3.18\nUSER guest\n")).toContain("user guest");
    expect(unsafeReasons("FROM alpine:3.18\nRUN chown squid /srv\n")).toContain("user squid");
    expect(unsafeReasons("FROM alpine:3.18\nRUN chown root:wheel /srv\n")).toContain("group wheel");
    expect(unsafeReasons("FROM alpine:3.18\nCOPY --chown=cron x /x\n")).toContain("user cron");
    expect(unsafeReasons("FROM alpine:3.18\nRUN apk add --no-cache su-exec && su-exec ftp true\n")).toContain(
      "user ftp",
    );
  });

  it("accepts those users once the Dockerfile creates them", () => {
    safeOutput("FROM alpine:3.18\nRUN adduser -D squid && chown squid /srv\nUSER squid\n");
  });
});

describe("3. openssh", () => {
  it("creates /run/sshd and is unsafe for the host keys Debian generates at install", () => {
    const r = run('FROM alpine:3.18\nRUN apk add --no-cache openssh\nCMD ["/usr/sbin/sshd", "-D"]\n', true);
    expect(r.output).toContain("rm -rf /var/lib/apt/lists/* && mkdir -p /run/sshd\n");
    expect(r.applied[0]?.unsafeBecause).toContain("host keys");
  });
});

describe("4. archives extracted into /", () => {
  it("is unsafe for tar -C /, cd / and WORKDIR / (and the default /)", () => {
    const reason = "extracts an archive into /";
    expect(unsafeReasons("FROM alpine:3.18\nRUN wget -O- https://x/s6.tar.gz | tar xz -C /\n")).toContain(reason);
    expect(unsafeReasons("FROM alpine:3.18\nRUN cd / && wget -O- https://x/s6.tar.gz | tar -xvzf -\n")).toContain(
      reason,
    );
    expect(unsafeReasons("FROM alpine:3.18\nWORKDIR /\nRUN tar --extract -f /tmp/a.tar\n")).toContain(reason);
    expect(unsafeReasons("FROM alpine:3.18\nRUN tar xf /tmp/a.tar --directory=/bin\n")).toContain("into /bin");
    expect(unsafeReasons("FROM alpine:3.18\nRUN tar xzf /tmp/a.tgz\n")).toContain(reason);
    expect(unsafeReasons("FROM alpine:3.18\nADD rootfs.tar.gz /\n")).toContain("unpacks rootfs.tar.gz into /");
  });

  it("accepts extraction elsewhere and archive creation", () => {
    safeOutput("FROM alpine:3.18\nWORKDIR /src\nRUN tar xzf /tmp/a.tgz && tar -C /opt -xf /tmp/b.tar\n");
    safeOutput("FROM alpine:3.18\nRUN tar czf /tmp/a.tgz /etc\nADD app.tar.gz /opt/\n");
  });
});

describe("5. musl binaries downloaded into a converted stage", () => {
  it("is unsafe for URLs and ARG/ENV values naming musl or Alpine builds", () => {
    expect(
      unsafeReasons(
        "ARG JDK_URL=http://download.java.net/jdk9-alpine/serverjre-9_linux-x64-musl_bin.tar.gz\nFROM alpine:latest\nRUN wget -O- $JDK_URL | tar -zxC /usr/lib/jvm\n",
      ),
    ).toContain("ARG JDK_URL");
    expect(
      unsafeReasons("FROM alpine:3.18\nRUN wget https://example.com/tool-x86_64-linux-musl.tar.gz -O /tmp/t.tgz\n"),
    ).toContain("musl");
  });
});

describe("6. runtime libraries Debian splits into several packages", () => {
  it("maps every shared object the Alpine package ships", () => {
    expect(APK_TO_APT["libevent"]?.debian).toEqual(
      expect.arrayContaining(["libevent-2.1-7", "libevent-openssl-2.1-7", "libevent-pthreads-2.1-7"]),
    );
    expect(APK_TO_APT["pango"]?.debian).toEqual(
      expect.arrayContaining(["libpango-1.0-0", "libpangoft2-1.0-0", "libpangocairo-1.0-0"]),
    );
    expect(APK_TO_APT["krb5-libs"]?.debian).toContain("libgssapi-krb5-2");
  });
});

describe("7. adduser on an existing home", () => {
  it("reports the home busybox takes over", () => {
    const cmd = parseShell("adduser -D -h /app app");
    if (!cmd.ok) throw new Error(cmd.error);
    const t = translateAdduser((cmd.script.statements[0]!.andOr.pipelines[0]!.commands[0] as SimpleCommand).words);
    expect(t.ok && t.home).toEqual({ path: "/app", source: "/app", user: "app" });
  });

  it("chowns and chmods a home that exists (WORKDIR, COPY, mkdir, base dirs)", () => {
    expect(safeOutput("FROM alpine:3.18\nWORKDIR /app\nRUN adduser -D -h /app app\n")).toContain(
      "--create-home --shell /bin/sh app && chown app: /app && chmod 2755 /app",
    );
    expect(safeOutput("FROM alpine:3.18\nRUN mkdir -p /home/app/data && adduser -D app\n")).toContain(
      "chown app: /home/app && chmod 2755 /home/app",
    );
    expect(safeOutput("FROM alpine:3.18\nRUN adduser -D -h /tmp tmpuser\n")).toContain("chown tmpuser: /tmp");
    expect(safeOutput("FROM alpine:3.18\nRUN id app || adduser -D -h /opt app\n")).toContain("id app || { useradd");
  });

  it("leaves a new home to useradd", () => {
    expect(safeOutput("FROM alpine:3.18\nRUN adduser -D app\n")).not.toContain("chown");
    expect(safeOutput("FROM alpine:3.18\nWORKDIR /app\nRUN adduser -D -H -h /app app\n")).not.toContain("chown");
  });
});

describe("8. Alpine release in a tag", () => {
  it("is unsafe when the tag's version floats (none, an alias, or one number)", () => {
    const unsafeOf = (ref: string) => {
      const r = resolveAlpineImage(ref, "bookworm");
      return r.kind === "convert" ? (r.unsafe ?? "") : r.kind;
    };
    expect(unsafeOf("golang:alpine3.7")).toContain("Alpine 3.7");
    expect(unsafeOf("python:3-alpine3.8")).toContain("python 3");
    expect(unsafeOf("node:lts-alpine3.19")).toContain("node lts");
    expect(unsafeOf("golang:1.22-alpine3.19")).toBe("");
    expect(unsafeOf("node:20-alpine3.19")).toBe("");
    expect(unsafeOf("golang:alpine")).toBe("");
    expect(unsafeReasons("FROM golang:alpine3.7\nRUN go build ./...\n")).toContain("golang:bookworm");
  });
});

describe("9. smaller gaps", () => {
  it("links /sbin/tini for scripts and sh -c strings the pass cannot rewrite", () => {
    const out = safeOutput(
      'FROM alpine:3.18\nRUN apk add --no-cache tini\nCMD ["sh", "-c", "exec /sbin/tini -s -- sleep 1"]\n',
    );
    expect(out).toContain("&& ln -sf /usr/bin/tini /sbin/tini\n");
  });

  it("links chromium-browser to Debian's chromium", () => {
    expect(
      safeOutput('FROM alpine:3.18\nRUN apk add --no-cache chromium\nENTRYPOINT ["chromium-browser"]\n'),
    ).toContain("&& ln -sf /usr/bin/chromium /usr/bin/chromium-browser\n");
  });

  it("is unsafe for servers whose version or configuration moves", () => {
    for (const pkg of ["haproxy", "mosquitto", "lighttpd", "stunnel", "postfix", "docker-cli"]) {
      expect(unsafeReasons(`FROM alpine:3.18\nRUN apk add --no-cache ${pkg}\n`)).toContain(`${pkg}:`);
    }
  });

  it("skips busybox date -D, which GNU date does not have", () => {
    expect(skipReason("FROM alpine:3.18\nRUN apk add --no-cache curl && date -D '%Y' -d 2020\n")).toContain("date -D");
  });
});

describe("10. unsafe mode never emits a change certain to fail", () => {
  it("skips unknown apk names instead of keeping them as written", () => {
    for (const pkg of ["python", "py-pip", "php7-fpm", "openjdk8-jre", "s6"]) {
      expect(skipReason(`FROM alpine:3.18\nRUN apk add --no-cache ${pkg}\n`)).toContain(
        `no known Debian package for apk package ${pkg}`,
      );
    }
    expect(skipReason('FROM alpine:3.18\nRUN apk add --no-cache openjdk8-jre="$V"\n')).toContain("openjdk8-jre");
  });

  it("skips pip into the system Python (PEP 668) when it fails the RUN", () => {
    expect(skipReason("FROM alpine:3.18\nRUN apk add --no-cache python3 py3-pip && pip3 install flask\n")).toContain(
      "PEP 668",
    );
    expect(
      skipReason("FROM alpine:3.18\nRUN apk add --no-cache python3 py3-pip\nRUN set -e; pip3 install flask; echo ok\n"),
    ).toContain("PEP 668");
  });
});
