#!/usr/bin/env python3
"""Sizes that keep the workspace readable, for reviews of refactors.

    python3 scripts/code-report.py functions [N]   # the N longest functions (default 5)
    python3 scripts/code-report.py api CRATE [JSON] # public items of a crate, and how many its root names

`api` reads rustdoc's JSON output, which needs a nightly toolchain:
    cargo +nightly rustdoc -p CRATE --all-features -- -Z unstable-options --output-format json
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATES = ["meta-messaging-core", "meta-messaging-axum", "meta-messaging-actix",
          "meta-messaging-cli", "meta-messaging-emulator"]
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def functions():
    """Yields (lines, path, line, name) for every fn with a body in the library crates."""
    for crate in CRATES:
        for path in sorted((ROOT / crate / "src").rglob("*.rs")):
            lines = path.read_text().splitlines()
            i = 0
            while i < len(lines):
                match = FN.match(lines[i])
                if not match:
                    i += 1
                    continue
                depth, opened, j = 0, False, i
                while j < len(lines):
                    code = re.sub(r'"(\\.|[^"\\])*"', '""', lines[j].split("//")[0])
                    depth += code.count("{") - code.count("}")
                    opened = opened or "{" in code
                    if (opened and depth <= 0) or (not opened and code.rstrip().endswith(";")):
                        break
                    j += 1
                if opened:
                    yield j - i + 1, path.relative_to(ROOT), i + 1, match.group(6)
                i += 1


def api(crate, path=None):
    name = crate.replace("-", "_")
    doc = json.loads(pathlib.Path(path or ROOT / "target" / "doc" / f"{name}.json").read_text())
    kinds = {"struct", "enum", "trait", "function", "type_alias", "constant", "static", "macro", "module"}
    local = [p for p in doc["paths"].values() if p["crate_id"] == 0 and p["kind"] in kinds]
    root = doc["index"][str(doc["root"])]["inner"]["module"]["items"]
    named_at_root = [doc["index"][str(i)] for i in root]
    modules = [item for item in named_at_root if "module" in item["inner"]]
    print(f"{crate}: {len(local)} public items ({sum(p['kind'] == 'module' for p in local)} modules); "
          f"the crate root names {len(modules)} modules and {len(named_at_root) - len(modules)} other items")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "functions"
    if what == "functions":
        count = int(sys.argv[2]) if len(sys.argv) > 2 else 5
        for size, path, line, fn in sorted(functions(), reverse=True)[:count]:
            print(f"{size:5} lines  {path}:{line}  {fn}")
    elif what == "api":
        api(sys.argv[2] if len(sys.argv) > 2 else "meta-messaging-core",
            sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(__doc__)
