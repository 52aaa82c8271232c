import { describe, expect, it } from "vitest";
import { pipHygiene } from "../passes/pip-hygiene.js";
import { poetryExport } from "../passes/poetry-export.js";
import { pythonBaseImage, pythonImageFor } from "../passes/python-base-image.js";
import { pythonEnv, startsPython } from "../passes/python-env.js";
import { UV_COPY } from "../passes/uv-install.js";
import { optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { defaultPassOptions, type PassOptions } from "../src/types.js";

const none: PassOptions = { ...defaultPassOptions, cacheStrategy: "none", enabledPasses: new Set() };
const mount: PassOptions = { ...defaultPassOptions, cacheStrategy: "mount", enabledPasses: new Set(["cache-mounts"]) };

function fix(text: string, only: string[], unsafe = false): string {
  return optimizeDockerfile(text, { only, unsafe }).output;
}

describe("pip-hygiene", () => {
  it("adds --no-cache-dir only when no cache mount keeps pip's cache", () => {
    const text = "FROM python:3.12-slim\nRUN pip install flask\n";
    expect(pipHygiene.run(parseDockerfile(text), none).changes).toHaveLength(1);
    expect(pipHygiene.run(parseDockerfile(text), mount).changes).toEqual([]);
    const mounted = "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache pip install flask\n";
    expect(pipHygiene.run(parseDockerfile(mounted), none).changes).toEqual([]);
  });

  it("respects a PIP_CACHE_DIR under a cache mount and a PIP_NO_CACHE_DIR from a parent stage", () => {
    const custom =
      "FROM python:3.12-slim\nENV PIP_CACHE_DIR=/pipcache\nRUN --mount=type=cache,target=/pipcache pip install x\n";
    expect(pipHygiene.run(parseDockerfile(custom), none).changes).toEqual([]);
    const inherited = "FROM python:3.12-slim AS a\nENV PIP_NO_CACHE_DIR=1\nFROM a\nRUN pip install x\n";
    expect(pipHygiene.run(parseDockerfile(inherited), none).changes).toEqual([]);
  });

  it("skips an old distro pip unless pip was upgraded first", () => {
    const old = "FROM ubuntu:14.04\nRUN pip install flask\n";
    expect(pipHygiene.run(parseDockerfile(old), none).skips).toHaveLength(1);
    const upgraded = "FROM ubuntu:14.04\nRUN pip install --upgrade pip\nRUN pip install flask\n";
    expect(pipHygiene.run(parseDockerfile(upgraded), none).changes.length).toBeGreaterThan(0);
  });
});

describe("python-env", () => {
  it("recognises Python services in every CMD/ENTRYPOINT form", () => {
    const check = (line: string) => {
      const f = parseDockerfile(`FROM x\n${line}\n`);
      return startsPython(f, f.instructions[1]!);
    };
    expect(check('CMD ["python", "app.py"]')).toBe(true);
    expect(check('CMD ["tini", "--", "/venv/bin/gunicorn", "a:b"]')).toBe(true);
    expect(check('CMD ["sh", "-c", "python manage.py migrate && gunicorn a:b"]')).toBe(true);
    expect(check("CMD exec uvicorn main:app")).toBe(true);
    expect(check('CMD ["node", "python-server.js"]')).toBe(false);
    expect(check("ENTRYPOINT ./run.sh")).toBe(false);
  });

  it("adds PYTHONUNBUFFERED only to the final stage, once", () => {
    const text = "FROM python:3.12 AS a\nCMD python x.py\nFROM python:3.12\nCMD python y.py\n";
    const r = pythonEnv.run(parseDockerfile(text), none);
    expect(r.changes).toHaveLength(1);
    const out = fix(text, ["python-env"]);
    expect(out).toBe(
      "FROM python:3.12 AS a\nCMD python x.py\nFROM python:3.12\nENV PYTHONUNBUFFERED=1\nCMD python y.py\n",
    );
  });

  it("sets PYTHONDONTWRITEBYTECODE only when pip-no-compile is enabled", () => {
    const text = "FROM python:3.12\nRUN pip install x\n";
    expect(fix(text, ["python-env"])).not.toContain("PYTHONDONTWRITEBYTECODE");
    expect(fix(text, ["python-env", "pip-no-compile"])).toContain("PYTHONDONTWRITEBYTECODE=1");
  });

  it("appends to a multi-line ENV in its own layout", () => {
    const text = "FROM python:3.12\nENV PYTHONFAULTHANDLER=1 \\\n    LANG=C.UTF-8\nRUN pip install x\n";
    expect(fix(text, ["python-env"])).toBe(
      "FROM python:3.12\nENV PYTHONFAULTHANDLER=1 \\\n    LANG=C.UTF-8 \\\n    PIP_DISABLE_PIP_VERSION_CHECK=1\nRUN pip install x\n",
    );
  });
});

describe("pip passes compose whatever the order", () => {
  it("pip-hygiene, pip-no-compile, python-env and uv-install reach one fixed point", () => {
    const text = 'FROM python:3.12-slim\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n';
    const ids = ["pip-hygiene", "pip-no-compile", "python-env", "uv-install"];
    const a = optimizeDockerfile(text, { only: ids, unsafe: true }).output;
    const b = optimizeDockerfile(text, { only: [...ids].reverse(), unsafe: true }).output;
    expect(a).toBe(b);
    expect(a).toContain(UV_COPY);
    expect(a).toContain("uv pip install --system --no-cache -r requirements.txt");
  });
});

describe("python-base-image", () => {
  it("maps distro releases to the official image of the same Python", () => {
    expect(pythonImageFor("ubuntu:22.04", "bookworm")).toEqual({
      target: "python:3.10-slim-bookworm",
      version: "3.10",
    });
    expect(pythonImageFor("debian:bullseye-slim", "bookworm")).toEqual({
      target: "python:3.9-slim-bullseye",
      version: "3.9",
    });
    expect(pythonImageFor("ubuntu:24.04", "trixie")?.target).toBe("python:3.12-slim-trixie");
    expect(pythonImageFor("ubuntu", "bookworm")).toBeNull();
    expect(pythonImageFor("ubuntu:16.04", "bookworm")).toBeNull();
  });

  it("is always unsafe and says why", () => {
    const text = "FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3-pip curl\n";
    const change = pythonBaseImage.run(parseDockerfile(text), defaultPassOptions).changes[0];
    expect(change?.safety).toBe("unsafe");
    expect(change?.unsafeBecause).toMatch(/\/usr\/local/);
    expect(fix(text, ["python-base-image"], true)).toBe(
      "FROM python:3.8-slim-bookworm\nRUN apt-get update && apt-get install -y curl\n",
    );
  });
});

describe("poetry-export", () => {
  it("refuses when poetry is still used after the install", () => {
    const text =
      'FROM python:3.12-slim\nENV POETRY_VIRTUALENVS_CREATE=false\nRUN pip install poetry\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --only main --no-root\nCMD ["poetry", "run", "app"]\n';
    const r = poetryExport.run(parseDockerfile(text), defaultPassOptions);
    expect(r.changes).toEqual([]);
    expect(r.skips[0]?.reason).toMatch(/still uses poetry/);
  });
});
