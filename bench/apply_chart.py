"""docs/apply-scale.svg for bench/apply_scale.py, drawn by hand as bench/run.py draws its chart.

Seconds against campaigns created: per backend, apply as a solid line and the raw-POST floor
measured beside it as a dashed line of the same colour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

COLOURS = {"local": "#1f77b4", "postgres": "#d62728"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 640, 360, 60, 40, 20, 190


def draw(runs: list[dict[str, Any]]) -> str:
    """A line chart of wall seconds against N, as SVG text."""
    xmax: int = max(r["campaigns"] for r in runs)
    ymax: float = max(r["wall_seconds"] for r in runs) * 1.1 or 1

    def x(n: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * n / xmax

    def y(t: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * t / ymax

    parts = axes(x, y, xmax, ymax, sorted({r["campaigns"] for r in runs}))
    backends = [b for b in COLOURS if any(r["backend"] == b for r in runs)]
    row = 0
    for backend in backends:
        mine = sorted((r for r in runs if r["backend"] == backend), key=lambda r: r["campaigns"])
        for key, label, dash in (("wall_seconds", "apply", ""),
                                 ("floor_seconds", "raw-POST floor", ' stroke-dasharray="5,4"')):
            points = [(x(r["campaigns"]), y(r[key])) for r in mine]
            parts.extend(series(points, COLOURS[backend], dash))
            parts.append(f'<text x="{WIDTH - RIGHT + 16}" y="{TOP + 20 + 18 * row}" '
                         f'fill="{COLOURS[backend]}">{backend}: {label}</text>')
            row += 1
    return "\n".join(parts + ["</svg>"]) + "\n"


Scale = Callable[[float], float]


def axes(x: Scale, y: Scale, xmax: int, ymax: float, sizes: list[int]) -> list[str]:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
             f'<line x1="{LEFT}" y1="{y(0)}" x2="{x(xmax)}" y2="{y(0)}" stroke="black"/>',
             f'<line x1="{LEFT}" y1="{y(0)}" x2="{LEFT}" y2="{TOP}" stroke="black"/>',
             f'<text x="{(LEFT + x(xmax)) / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
             'campaigns created</text>',
             f'<text x="14" y="{TOP + 10}">s</text>']
    for i in range(6):
        t = ymax * i / 5
        parts.append(f'<text x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}</text>')
    parts.extend(f'<text x="{x(n):.1f}" y="{y(0) + 16}" text-anchor="middle">{n:,}</text>'
                 for n in sizes)
    return parts


def series(points: list[tuple[float, float]], colour: str, dash: str) -> list[str]:
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    return [f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>',
            *(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>'
              for px, py in points)]
