"""`make bench`: how fast validate and plan are at 1,000 / 10,000 / 20,000 campaigns.

Every measurement is a fresh process timed from outside (wall clock, interpreter start-up
included), repeated, and reported as median, min and max:

  floor         yaml.load_all(..., Loader=CSafeLoader) over the same files, one process
  plan cold     provisioner plan --no-cache, every campaign unchanged against state
  plan warm     provisioner plan with a warm cache and one file changed since
  validate      provisioner validate --no-cache, single-document files
  check-jsonschema  check-jsonschema --schemafile schemas/campaign.schema.json, same files
  peak MB       max RSS of a cold plan (its largest process, workers included)
  apply         bench/apply.py's share of the request budget against the emulator

    python bench/run.py [--quick] [--repeats N] [--sizes 1000,10000] [--no-check-jsonschema]

Writes bench/results.json and draws docs/performance.svg.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import apply as apply_bench  # noqa: E402
from gen import DATA, generate  # noqa: E402

BIN = Path(sys.executable).parent
FLOOR = """\
import sys, yaml
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        list(yaml.load_all(handle.read(), Loader=yaml.CSafeLoader))
"""
CJS_SIZES = (1000, 10000)   # ~96 s at 10,000: once, and not at 20,000


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run; it must succeed (plan may exit 2: changes)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{argv[:3]} failed ({proc.returncode}): {err.decode()[-800:]}")
    return wall


def rss_of(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Max RSS (KiB) of one run and its workers, measured in a fresh helper process so an
    earlier, bigger child does not mask it."""
    helper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
              "stdout=subprocess.DEVNULL); "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", helper, *argv], cwd=cwd, env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def stats(samples: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": len(samples), "samples": samples}


def plan_argv(data: Path, *extra: str) -> list[str]:
    return [str(BIN / "provisioner"), "plan", "--config", str(data / "bench.yaml"), "--state",
            str(data / "state.json"), "--campaigns", str(data / "campaigns"), *extra]


def measure_size(count: int, repeats: int, cjs: bool) -> dict[str, Any]:
    """Each repeat runs floor, cold plan, warm plan and validate in turn, so that the
    machine's drift (this VM's speed wanders by a third) hits every measurement alike and
    their ratios hold."""
    data = generate(count, DATA / f"n{count}")
    files = sorted(str(p) for p in (data / "campaigns").glob("*.yaml"))   # defaults included
    singles = sorted(str(p) for p in (data / "single").glob("*.yaml"))
    cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    env = {**os.environ, "PROVISIONER_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    out: dict[str, Any] = {"campaigns": count, "files": len(files)}
    runs: dict[str, list[float]] = {"floor": [], "plan_cold": [], "plan_warm": [],
                                    "validate": []}
    timed(plan_argv(data), data, env)   # fill the cache
    for n in range(repeats):
        runs["floor"].append(timed([sys.executable, "-c", FLOOR, *files], data))
        runs["plan_cold"].append(timed(plan_argv(data, "--no-cache"), data, env))
        runs["plan_warm"].append(_warm_run(data, env, n))
        _restore(data)   # the cold plan measures all campaigns unchanged
        runs["validate"].append(timed([str(BIN / "provisioner"), "validate", "--no-cache",
                                       "single"], data, env))
    out.update({key: stats(samples) for key, samples in runs.items()})
    out["peak_mb"] = rss_of(plan_argv(data, "--no-cache"), data, env) / 1024
    if cjs and count in CJS_SIZES:
        out["check_jsonschema"] = stats([timed(
            [str(BIN / "check-jsonschema"), "--schemafile",
             str(ROOT / "schemas" / "campaign.schema.json"), *singles], data)])
    return out


def _warm_run(data: Path, env: dict[str, str], n: int) -> float:
    """Change one file (new bytes every time, so it is a genuine miss) and plan."""
    target = data / "campaigns" / "c000000.yaml"
    text = _original(target)
    target.write_text(text.replace("Generated for the provisioner benchmark.",
                                   f"Changed for warm run {n}.", 1))
    return timed(plan_argv(data), data, env)


def _original(path: Path) -> str:
    keep = path.with_suffix(".orig")
    if not keep.exists():
        keep.write_text(path.read_text())
    return keep.read_text()


def _restore(data: Path) -> None:
    keep = data / "campaigns" / "c000000.orig"
    if keep.exists():
        (data / "campaigns" / "c000000.yaml").write_text(keep.read_text())
        keep.unlink()


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "system": platform.platform()}


ROWS = (("floor", "floor: yaml.load_all CSafeLoader"), ("plan_cold", "plan, cold (--no-cache)"),
        ("plan_warm", "plan, warm, 1 file changed"), ("validate", "validate --no-cache"),
        ("check_jsonschema", "check-jsonschema"))


def table(sizes: list[dict[str, Any]]) -> str:
    lines = [f"| {'measurement':<34} | {'campaigns':>9} | {'median s':>8} | {'min s':>7} | "
             f"{'max s':>7} |", f"|{'-' * 36}|{'-' * 10}:|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|"]
    for key, label in ROWS:
        for size in sizes:
            if key in size:
                s = size[key]
                lines.append(f"| {label:<34} | {size['campaigns']:>9,} | {s['median']:>8.2f} | "
                             f"{s['min']:>7.2f} | {s['max']:>7.2f} |")
    return "\n".join(lines)


def checks(sizes: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, as ratios of medians."""
    by = {s["campaigns"]: s for s in sizes}
    out = []
    for s in sizes:
        n, floor = s["campaigns"], s["floor"]["median"]
        out.append(f"{n:>6,}: cold plan {s['plan_cold']['median'] / floor:.2f}x floor "
                   f"(target < 1), warm plan {s['plan_warm']['median'] / floor:.1%} of floor "
                   f"(target <= 10%), peak {s['peak_mb']:.0f} MB")
        if "check_jsonschema" in s:
            out.append(f"{n:>6,}: validate {s['check_jsonschema']['median'] / s['validate']['median']:.1f}x "
                       "faster than check-jsonschema (target >= 20x)")
    if 10000 in by and 20000 in by:
        for key in ("plan_cold", "validate", "floor"):
            ratio = by[20000][key]["median"] / by[10000][key]["median"]
            out.append(f"20,000 / 10,000 {key}: {ratio:.2f}x (target <= 2.2x)")
    return out


SERIES = (("plan_cold", "plan, cold", "#d62728"), ("floor", "floor (yaml.load_all)", "#7f7f7f"),
          ("plan_warm", "plan, warm", "#2ca02c"))


def draw(sizes: list[dict[str, Any]]) -> str:
    """A line chart of median seconds against campaign count, as SVG text."""
    width, height, left, bottom, top, right = 640, 360, 60, 40, 20, 180
    xmax = max(s["campaigns"] for s in sizes)
    ymax = max(s[k]["median"] for s in sizes for k, _, _ in SERIES) * 1.1 or 1
    x = lambda n: left + (width - left - right) * n / xmax  # noqa: E731
    y = lambda t: height - bottom - (height - bottom - top) * t / ymax  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{left}" y1="{y(0)}" x2="{x(xmax)}" y2="{y(0)}" stroke="black"/>',
             f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{top}" stroke="black"/>',
             f'<text x="{(left + x(xmax)) / 2}" y="{height - 8}" text-anchor="middle">'
             'campaigns</text>',
             f'<text x="14" y="{top + 10}">s</text>']
    for i in range(6):
        t = ymax * i / 5
        parts.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}</text>')
    for s in sizes:
        parts.append(f'<text x="{x(s["campaigns"]):.1f}" y="{y(0) + 16}" text-anchor="middle">'
                     f'{s["campaigns"]:,}</text>')
    for row, (key, label, colour) in enumerate(SERIES):
        points = " ".join(f"{x(s['campaigns']):.1f},{y(s[key]['median']):.1f}" for s in sizes)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        parts.extend(f'<circle cx="{x(s["campaigns"]):.1f}" cy="{y(s[key]["median"]):.1f}" '
                     f'r="3" fill="{colour}"/>' for s in sizes)
        parts.append(f'<text x="{width - right + 16}" y="{top + 20 + 18 * row}" '
                     f'fill="{colour}">{label}</text>')
    return "\n".join(parts + ["</svg>"]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines())
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 only, once")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--sizes", help="comma-separated campaign counts")
    parser.add_argument("--no-check-jsonschema", action="store_true")
    parser.add_argument("--no-apply", action="store_true")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else (
        [1000, 10000] if args.quick else [1000, 10000, 20000])
    repeats = args.repeats or (1 if args.quick else 5)
    # As an installed package is (pip compiles on install): with PYTHONDONTWRITEBYTECODE set,
    # every run would otherwise compile our modules again, measuring the compiler.
    compileall.compile_dir(ROOT / "provisioner", quiet=1)
    results = [measure_size(n, repeats, not args.no_check_jsonschema) for n in sizes]
    report = {"machine": machine(), "repeats": repeats, "sizes": results}
    print(f"machine: {report['machine']}")
    print(table(results))
    for line in checks(results):
        print(line)
    if not args.no_apply:
        report["apply"] = apply_bench.run(100, 300, 100, 4)
        a = report["apply"]
        print(f"apply: {a['campaigns']} campaigns, {a['requests']} requests at "
              f"{a['achieved_per_minute']:.0f}/min = {a['share_of_budget']:.0%} of a "
              f"{a['budget_per_minute']}/min budget, {a['http_429']} x 429, "
              f"{a['wall_seconds']:.1f} s")
    out = ROOT / "bench" / "results.json"
    kept = json.loads(out.read_text()) if out.exists() else {}
    kept = {key: value for key, value in kept.items() if key == "apply_scale"}  # bench/apply.py's
    out.write_text(json.dumps({**kept, **report}, indent=2) + "\n")
    (ROOT / "docs" / "performance.svg").write_text(draw(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
