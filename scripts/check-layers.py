#!/usr/bin/env python3
"""Fails (exit 1) when a source file includes a header from a layer above its own.

The layers are docs/ARCHITECTURE.md's "Layout", lowest first. A file in src/X may include
headers of its own folder and of any lower layer; a layer listed on the same line as another
is its peer, and peers may not include each other. Usage: scripts/check-layers.py [SRC_DIR]
"""
import pathlib
import re
import sys

LAYERS = [
    ["core"],
    ["resources"],
    ["domain"],
    ["store", "fhir/search"],
    ["fhir", "analytics", "synth", "security"],
    ["http"],
    ["export"],
    ["records"],
    ["api", "webapp"],
    ["server"],
    ["cli"],
]
RANK = {folder: rank for rank, line in enumerate(LAYERS) for folder in line}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(relative):
    """The layer folder of a path below src/ ("fhir/search/paging.h" -> "fhir/search")."""
    parts = pathlib.PurePosixPath(relative).parts
    two = "/".join(parts[:2])
    return two if two in RANK else parts[0]


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent / "src")
    problems = []
    files = sorted(p for p in src.rglob("*") if p.suffix in (".h", ".cc"))
    for path in files:
        own = layer_of(path.relative_to(src).as_posix())
        if own not in RANK:
            problems.append(f"{path}: folder '{own}' is not in any layer (add it to LAYERS)")
            continue
        for line_no, match in enumerate(INCLUDE.finditer(path.read_text()), 1):
            target = layer_of(match.group(1))
            if target == own or target not in RANK:
                continue  # own folder, or not one of ours (a system or library header)
            if RANK[target] >= RANK[own]:
                kind = "a peer" if RANK[target] == RANK[own] else "a higher"
                problems.append(f"{path}: includes \"{match.group(1)}\" from {kind} layer "
                                f"({own} -> {target})")
    for problem in problems:
        print(problem)
    print(f"layers: {len(files)} files checked, {len(problems)} upward or sideways includes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
