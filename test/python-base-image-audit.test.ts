/**
 * python-base-image: the `apt-get update` a later install reads stays (the
 * python image has no apt lists); 3.12+ targets lose setuptools and wheel
 * (apt's python3-pip brought them); the ubuntu-user refusal fires on user
 * contexts only, other Ubuntu mentions get their own reason.
 */
import { describe, expect, it } from "vitest";
import { pythonBaseImage, ubuntuSpecific } from "../passes/python-base-image.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions } from "../src/types.js";

function fix(text: string): string {
  return optimizeDockerfile(text, { only: ["python-base-image"], unsafe: true }).output;
}

function run(text: string) {
  return pythonBaseImage.run(parseDockerfile(text), defaultPassOptions);
}

describe("python-base-image: apt lists for later installs", () => {
  it("keeps the update when a later RUN of the stage installs without its own", () => {
    expect(
      fix(
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3 python3-pip\nRUN apt-get install -y curl\n",
      ),
    ).toBe("FROM python:3.10-slim-bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n");
  });

  it("keeps it for an install in a stage built FROM this one", () => {
    expect(
      fix(
        "FROM ubuntu:22.04 AS base\nRUN apt-get update && apt-get install -y python3 python3-pip\nFROM base\nRUN apt-get install -y curl\n",
      ),
    ).toBe("FROM python:3.10-slim-bookworm AS base\nRUN apt-get update\nFROM base\nRUN apt-get install -y curl\n");
  });

  it("keeps the rest of the plumbing with it", () => {
    expect(
      fix(
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y python3 && apt-get clean\nRUN apt-get install -y curl || true\n",
      ),
    ).toBe(
      "FROM python:3.11-slim-bookworm\nRUN apt-get update && apt-get clean\nRUN apt-get install -y curl || true\n",
    );
  });

  it("drops it when every later install updates first, or the RUN deleted its lists anyway", () => {
    expect(
      fix(
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3 python3-pip\nRUN apt-get update && apt-get install -y curl\n",
      ),
    ).toBe("FROM python:3.10-slim-bookworm\nRUN apt-get update && apt-get install -y curl\n");
    expect(
      fix(
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3 && rm -rf /var/lib/apt/lists/*\nRUN apt-get install -y curl\n",
      ),
    ).toBe("FROM python:3.10-slim-bookworm\nRUN apt-get install -y curl\n");
  });

  it("a later install this pass empties too doesn't need the lists", () => {
    expect(
      fix("FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3\nRUN apt-get install -y python3-pip\n"),
    ).toBe("FROM python:3.10-slim-bookworm\n");
  });
});

describe("python-base-image: setuptools and wheel on 3.12+", () => {
  const noble = "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y python3 python3-pip curl\n";

  it("refuses when the file uses them", () => {
    for (const use of [
      "RUN cd /src && python3 setup.py install",
      'RUN python3 -c "import pkg_resources"',
      "RUN pip3 install --break-system-packages --no-build-isolation .",
      "RUN easy_install foo",
      "FROM base\nRUN python3 setup.py bdist_wheel",
    ]) {
      const text = use.startsWith("FROM") ? noble.replace("ubuntu:24.04", "ubuntu:24.04 AS base") + use : noble + use;
      const r = run(`${text}\n`);
      expect(r.changes, use).toEqual([]);
      expect(r.skips[0]?.reason, use).toMatch(/needs setuptools or wheel.*python:3\.12-slim-bookworm has neither/);
    }
  });

  it("names the risk in the unsafe reason otherwise, and only for 3.12+ with python3-pip", () => {
    expect(run(noble).changes[0]?.unsafeBecause).toMatch(/setuptools and wheel/);
    expect(run(noble.replace("python3-pip ", "")).changes[0]?.unsafeBecause).not.toMatch(/setuptools/);
    expect(run(noble.replace("24.04", "22.04")).changes[0]?.unsafeBecause).not.toMatch(/setuptools/);
  });

  it("doesn't count apt's python3-setuptools as provided by a 3.12+ image", () => {
    const text = "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y python3 python3-setuptools\n";
    expect(run(text).skips[0]?.reason).toMatch(/python3-setuptools comes from apt/);
    expect(fix(text.replace("24.04", "22.04"))).toBe("FROM python:3.10-slim-bookworm\n");
  });
});

describe("python-base-image: Ubuntu-specific files", () => {
  it("says 'ubuntu user' only for user contexts", () => {
    for (const user of [
      "USER ubuntu",
      "COPY --chown=ubuntu:ubuntu . /app",
      "RUN chown -R ubuntu /app",
      "WORKDIR /home/ubuntu",
      "RUN su ubuntu -c true",
      "RUN sudo -u ubuntu true",
      "RUN userdel -r ubuntu",
    ]) {
      expect(ubuntuSpecific(user), user).toMatch(/ubuntu user/);
    }
  });

  it("gives URLs and paths naming Ubuntu their own reason", () => {
    expect(ubuntuSpecific("RUN curl -fsSL https://download.docker.com/linux/ubuntu/gpg | gpg --dearmor")).toBe(
      "https://download.docker.com/linux/ubuntu/gpg names Ubuntu (apt sources, downloads or paths for Ubuntu don't fit a Debian-based image)",
    );
    expect(ubuntuSpecific("RUN echo 'deb http://apt.postgresql.org/pub/repos/apt jammy-pgdg main' > x")).toMatch(
      /^jammy-pgdg names Ubuntu/,
    );
    expect(ubuntuSpecific("RUN curl -fsSL https://example.com/get.sh | sh")).toBeNull();
    const text =
      "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y python3 curl\nRUN curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /k.gpg\n";
    expect(run(text).skips[0]?.reason).not.toMatch(/ubuntu user/);
  });
});
