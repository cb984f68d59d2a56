"""Count the function signatures under provisioner/ that mention `Any`.

    python scripts/count_any.py [FOLDER]

A signature mentions `Any` when a parameter or return annotation names it anywhere
(`Any`, `dict[str, Any]`, `typing.Any`). Prints the count, all functions and the share,
then the modules with the most, so a change can be measured before and after.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def _mentions_any(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id == "Any":
            return True
        if isinstance(node, ast.Attribute) and node.attr == "Any":
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "Any" in node.value:
            return True
    return False


def signatures(path: Path) -> tuple[int, int]:
    """(functions, functions whose signature mentions Any) in one file."""
    total = with_any = 0
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        total += 1
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs,
                  *(a for a in (args.vararg, args.kwarg) if a is not None)]
        if any(_mentions_any(p.annotation) for p in params) or _mentions_any(node.returns):
            with_any += 1
    return total, with_any


def main(folder: str = "provisioner") -> None:
    per_file: Counter[str] = Counter()
    total = with_any = 0
    for path in sorted(Path(folder).rglob("*.py")):
        t, a = signatures(path)
        total, with_any = total + t, with_any + a
        if a:
            per_file[str(path)] = a
    share = 100 * with_any / total if total else 0.0
    print(f"{with_any} of {total} function signatures mention Any ({share:.0f}%)")
    for name, count in per_file.most_common(10):
        print(f"  {count:4}  {name}")


if __name__ == "__main__":
    main(*sys.argv[1:])
