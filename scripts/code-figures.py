#!/usr/bin/env python3
"""Size figures of the workspace's Rust sources: lines per crate and per file,
the longest functions, and the public items per crate.

    scripts/code-figures.py [ROOT]

Counts are of src/ files before their `#[cfg(test)]` module (tests count in
the crate totals as `tests`). A function is measured from its `fn` line to its
closing brace; `pub` items are those declared `pub` without a restriction.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
crates_dir = os.path.join(root, "crates")
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")
PUB = re.compile(r"^\s*pub\s+(async\s+)?(fn|struct|enum|trait|type|const|static|mod|use)\b")


def code_part(lines):
    for i, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]":
            return lines[:i]
    return lines


def functions(path, lines):
    out = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        depth, opened = 0, False
        for j in range(i, len(lines)):
            text = re.sub(r'"(\\.|[^"\\])*"', '""', lines[j].split("//")[0])
            if not opened and ";" in text and "{" not in text:
                break
            depth += text.count("{") - text.count("}")
            opened = opened or "{" in text
            if opened and depth <= 0:
                out.append((j - i + 1, f"{path}:{i + 1} {m.group(6)}"))
                break
    return out


all_fns = []
print("| crate | src lines | test+bench lines | public items |")
print("|---|---:|---:|---:|")
files = []
for crate in sorted(os.listdir(crates_dir)):
    base = os.path.join(crates_dir, crate)
    src = tst = pub = 0
    for dirpath, _, names in os.walk(base):
        for name in sorted(names):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            lines = open(path, encoding="utf-8").read().splitlines()
            if f"{os.sep}src{os.sep}" in path:
                code = code_part(lines)
                src += len(code)
                tst += len(lines) - len(code)
                pub += sum(1 for l in code if PUB.match(l))
                files.append((len(code), rel))
                all_fns.extend(functions(rel, code))
            else:
                tst += len(lines)
    print(f"| {crate} | {src} | {tst} | {pub} |")
print()
print("Longest src files (before their test module):")
for n, rel in sorted(files, reverse=True)[:10]:
    print(f"  {n:5} {rel}")
print()
print("Ten longest functions:")
for n, where in sorted(all_fns, reverse=True)[:10]:
    print(f"  {n:5} {where}")
