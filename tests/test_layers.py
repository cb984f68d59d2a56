"""The package tree is the pipeline, and data flows one way: each package imports only the
packages below it (docs/architecture.md has the same table). Checked on the source, so a
lazy import inside a function counts as much as one at the top; imports under
`if TYPE_CHECKING:` are types only and do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "provisioner"

# What each part may import at run time, besides itself. A name is a module of the root
# (`errors`), a package (`spec`) or one module of a package (`speed.collector`).
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "__main__": {"cli"},
    "errors": set(),
    "body": {"errors"},
    "options": set(),
    "config": {"errors", "options", "disk"},
    "disk": {"errors"},
    "spec": {"errors", "body", "disk", "speed.collector"},
    "state": {"errors", "body", "disk", "speed.collector"},
    "plan": {"errors", "body", "disk", "state.model", "state.document"},
    "render": {"errors", "body", "plan", "spec"},
    "remote": {"errors", "body", "config", "options", "plan"},
    "apply": {"errors", "body", "plan", "render", "spec.printable"},
    "speed": {"errors", "body", "disk", "spec", "state", "plan", "__init__"},
    "emulator": {"errors", "body", "disk", "remote.auth"},
    "commands": {"errors", "body", "config", "options", "disk", "spec", "state", "plan", "render",
                 "remote", "apply", "speed", "emulator", "commands"},
    "cli": {"errors", "__init__", "commands", "spec.printable", "speed.process"},
}


def _part(module: str) -> str:
    """provisioner.spec.load -> spec; provisioner.errors -> errors; provisioner -> __init__."""
    parts = module.split(".")[1:]
    return parts[0] if parts else "__init__"


def _runtime_imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING",
                                                                   "typing.TYPE_CHECKING"):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "provisioner":
            if node.module == "provisioner":
                found.update(f"provisioner.{alias.name}" if _is_module(alias.name)
                             else "provisioner" for alias in node.names)
            else:   # `from provisioner.speed import process` imports a module
                package = PACKAGE.joinpath(*node.module.split(".")[1:])
                subs = [a.name for a in node.names if (package / f"{a.name}.py").exists()]
                found.update(f"{node.module}.{sub}" for sub in subs)
                if len(subs) < len(node.names):
                    found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "provisioner")
    return found


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir()


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        out.append((".".join(["provisioner", *parts]), path))
    return out


def _allowed(source: str, target: str) -> bool:
    src, dst = _part(source), _part(target)
    if src == dst:
        return True
    rules = ALLOWED[src]
    sub = ".".join(target.split(".")[1:3])
    return dst in rules or sub in rules


@pytest.mark.parametrize("module,path", _modules(), ids=[m for m, _ in _modules()])
def test_imports_only_downward(module: str, path: Path) -> None:
    assert _part(module) in ALLOWED, f"{module}: a new part of the tree; add it to ALLOWED"
    bad = sorted(t for t in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")))
                 if not _allowed(module, t))
    assert not bad, f"{module} imports upward or sideways: {bad}"


def test_root_keeps_few_modules() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 6, modules


def test_the_rules_can_fail() -> None:
    tree = ast.parse("from provisioner.remote.client import KoreClient\n"
                     "if TYPE_CHECKING:\n    from provisioner.state.model import State\n")
    imports = _runtime_imports(tree)
    assert imports == {"provisioner.remote.client"}
    assert not _allowed("provisioner.render.text", "provisioner.remote.client")
    assert _allowed("provisioner.render.text", "provisioner.plan.build")


@pytest.mark.parametrize("command", [["plan"], ["validate"], ["plan", "--format", "json"]])
def test_an_offline_command_imports_nothing_of_the_remote_side(tmp_path: Path,
                                                                command: list[str]) -> None:
    """validate and plan without --refresh never talk HTTP, so they never pay for importing
    the client, its auth or `requests` (47 ms of a 92 ms plan once)."""
    import shutil
    import subprocess
    import sys

    root = PACKAGE.parent
    shutil.copytree(root / "tests" / "examples" / "valid", tmp_path / "campaigns")
    probe = ("import sys\nfrom provisioner import cli\ncode = cli.main(sys.argv[1:])\n"
             "loaded = sorted(m for m in sys.modules if m.startswith('provisioner.remote')"
             " or m.split('.')[0] in ('requests', 'jwt', 'urllib3'))\n"
             "print('LOADED', loaded, file=sys.stderr)\n")
    extra = (["--config", str(tmp_path / "none.yaml"), "--state", str(tmp_path / "s.json")]
             if command[0] == "plan" else [])
    result = subprocess.run([sys.executable, "-c", probe, *command, *extra],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert "LOADED []" in result.stderr, result.stderr[-2000:]
