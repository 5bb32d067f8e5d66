"""Print lines of Python per app under src/kangle and the longest functions (for the record in
docs/ARCHITECTURE.md, "Size of the code"). Usage: python .ci/code_size.py [root] [--top N]"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def measure(root: Path, top: int) -> None:
    source_root = root / "src" / "kangle"
    lines_per_app: Counter[str] = Counter()
    functions = []
    for path in sorted(source_root.rglob("*.py")):
        relative = path.relative_to(source_root)
        if "migrations" in relative.parts:
            continue
        app = relative.parts[0] if len(relative.parts) > 1 else "(project)"
        text = path.read_text(encoding="utf-8")
        lines_per_app[app] += len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                functions.append((length, f"{relative}:{node.lineno} {node.name}"))
    print(f"{'app':<14} lines")
    for app, count in sorted(lines_per_app.items(), key=lambda item: -item[1]):
        print(f"{app:<14} {count:>6}")
    print(f"{'total':<14} {sum(lines_per_app.values()):>6}")
    over = sum(1 for length, _ in functions if length > 80)
    print(f"\nfunctions: {len(functions)}, over 80 lines: {over}; longest {top}:")
    for length, where in sorted(functions, reverse=True)[:top]:
        print(f"{length:>5}  {where}")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 15
    if "--top" in sys.argv:
        arguments = [a for a in arguments if a != str(count)]
    measure(Path(arguments[0]) if arguments else Path(__file__).resolve().parent.parent, count)
