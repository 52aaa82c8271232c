import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { extractedArchive } from "../passes/archive-cleanup.js";
import { mentionsApt } from "../passes/apt-hygiene.js";
import { packageManagerCall } from "../passes/lib/package-managers.js";
import { pipKnownNew, releaseOf } from "../passes/lib/pip-release.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell, type SimpleCommand } from "../src/shell.js";

function command(text: string): SimpleCommand {
  const parse = parseShell(text);
  if (!parse.ok) throw new Error(parse.error);
  const c = parse.script.statements[0]!.andOr.pipelines[0]!.commands[0]!;
  if (c.kind !== "simple") throw new Error("not simple");
  return c;
}

function fix(pass: string, text: string, unsafe = false): string {
  return optimizeDockerfile(text, { only: [pass], unsafe }).output;
}

describe("package-managers: wrapper options with values", () => {
  it("skips the value of sudo -u/-g/-C…, nice -n, env -u", () => {
    expect(packageManagerCall(command("sudo -u root apt-get install -y x"))?.manager).toBe("apt-get");
    expect(packageManagerCall(command("sudo -g staff -H pip install x"))?.manager).toBe("pip");
    expect(packageManagerCall(command("sudo -Eu app pip install x"))?.manager).toBe("pip");
    expect(packageManagerCall(command("sudo --user=root apk add x"))?.manager).toBe("apk");
    expect(packageManagerCall(command("nice -n 10 pip install x"))?.manager).toBe("pip");
    expect(packageManagerCall(command("env -u PIP_INDEX_URL A=b pip install x"))?.manager).toBe("pip");
    expect(packageManagerCall(command("sudo -- apt-get install x"))?.manager).toBe("apt-get");
    expect(packageManagerCall(command("sudo -u root apt-get install -y x"))?.subcommand).toBe("install");
  });

  it("still rejects commands that are not package managers", () => {
    expect(packageManagerCall(command("sudo -u root make install"))).toBeNull();
    expect(packageManagerCall(command("xargs apt-get install"))).toBeNull();
  });
});

describe("pip-hygiene: old distro pip", () => {
  it("reads the release anywhere in the image reference", () => {
    expect(releaseOf("nvidia/cuda:cudnn-ubuntu14.04")).toBe("old");
    expect(releaseOf("gocd/gocd-agent-ubuntu-14.04:v17.10.0")).toBe("old");
    expect(releaseOf("uken/precise")).toBe("old");
    expect(releaseOf("debian:jessie")).toBe("old");
    expect(releaseOf("debian:8")).toBe("old");
    expect(releaseOf("centos:6.7")).toBe("old");
    expect(releaseOf("centos:centos6")).toBe("old");
    expect(releaseOf("ubuntu:15.10")).toBe("old");
    expect(releaseOf("ubuntu:16.04")).toBe("new");
    expect(releaseOf("ubuntu")).toBe("new");
    expect(releaseOf("debian:stretch-slim")).toBe("new");
    expect(releaseOf("nvidia/cuda:10.0-cudnn7-devel-ubuntu18.04")).toBe("new");
    expect(releaseOf("centos:7")).toBe("new");
    expect(releaseOf("alpine:3.9")).toBe("new");
    expect(releaseOf("golang:1.11.4")).toBe("new");
    // Built on jessie, but the reference doesn't say so.
    expect(releaseOf("ruby:2.1.10")).toBe("unknown");
    expect(releaseOf("dockerfile/ubuntu")).toBe("unknown");
    expect(releaseOf("quay.io/aptible/ubuntu")).toBe("unknown");
  });

  it("counts only earlier upgrades of the same pip, never the upgrade itself", () => {
    const text =
      "FROM ubuntu:14.04\nRUN apt-get install -y python-pip python3-pip\nRUN pip install -U pip && pip install a && pip3 install b\n";
    const file = parseDockerfile(text);
    const run = file.instructions[2]!;
    const script = run.shell!.parse;
    if (!script.ok) throw new Error("parse");
    const cmds = script.script.statements[0]!.andOr.pipelines.map((p) => p.commands[0] as SimpleCommand);
    expect(pipKnownNew(file, run, cmds[0]!).ok).toBe(false);
    expect(pipKnownNew(file, run, cmds[1]!).ok).toBe(true);
    expect(pipKnownNew(file, run, cmds[2]!).ok).toBe(false);
  });

  it("leaves old-release and unknown-release distro pips alone", () => {
    for (const base of ["nvidia/cuda:cudnn-ubuntu14.04", "uken/precise", "ruby:2.1.10"]) {
      const text = `FROM ${base}\nRUN apt-get update && apt-get install -y python-pip\nRUN pip install uwsgi\n`;
      expect(fix("pip-hygiene", text)).toBe(text);
    }
    expect(fix("pip-hygiene", "FROM python:3.11\nRUN pip install x\n")).toBe(
      "FROM python:3.11\nRUN pip install --no-cache-dir x\n",
    );
  });

  it("keeps pip's cache when the author set one up", () => {
    for (const run of [
      "RUN --mount=type=cache,target=/c pip install x",
      "RUN pip install --cache-dir /c x",
      "RUN PIP_CACHE_DIR=/c pip install x",
      "RUN export PIP_CACHE_DIR=/c && pip install x",
    ]) {
      const text = `FROM python:3.11\n${run}\n`;
      expect(fix("pip-hygiene", text)).toBe(text);
    }
  });
});

describe("apt-hygiene: readers behind wrappers and update options", () => {
  it("recognises apt named as a command, not as a path or URL", () => {
    expect(mentionsApt("xargs apt-get install -y")).toBe(true);
    expect(mentionsApt("su root -c 'apt-get install -y git'")).toBe(true);
    expect(mentionsApt('["apt-get", "install"]')).toBe(true);
    expect(mentionsApt("timeout 600 /usr/bin/apt-get install x")).toBe(true);
    expect(mentionsApt("gdebi -n x.deb")).toBe(true);
    expect(mentionsApt("mk-build-deps -i control")).toBe(true);
    expect(mentionsApt("rm -rf /var/lib/apt/lists/*")).toBe(false);
    expect(mentionsApt('echo "deb https://packages.cloud.google.com/apt cloud-sdk main"')).toBe(false);
    expect(mentionsApt("apt-key add -")).toBe(false);
  });

  it("keeps the lists and the update-only RUN for every wrapped reader", () => {
    for (const later of [
      "xargs apt-get install -y < /p",
      "eatmydata apt-get install -y vim",
      "timeout 600 apt-get install -y vim",
      "nohup apt-get install -y vim",
      "stdbuf -oL apt-get install -y vim",
      "chronic apt-get install -y vim",
      "unbuffer apt-get install -y vim",
      "su root -c 'apt-get install -y vim'",
      "runuser -u root -- apt-get install -y vim",
      "gdebi -n /tmp/x.deb",
      "mk-build-deps -i -r /tmp/control",
      "sh -c 'apt-get install -y vim'",
    ]) {
      const text = `FROM ubuntu:20.04\nRUN apt-get update\nRUN apt-get update && apt-get install -y curl\nRUN ${later}\n`;
      const out = fix("apt-hygiene", text);
      expect(out, later).toContain("RUN apt-get update\n");
      expect(out, later).toContain("RUN apt-get update && apt-get install -y curl\n");
    }
    // `sudo -u root` takes a value: the install is seen, and gets its own update.
    expect(fix("apt-hygiene", "FROM ubuntu:20.04\nRUN apt-get update\nRUN sudo -u root apt-get install -y vim\n")).toBe(
      "FROM ubuntu:20.04\nRUN sudo -u root apt-get update && sudo -u root apt-get install -y vim && sudo rm -rf /var/lib/apt/lists/*\n",
    );
    const exec = 'FROM ubuntu:20.04\nRUN apt-get update\nRUN ["apt-get", "install", "-y", "vim"]\n';
    expect(fix("apt-hygiene", exec)).toBe(exec);
  });

  it("carries the stage's update options into the update it adds", () => {
    const text =
      "FROM debian:stretch\nRUN apt-get -o Acquire::Check-Valid-Until=false update --allow-releaseinfo-change -qq\nRUN apt-get install -y curl\n";
    expect(fix("apt-hygiene", text)).toBe(
      "FROM debian:stretch\n" +
        "RUN apt-get -o Acquire::Check-Valid-Until=false --allow-releaseinfo-change update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
    // The update-only RUN goes only once the later install updates the same way itself; in a longer RUN it stays.
    const only =
      "FROM debian:stretch\nRUN apt-get -o Acquire::Check-Valid-Until=false update\nRUN apt-get install -y curl\n";
    expect(fix("apt-hygiene", only)).toBe(
      "FROM debian:stretch\nRUN apt-get -o Acquire::Check-Valid-Until=false update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
    const dynamic = "FROM debian:stretch\nRUN apt-get $APT_OPTS update\nRUN apt-get install -y curl\n";
    expect(fix("apt-hygiene", dynamic)).toBe(dynamic);
  });

  it.skipIf(!aptCacheAnswers())(
    "python3-pip only recommends build-essential and python3-dev (bookworm apt-cache)",
    () => {
      const depends = execFileSync("apt-cache", ["depends", "python3-pip"], { encoding: "utf8" });
      expect(depends).toMatch(/Recommends: build-essential\b/);
      expect(depends).toMatch(/Recommends: python3-dev\b/);
      expect(depends).not.toMatch(/Depends: build-essential\b/);
    },
  );

  it("(unsafe) keeps python3-pip's recommends when pip install follows without a compiler", () => {
    const text = "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3-pip\nRUN pip3 install uwsgi\n";
    expect(fix("apt-hygiene", text, true)).not.toContain("--no-install-recommends");
    const full =
      "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3-pip build-essential python3-dev python3-setuptools\nRUN pip3 install uwsgi\n";
    expect(fix("apt-hygiene", full, true)).toContain("--no-install-recommends");
    const noPip = "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3-pip\n";
    expect(fix("apt-hygiene", noPip, true)).toContain("--no-install-recommends");
  });
});

describe("apk-hygiene: index readers", () => {
  it("keeps apk update and --update for wrapped or unreadable later readers", () => {
    for (const later of ["xargs apk add < /p", "timeout 100 apk add vim", "sh -c 'apk add vim'", "apk add $EXTRA"]) {
      const update = `FROM alpine:3.18\nRUN apk update\nRUN ${later}\n`;
      expect(fix("apk-hygiene", update), later).toContain("RUN apk update\n");
      const flag = `FROM alpine:3.18\nRUN apk add --update curl\nRUN ${later}\n`;
      expect(fix("apk-hygiene", flag), later).toContain("apk add --update curl");
    }
    const exec = 'FROM alpine:3.18\nRUN apk add --update curl\nRUN ["apk", "add", "git"]\n';
    expect(fix("apk-hygiene", exec)).toBe(exec);
    const ok = "FROM alpine:3.18\nRUN apk add --update curl\nRUN apk add --no-cache git\n";
    expect(fix("apk-hygiene", ok)).toContain("apk add --no-cache curl");
  });
});

describe("archive-cleanup: archives still in use", () => {
  it("treats listing, testing and member extraction as not consuming the archive", () => {
    expect(extractedArchive(command("unzip -l a.zip"))).toBeNull();
    expect(extractedArchive(command("unzip -t a.zip"))).toBeNull();
    expect(extractedArchive(command("unzip -qv a.zip"))).toBeNull();
    expect(extractedArchive(command("unzip -Z a.zip"))).toBeNull();
    expect(extractedArchive(command("unzip -p a.zip f > f"))).toBeNull();
    expect(extractedArchive(command("unzip lib.jar META-INF/MANIFEST.MF"))).toBeNull();
    expect(extractedArchive(command("tar xzf a.tgz one/member"))).toBeNull();
    expect(extractedArchive(command("tar -xzf a.tgz -T list"))).toBeNull();
    expect(extractedArchive(command("tar tzf a.tgz"))).toBeNull();
    expect(extractedArchive(command("unzip -o a.zip -d /opt"))?.value).toBe("a.zip");
    expect(extractedArchive(command("unzip a.zip -x 'docs/*'"))?.value).toBe("a.zip");
    expect(extractedArchive(command("tar xzf a.tgz -C /opt --strip-components 1"))?.value).toBe("a.tgz");
    expect(extractedArchive(command("tar -C /opt -xvf a.tgz"))?.value).toBe("a.tgz");
  });

  it("keeps archives another stage copies from, runtime artifacts and ENV-named ones", () => {
    const copy =
      "FROM ubuntu AS base\nRUN curl -o /tmp/t.tgz https://x.org/t.tgz && tar xzf /tmp/t.tgz -C /opt\nFROM alpine AS side\nCOPY --from=0 /tmp /keep\nFROM base\nCOPY --from=side /keep/x /x\n";
    expect(fix("archive-cleanup", copy)).toBe(copy);
    const war = "FROM tomcat:9\nWORKDIR /w\nRUN wget https://x.org/app.war && unzip app.war -d check\n";
    expect(fix("archive-cleanup", war)).toBe(war);
    const env =
      "FROM ubuntu\nENV PKG=/tmp/t.tgz\nRUN curl -o /tmp/t.tgz https://x.org/t.tgz && tar xzf /tmp/t.tgz\nRUN tar tzf ${PKG}\n";
    expect(fix("archive-cleanup", env)).toBe(env);
    const plain = "FROM ubuntu\nRUN curl -o /tmp/t.tgz https://x.org/t.tgz && tar xzf /tmp/t.tgz\n";
    expect(fix("archive-cleanup", plain)).toContain("rm -f /tmp/t.tgz");
  });
});

describe("yum-hygiene: cache kept on purpose", () => {
  it("adds no clean for --downloadonly, keepcache=1 or later cache readers", () => {
    for (const text of [
      "FROM centos:7\nRUN yum install -y --downloadonly httpd\n",
      "FROM centos:7\nRUN yum install -y --setopt=keepcache=1 httpd\n",
      "FROM centos:7\nRUN echo keepcache=1 >> /etc/yum.conf\nRUN yum install -y httpd\n",
      "FROM centos:7\nRUN yum install -y httpd && ls /var/cache/yum\n",
      "FROM centos:7\nRUN yum install -y httpd\nRUN cp -r /var/cache/yum /out\n",
      "FROM fedora:38\nRUN dnf install -y httpd\nCOPY x /var/cache/dnf/x\n",
    ]) {
      expect(fix("yum-hygiene", text), text).toBe(text);
    }
    expect(fix("yum-hygiene", "FROM centos:7\nRUN yum install -y httpd\n")).toBe(
      "FROM centos:7\nRUN yum install -y httpd && yum clean all\n",
    );
  });
});

function aptCacheAnswers(): boolean {
  return spawnSync("apt-cache", ["show", "--no-all-versions", "python3-pip"], { encoding: "utf8" }).status === 0;
}
