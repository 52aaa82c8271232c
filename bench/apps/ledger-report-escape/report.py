"""Monthly ledger report: reads a YAML ledger, prints text (tabulate) or HTML (Jinja2).

    python report.py --input sample.yaml --format text
    python report.py --input sample.yaml --format html > report.html
"""

import argparse
import os
import sys
from collections import defaultdict

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from ledgerfmt import Money, format_ledger, total
from tabulate import tabulate

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    currency = doc.get("currency", "EUR")
    return [(e["label"], e["category"], Money(e["amount"], currency)) for e in doc["entries"]]


def by_category(entries):
    sums = defaultdict(list)
    for label, cat, money in entries:
        sums[cat].append((label, money))
    return {cat: total(items, items[0][1].currency) for cat, items in sorted(sums.items())}


def render_text(entries):
    cats = by_category(entries)
    out = [format_ledger([(label, money) for label, _c, money in entries]), ""]
    out.append(tabulate([(c, str(m)) for c, m in cats.items()], headers=["category", "sum"]))
    return "\n".join(out)


def render_html(entries):
    env = Environment(loader=FileSystemLoader(os.path.join(HERE, "templates")), autoescape=select_autoescape())
    return env.get_template("report.html").render(
        entries=entries, categories=by_category(entries),
        grand_total=total([(label, m) for label, _c, m in entries], entries[0][2].currency),
    )


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(HERE, "sample.yaml"))
    ap.add_argument("--format", choices=["text", "html"], default="text")
    args = ap.parse_args(argv)
    entries = load(args.input)
    sys.stdout.write((render_text if args.format == "text" else render_html)(entries) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
