#!/usr/bin/env python3
"""Repack a Debian python3-* .deb into a pure-Python wheel (py3-none-any).

Why: the benchmark apps must `pip install` real third-party packages, but PyPI
is not reachable from this machine; Debian's archive is.  Debian's python3-*
packages ship the very same upstream code under /usr/lib/python3/dist-packages
together with the upstream metadata (an .egg-info or .dist-info directory), so
we can turn them back into wheels that pip installs from a --find-links dir.

Usage:
    repack-deb-wheel.py --out DIR [--drop-ext] [--drop-require NAME]... DEB...

Rules:
  * the wheel holds every top-level module/package the .deb puts into
    dist-packages, plus a freshly written <name>-<version>.dist-info with
    METADATA, WHEEL (Root-Is-Purelib: true, Tag: py3-none-any), top_level.txt,
    entry_points.txt (so pip regenerates console scripts) and RECORD;
  * name and version come from the upstream metadata Debian kept (PKG-INFO or
    METADATA), never from the Debian version string;
  * compiled extensions (*.so) cannot go into a py3-none-any wheel.  Without
    --drop-ext the script refuses such a .deb; with --drop-ext it drops the .so
    files, which is only correct for packages with a pure-Python fallback
    (markupsafe, PyYAML, simplejson...).  The caller decides.
  * the output is reproducible: fixed zip timestamps, sorted entries.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

DIST_PACKAGES = os.path.join("usr", "lib", "python3", "dist-packages")
# Files of an installed .dist-info that describe the *installation*, not the
# distribution; a wheel must not carry them (RECORD and WHEEL are rewritten).
INSTALL_ONLY = {"RECORD", "WHEEL", "INSTALLER", "REQUESTED", "direct_url.json"}
# Files of an .egg-info that have no place in a .dist-info.
EGG_ONLY = {"PKG-INFO", "requires.txt", "SOURCES.txt", "dependency_links.txt",
            "not-zip-safe", "zip-safe", "installed-files.txt", "top_level.txt",
            "entry_points.txt"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def die(msg: str) -> None:
    print(f"repack-deb-wheel: error: {msg}", file=sys.stderr)
    sys.exit(1)


def safe_name(name: str) -> str:
    """Wheel file/dist-info name component (PEP 427 / binary distribution format)."""
    return re.sub(r"[-_.]+", "_", name)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requires_txt_to_metadata(text: str) -> tuple[list[str], list[str]]:
    """Convert setuptools' requires.txt into Requires-Dist / Provides-Extra.

    Sections look like "[extra]", "[:marker]" or "[extra:marker]".
    """
    requires: list[str] = []
    extras: list[str] = []
    extra, marker = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            extra, _, marker = section.partition(":")
            if extra and extra not in extras:
                extras.append(extra)
            continue
        conds = []
        if marker:
            conds.append(f"({marker})" if extra else marker)
        if extra:
            conds.append(f'extra == "{extra}"')
        requires.append(line + ("; " + " and ".join(conds) if conds else ""))
    return requires, extras


def requirement_name(req: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    return canonical(m.group(1)) if m else ""


class Dist:
    """One distribution found in the extracted .deb."""

    def __init__(self, root: str, info_dir: str):
        self.root = root
        self.info_dir = info_dir
        self.path = os.path.join(root, info_dir)
        self.is_egg = info_dir.endswith(".egg-info")
        meta_file = "PKG-INFO" if self.is_egg else "METADATA"
        meta_path = os.path.join(self.path, meta_file)
        if not os.path.isfile(meta_path):
            die(f"{info_dir} has no {meta_file}")
        with open(meta_path, encoding="utf-8") as f:
            self.metadata_text = f.read()
        msg = email.parser.HeaderParser().parsestr(self.metadata_text)
        self.name = msg["Name"]
        self.version = msg["Version"]
        if not self.name or not self.version:
            die(f"{info_dir}: no Name/Version in metadata")

    def read(self, fname: str) -> str | None:
        p = os.path.join(self.path, fname)
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                return f.read()
        return None

    def top_level(self) -> list[str]:
        text = self.read("top_level.txt")
        return [t.strip() for t in text.splitlines() if t.strip()] if text else []


def build_metadata(dist: Dist, drop_requires: set[str]) -> str:
    """METADATA text: the upstream headers, with Requires-Dist filled in from
    requires.txt for egg-info packages, minus requirements the caller drops."""
    head, sep, body = dist.metadata_text.partition("\n\n")
    lines = head.splitlines()
    if dist.is_egg:
        # PKG-INFO carries no dependency info; requires.txt does.
        req_text = dist.read("requires.txt") or ""
        requires, extras = requires_txt_to_metadata(req_text)
        lines = [ln for ln in lines if not ln.startswith(("Requires-Dist:", "Provides-Extra:"))]
        lines += [f"Provides-Extra: {e}" for e in extras]
        lines += [f"Requires-Dist: {r}" for r in requires]
    if drop_requires:
        lines = [ln for ln in lines
                 if not (ln.startswith("Requires-Dist:")
                         and requirement_name(ln.split(":", 1)[1]) in drop_requires)]
    # Metadata 2.1 is what pip 23 and the packages themselves use.
    return "\n".join(lines) + "\n" + (sep + body if sep else "")


def record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def collect_files(root: str, entries: list[str], drop_ext: bool, deb: str) -> list[tuple[str, str]]:
    """(archive name, filesystem path) for every file under the given top-level entries."""
    files: list[tuple[str, str]] = []
    for entry in entries:
        full = os.path.join(root, entry)
        if os.path.isfile(full):
            paths = [full]
        else:
            paths = []
            for d, dirs, fnames in os.walk(full):
                dirs[:] = [x for x in dirs if x != "__pycache__"]
                paths += [os.path.join(d, fn) for fn in fnames]
        for p in paths:
            if p.endswith((".pyc", ".pyo")):
                continue
            if not os.path.exists(p):
                # Debian swaps bundled copies for symlinks into other packages
                # (werkzeug's jquery.js -> libjs-jquery); those targets are not
                # in this .deb, so the file is left out.
                print(f"  skipping dangling symlink {os.path.relpath(p, root)}", file=sys.stderr)
                continue
            if re.search(r"\.so(\.|$)", p):
                if not drop_ext:
                    die(f"{os.path.basename(deb)} contains a compiled extension "
                        f"({os.path.relpath(p, root)}); it cannot become a py3-none-any "
                        "wheel (pass --drop-ext only if the package has a pure-Python fallback)")
                print(f"  dropping compiled extension {os.path.relpath(p, root)}", file=sys.stderr)
                continue
            files.append((os.path.relpath(p, root).replace(os.sep, "/"), p))
    return sorted(files)


def write_wheel(out_dir: str, dist: Dist, entries: list[str], drop_ext: bool,
                drop_requires: set[str], deb: str) -> str:
    name, version = dist.name, dist.version
    dist_info = f"{safe_name(name)}-{version}.dist-info"
    wheel_name = f"{safe_name(name)}-{version}-py3-none-any.whl"

    meta: dict[str, bytes] = {}
    meta["METADATA"] = build_metadata(dist, drop_requires).encode("utf-8")
    meta["WHEEL"] = (
        "Wheel-Version: 1.0\n"
        "Generator: dfopt repack-deb-wheel.py\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    ).encode()
    meta["top_level.txt"] = ("\n".join(sorted(entries_to_modules(entries))) + "\n").encode()
    ep = dist.read("entry_points.txt")
    if ep:
        meta["entry_points.txt"] = ep.encode("utf-8")
    # Keep whatever else upstream put into a .dist-info (LICENSE files...).
    if not dist.is_egg:
        for d, _dirs, fnames in os.walk(dist.path):
            for fn in fnames:
                rel = os.path.relpath(os.path.join(d, fn), dist.path).replace(os.sep, "/")
                if rel in INSTALL_ONLY or rel in meta:
                    continue
                with open(os.path.join(d, fn), "rb") as f:
                    meta[rel] = f.read()

    files = collect_files(dist.root, entries, drop_ext, deb)
    if not files:
        die(f"{os.path.basename(deb)}: no Python files found for {name}")

    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, wheel_name)
    tmp = target + ".tmp"
    record: list[str] = []
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def add(arcname: str, data: bytes, mode: int = 0o644) -> None:
            zi = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            zi.external_attr = (0o100000 | mode) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
            record.append(record_line(arcname, data))

        for arcname, path in files:
            with open(path, "rb") as f:
                add(arcname, f.read(), 0o755 if os.access(path, os.X_OK) else 0o644)
        for rel in sorted(meta):
            add(f"{dist_info}/{rel}", meta[rel])
        record_name = f"{dist_info}/RECORD"
        record.append(f"{record_name},,")
        zi = zipfile.ZipInfo(record_name, date_time=ZIP_DATE)
        zi.external_attr = (0o100644) << 16
        zf.writestr(zi, "\n".join(record) + "\n", compress_type=zipfile.ZIP_DEFLATED)
    os.replace(tmp, target)
    return target


def entries_to_modules(entries: list[str]) -> list[str]:
    return [e[:-3] if e.endswith(".py") else e for e in entries]


def repack(deb: str, out_dir: str, drop_ext: bool, drop_requires: set[str]) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="repack-") as tmp:
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        root = os.path.join(tmp, DIST_PACKAGES)
        if not os.path.isdir(root):
            die(f"{os.path.basename(deb)} has no {DIST_PACKAGES}")
        names = sorted(os.listdir(root))
        infos = [n for n in names if n.endswith((".egg-info", ".dist-info"))]
        others = [n for n in names if n not in infos and n != "__pycache__"]
        if not infos:
            die(f"{os.path.basename(deb)}: no .egg-info/.dist-info (no upstream metadata)")
        dists = [Dist(root, i) for i in infos]
        built = []
        for dist in dists:
            if len(dists) == 1:
                # Everything the package put into dist-packages is its code.
                entries = others
            else:
                tl = set(dist.top_level())
                entries = [o for o in others if (o[:-3] if o.endswith(".py") else o) in tl]
            built.append(write_wheel(out_dir, dist, entries, drop_ext, drop_requires, deb))
        return built


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory to write wheels to")
    ap.add_argument("--drop-ext", action="store_true",
                    help="drop compiled *.so files (package must have a pure-Python fallback)")
    ap.add_argument("--drop-require", action="append", default=[], metavar="NAME",
                    help="remove Requires-Dist entries for NAME (e.g. a compiled dep we do not ship)")
    ap.add_argument("debs", nargs="+")
    args = ap.parse_args()
    if not shutil.which("dpkg-deb"):
        die("dpkg-deb not found")
    drop = {canonical(n) for n in args.drop_require}
    for deb in args.debs:
        for whl in repack(deb, args.out, args.drop_ext, drop):
            print(os.path.basename(whl))


if __name__ == "__main__":
    main()
