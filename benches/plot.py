#!/usr/bin/env python3
"""Plots criterion's medians from `cargo bench -p benches --bench check` into
benches/check.png: time per privilege check vs policy size, ours and casbin-rs (log scale).

Usage: python3 benches/plot.py   (needs matplotlib: pip install matplotlib)
"""

import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
SIZES = ["12p_10r_10u", "1000p_1000r_1000u", "1000p_10000r_1000000u"]
LABELS = ["12 privileges\n10 roles", "1,000 privileges\n1,000 roles", "1,000 privileges\n10,000 roles\n1,000,000 users"]
SERIES = [
    ("rbac Authorizer::check", "check/{}"),
    ("casbin CachedEnforcer::enforce", "casbin/cached_enforce/{}"),
    ("casbin Enforcer::enforce", "casbin/enforce/{}"),
]


def median_ns(bench: str) -> float:
    path = CRITERION / bench / "new" / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"]
    except FileNotFoundError:
        sys.exit(f"{path} missing: run `cargo bench -p benches --bench check` first")


def main() -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, pattern in SERIES:
        ys = [median_ns(pattern.format(size)) for size in SIZES]
        ax.plot(range(len(SIZES)), ys, marker="o", label=name)
        for x, y in enumerate(ys):
            text = f"{y:.0f} ns" if y < 1e3 else f"{y / 1e3:.1f} µs" if y < 1e6 else f"{y / 1e6:.0f} ms"
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(SIZES)), LABELS, fontsize=8)
    ax.set_ylabel("median time per check (ns, log scale)")
    ax.set_title("Privilege check on a cache hit vs policy size")
    ax.grid(True, which="both", axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = ROOT / "benches" / "check.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
