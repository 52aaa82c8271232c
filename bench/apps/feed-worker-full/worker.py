"""Feed worker: polls JSON feeds listed in a YAML config and logs a digest.

    python worker.py --config config.yaml          # poll forever
    python worker.py --config config.yaml --once   # one round, exit 1 on any failure
"""

import argparse
import sys
import time

import requests
import structlog
import yaml
from dateutil import parser as dateparser

log = structlog.get_logger()


def load_config(path):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    cfg.setdefault("interval_s", 60)
    cfg.setdefault("timeout_s", 5)
    return cfg


def digest(items, since=None):
    """Newest-first titles of items published after `since`."""
    parsed = []
    for item in items:
        published = dateparser.isoparse(item["published"])
        if since is None or published > since:
            parsed.append((published, item["title"]))
    parsed.sort(reverse=True)
    return [f"{p:%Y-%m-%d %H:%M} {t}" for p, t in parsed]


def poll(cfg, session):
    ok = True
    for feed in cfg["feeds"]:
        try:
            resp = session.get(feed["url"], timeout=cfg["timeout_s"])
            resp.raise_for_status()
            since = dateparser.isoparse(feed["since"]) if feed.get("since") else None
            lines = digest(resp.json()["items"], since)
            log.info("feed polled", feed=feed["name"], new_items=len(lines), newest=lines[:1])
        except (requests.RequestException, ValueError, KeyError) as exc:
            ok = False
            log.error("feed failed", feed=feed["name"], error=str(exc))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--once", action="store_true")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    session = requests.Session()
    session.headers["User-Agent"] = "feed-worker/1.4"
    while True:
        ok = poll(cfg, session)
        if args.once:
            return 0 if ok else 1
        time.sleep(cfg["interval_s"])


if __name__ == "__main__":
    sys.exit(main())
