"""Tables on stdout, the JSON record and the speedup chart."""
import json
import math
import os

# Peers shown in the summary and the chart: (key in record["speedup"], label).
CHART_PEERS = [
    ("torch 1t", "torch, 1 thread (vs cyloss 1 thread)"),
    ("torch Nt", "torch, N threads (vs cyloss N threads)"),
    ("scipy", "scipy.special"),
    ("numpy", "NumPy, written the usual way"),
    ("sklearn", "sklearn._loss (n_threads=N, 1 for tiny calls)"),
]


def fmt_time(sec, unit=None):
    unit = unit or ("us" if sec < 1e-3 else "ms")
    return f"{sec * 1e6:9.2f} us" if unit == "us" else f"{sec * 1e3:9.3f} ms"


def fmt_ratio(r):
    if r is None or not math.isfinite(r):
        return "-"
    return f"{r:.2f}" if r < 100 else f"{r:.0f}"


def speedups(rec):
    """{peer key: peer time / matching cyloss time} as defined in CHART_PEERS."""
    by = {c["name"]: c for c in rec["contenders"]}
    n = rec["threads"]
    cy_n = by.get(f"cyloss {n}t")
    cy_1 = by.get("cyloss 1t", cy_n)     # tiny workloads run cyloss single-threaded only
    out = {}
    for c in rec["contenders"]:
        if c["role"] != "peer":
            continue
        if c["family"] == "torch":
            base = cy_1 if c["threads"] == 1 else cy_n
            key = "torch 1t" if c["threads"] == 1 else "torch Nt"
            if n == 1:
                key = "torch 1t"
        else:
            base, key = cy_n, c["family"]
        if base:
            out[key] = c["seconds"] / base["seconds"]
    return out


def print_workload(rec):
    n = rec["threads"]
    base_name = f"cyloss {n}t"
    unit = "us" if rec["tiny"] else None
    print(f"\n== {rec['name']}   [cyloss.{rec['function']}]")
    for name, why in rec["skipped"].items():
        print(f"   skipped {name}: {why}")
    for note in rec["notes"]:
        print(f"   note: {note}")
    has_1t = any(c["name"] == "cyloss 1t" for c in rec["contenders"])
    hdr = f"   {'contender':<12} {'time/call':>12} {'vs cy ' + str(n) + 't':>9}"
    if has_1t:
        hdr += f" {'vs cy 1t':>9}"
    print(hdr + f"   {'(repeats x inner)':>17}")
    for c in rec["contenders"]:
        line = f"   {c['name']:<12} {fmt_time(c['seconds'], unit):>12} {fmt_ratio(c['ratio']):>9}"
        if has_1t:
            line += f" {fmt_ratio(c.get('ratio_vs_cyloss_1t')):>9}"
        print(line + f"   {c['repeats']:>7} x {c['inner']:<7}")
    extra = []
    for key, label in (("cyloss_over_copy", "copy"), ("cyloss_over_read", "read")):
        if rec.get(key):
            extra.append(f"{base_name} / {label} = {rec[key]:.2f}")
    if rec.get("thread_speedup"):
        extra.append(f"cyloss 1t / {n}t = {rec['thread_speedup']:.2f}")
    if extra:
        print("   " + "   ".join(extra))


def print_summary(records, n):
    print(f"\nSummary: peer time / cyloss time (> 1: cyloss faster; torch 1t is compared with "
          f"cyloss 1t, everything else with cyloss {n}t); roof = cyloss {n}t / copy (or / read)")
    cols = [k for k, _ in CHART_PEERS if any(k in r["speedup"] for r in records)]
    names = {"torch Nt": f"torch {n}t"}
    w = max([len(r["name"]) for r in records] + [8])
    print(f"  {'workload':<{w}} {'cyloss ' + str(n) + 't':>12} " + " ".join(f"{names.get(k, k):>8}" for k in cols)
          + f" {'roof':>6}")
    for r in records:
        base = next((c for c in r["contenders"] if c["name"] == f"cyloss {n}t"), None)
        t = fmt_time(base["seconds"], "us" if r["tiny"] else None) if base else "-"
        roof = r.get("cyloss_over_copy") or r.get("cyloss_over_read")
        print(f"  {r['name']:<{w}} {t:>12} " + " ".join(f"{fmt_ratio(r['speedup'].get(k)):>8}" for k in cols)
              + f" {fmt_ratio(roof):>6}")


def write_json(path, machine, settings, records):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"machine": machine, "settings": settings, "workloads": records}, f, indent=1)
        f.write("\n")
    print(f"\nwrote {path}")


_COLORS = {"torch 1t": "#f4a261", "torch Nt": "#e76f51", "scipy": "#2a9d8f",
           "numpy": "#457b9d", "sklearn": "#9b5de5"}


def _draw_panel(ax, records, peers, rows, xlim):
    bar_h = 0.84 / len(peers)
    for i, r in enumerate(records):
        for j, (k, _) in enumerate(peers):
            v = r["speedup"].get(k)
            if v is None:
                continue
            y = i - 0.42 + bar_h * (j + 0.5)
            # bars grow from 1x: to the right where cyloss is faster, to the left where slower
            ax.barh(y, v - 1.0, left=1.0, height=bar_h * 0.88, color=_COLORS.get(k, "grey"))
            txt = f"{v:.2f}x" if v < 10 else f"{v:.0f}x"
            if v >= 1:
                ax.text(v * 1.05, y, txt, va="center", ha="left", fontsize=6.5)
            else:
                ax.text(v / 1.05, y, txt, va="center", ha="right", fontsize=6.5)
    ax.set_xscale("log")
    ax.set_xlim(*xlim)
    ax.axvspan(xlim[0], 1.0, color="#fbe9e7", zorder=0)
    ax.axvline(1.0, color="black", lw=1)
    for i in range(len(records) - 1):
        ax.axhline(i + 0.5, color="#d8d8d8", lw=0.6)
    ax.set_yticks(range(len(records)))
    ax.set_yticklabels([r["name"] for r in records], fontsize=8.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.grid(axis="x", which="major", color="#e6e6e6")
    ax.set_axisbelow(True)
    ax.tick_params(axis="x", which="both", top=True, labeltop=True, labelsize=8)


def write_png(path, records, machine, n):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except Exception as e:        # ImportError or a broken backend
        print(f"\nchart skipped: matplotlib is not importable ({e.__class__.__name__}: {e})")
        return
    records = [r for r in records if r["speedup"]]
    if not records:
        print("\nchart skipped: no peer was measured")
        return
    peers = [(k, lab) for k, lab in CHART_PEERS if any(k in r["speedup"] for r in records)]
    peers = [(k, lab.replace("N thread", f"{n} thread").replace("=N", f"={n}")) for k, lab in peers]
    ncol = 1 if len(records) <= 16 else 2
    rows = -(-len(records) // ncol)
    chunks = [records[i * rows:(i + 1) * rows] for i in range(ncol)]
    vals = [v for r in records for v in r["speedup"].values()]
    xlim = (min(vals + [1.0]) / 2.0, max(vals + [1.0]) * 2.5)

    fig_h = 1.5 + rows * (0.13 * len(peers) + 0.12)
    leg_cols = len(peers) if ncol == 2 else min(len(peers), 3)
    leg_rows = -(-len(peers) // leg_cols)
    fig_h += 0.2 * (leg_rows - 1)
    fig, axes = plt.subplots(1, ncol, figsize=(8.5 * ncol + (1.5 if ncol == 1 else 0), fig_h), squeeze=False)
    for ax, chunk in zip(axes[0], chunks):
        _draw_panel(ax, chunk, peers, rows, xlim)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("peer time / cyloss time  (> 1x: cyloss faster; shaded: cyloss slower)", fontsize=8.5)
    fig.suptitle(f"cyloss speedup over peers, per workload (log scale) -- {machine.get('cpu', '?')}, "
                 f"{machine.get('cores', '?')} cores, cyloss at {n} threads unless noted", fontsize=11,
                 y=1 - 0.12 / fig_h, va="top")
    handles = [Patch(color=_COLORS.get(k, "grey"), label=lab) for k, lab in peers]
    fig.legend(handles=handles, loc="upper center", ncol=leg_cols, fontsize=8.5, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.42 / fig_h))

    fig.tight_layout(rect=(0, 0, 1, 1 - (0.5 + 0.2 * leg_rows) / fig_h))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
