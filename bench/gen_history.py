#!/usr/bin/env python3
"""Deterministic synthetic git history for keyleak benchmarks, written with `git fast-import`.

    python3 bench/gen_history.py REPO_DIR                      # 10,500 commits, >= 105k blob versions
    python3 bench/gen_history.py REPO_DIR --commits 1 --tree-files 50000 --checkout
                                                               # one big commit (staged-latency repo)

The first commit adds --tree-files files; every later commit rewrites --per-commit files
(each rewrite is a new blob version: a few lines replaced, some appended, capped in size).
A few commits add FAKE credentials (format-shaped, random) that a later commit removes again,
as a real leak would look. Their list goes to REPO_DIR.manifest.json (outside the repository).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_corpus import Gen, plant  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo")
    ap.add_argument("--commits", type=int, default=10_500)
    ap.add_argument("--tree-files", type=int, default=2_500)
    ap.add_argument("--per-commit", type=int, default=10)
    ap.add_argument("--seed", type=int, default=20240602)
    ap.add_argument("--checkout", action="store_true", help="populate the work tree afterwards")
    a = ap.parse_args()

    if os.path.exists(a.repo):
        print(f"{a.repo} exists", file=sys.stderr)
        return 2
    t0 = time.time()
    subprocess.run(["git", "init", "-q", "-b", "main", a.repo], check=True)
    fi = subprocess.Popen(["git", "-C", a.repo, "fast-import", "--quiet", "--done"],
                          stdin=subprocess.PIPE, bufsize=1 << 20)
    w = fi.stdin.write
    g = Gen(a.seed)
    r = g.r
    exts = [".py", ".js", ".rs", ".go", ".yaml", ".md"]
    linefn = {".py": g.py_line, ".js": g.js_line, ".rs": g.rs_line, ".go": g.go_line,
              ".yaml": g.yaml_line, ".md": g.md_line}
    pools = {e: g.pool(linefn[e], 3000) for e in exts}
    files: dict[str, list[str]] = {}
    for k in range(a.tree_files):
        e = exts[k % len(exts)]
        p = f"pkg{k % 40:02d}/{g.word()}/{g.word()}_{k:05d}{e}"
        files[p] = r.choices(pools[e], k=r.randint(20, 120))
    paths = sorted(files)
    manifest = {"seed": a.seed, "planted": []}
    blobs = 0
    leaks: dict[str, tuple[int, str]] = {}  # path -> (commit index that removes it, leaked text)
    ts = 1_600_000_000

    def blob(text: str) -> None:
        data = text.encode()
        w(b"blob\nmark :%d\ndata %d\n" % (blob.mark, len(data)))
        w(data)
        w(b"\n")

    blob.mark = 0
    nplant = 0
    for c in range(a.commits):
        ts += r.randint(60, 7200)
        if c == 0:
            changed = paths
        else:
            changed = r.sample(paths, min(a.per_commit, len(paths)))
        changes = []
        for p in changed:
            lines = files[p]
            e = os.path.splitext(p)[1]
            if c:
                for _ in range(r.randint(1, 4)):
                    lines[r.randrange(len(lines))] = r.choice(pools[e])
                lines.extend(r.choices(pools[e], k=r.randint(0, 4)))
                if len(lines) > 400:
                    del lines[: len(lines) - 300]
            text = "\n".join(lines) + "\n"
            if p in leaks and c >= leaks[p][0]:
                del leaks[p]
            elif c and c % 997 == 0 and e in (".py", ".js") and not leaks:
                ext, secret_text, secrets = plant(g, nplant)
                nplant += 1
                text += secret_text
                leaks[p] = (c + r.randint(5, 200), secret_text)
                manifest["planted"].append({"commit_index": c, "path": p, "secrets": secrets})
            elif p in leaks:
                # keep the leak in every version until it is removed
                text += leaks[p][1]
            blob.mark += 1
            blobs += 1
            blob(text)
            changes.append((p, blob.mark))
        msg = f"{g.sentence(3, 9)} (#{c})\n".encode()
        w(b"commit refs/heads/main\n")
        w(b"committer Bench Bot <bench@example.invalid> %d +0000\n" % ts)
        w(b"data %d\n" % len(msg) + msg)
        for p, m in changes:
            w(b"M 100644 :%d %s\n" % (m, p.encode()))
        w(b"\n")
        if c % 1000 == 0 and c:
            print(f"  {c} commits, {blobs} blobs, {time.time() - t0:.0f} s", file=sys.stderr)
    w(b"done\n")
    fi.stdin.close()
    if fi.wait() != 0:
        print("git fast-import failed", file=sys.stderr)
        return 1
    if a.checkout:
        subprocess.run(["git", "-C", a.repo, "reset", "-q", "--hard", "main"], check=True)
    manifest.update(commits=a.commits, blob_versions=blobs, tree_files=a.tree_files,
                    seconds=round(time.time() - t0, 1))
    with open(a.repo.rstrip("/") + ".manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {a.commits} commits, {blobs} blob versions to {a.repo} in {time.time() - t0:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
