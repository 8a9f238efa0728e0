#!/usr/bin/env python3
"""Deterministic synthetic corpus for keyleak benchmarks.

    python3 bench/gen_corpus.py OUT_DIR            # full: >= 500 MB, >= 50k files
    python3 bench/gen_corpus.py OUT_DIR --small    # issue-2 target: >= 200 MB, >= 20k files

The same seed gives byte-identical trees (Python's `random.Random` with a fixed seed).
The mix imitates a monorepo: Python/JS/Rust/Go-like source, JSON/YAML/INI configs, Markdown,
logs, lock files full of sha512 integrity hashes and hex checksums, minified JS bundles with
megabyte-long lines, CSV-like data with long lines, UUIDs and hex hashes everywhere, and a few
planted FAKE credentials (format-shaped, random, never real). Their list goes to
OUT_DIR.manifest.json (beside the tree, not inside it, so it is not scanned).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import string
import sys
import time

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = string.ascii_letters + string.digits
WORDS = (
    "account balance order market ticker symbol price amount fee wallet address chain block "
    "transaction hash nonce signature request response client server config settings user "
    "session cache buffer stream reader writer parser lexer token key secret password auth "
    "header payload message event handler callback retry timeout limit offset cursor page "
    "index value result error status code name id type kind path file line column range "
    "start end begin finish open close read write send recv connect listen bind socket "
    "exchange trade position leverage margin spot futures swap strategy signal backtest"
).split()


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)

    # --- primitives -----------------------------------------------------------------
    def hexs(self, n: int) -> str:
        return self.r.randbytes((n + 1) // 2).hex()[:n]

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def uuid(self) -> str:
        h = self.hexs(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def word(self) -> str:
        return self.r.choice(WORDS)

    def ident(self) -> str:
        n = self.r.randint(1, 3)
        return "_".join(self.r.choice(WORDS) for _ in range(n))

    def camel(self) -> str:
        w = [self.r.choice(WORDS) for _ in range(self.r.randint(1, 3))]
        return w[0] + "".join(x.title() for x in w[1:])

    def sentence(self, lo=4, hi=14) -> str:
        return " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(lo, hi)))

    # --- line pools (built once; files are random draws of these) -------------------
    def pool(self, fn, n: int) -> list[str]:
        return [fn() for _ in range(n)]

    def py_line(self) -> str:
        r = self.r
        k = r.randint(0, 14)
        i, w = self.ident(), self.word()
        if k == 0:
            return f"def {i}(self, {w}, {self.ident()}=None):"
        if k == 1:
            return f"    {i} = self.{w}.get({w!r}, {r.randint(0, 9999)})"
        if k == 2:
            return f"    # {self.sentence()}"
        if k == 3:
            return f"    api_key = os.environ.get('{w.upper()}_API_KEY', '')"
        if k == 4:
            return f"    return {{'{w}': {i}, 'id': '{self.uuid()}'}}"
        if k == 5:
            return f"class {self.camel().title()}({self.camel().title()}):"
        if k == 6:
            return f"    if {i} is None or len({i}) > {r.randint(1, 512)}:"
        if k == 7:
            return f"        raise ValueError(f\"invalid {w}: {{{i}}}\")"
        if k == 8:
            return f"    digest = '{self.hexs(64)}'"
        if k == 9:
            return f"import {w}" if r.random() < 0.5 else f"from {w}.{self.word()} import {self.camel()}"
        if k == 10:
            return f"    self.{i} = {i}  # token: {self.word()}"
        if k == 11:
            return f"    for {w} in self.{i}:"
        if k == 12:
            return f"        log.debug('{self.sentence(3, 8)} %s', {w})"
        if k == 13:
            return f"    headers = {{'X-{w.title()}-Key': self.key, 'Content-Type': 'application/json'}}"
        return ""

    def js_line(self) -> str:
        r = self.r
        k = r.randint(0, 12)
        c, w = self.camel(), self.word()
        if k == 0:
            return f"export function {c}({w}, options = {{}}) {{"
        if k == 1:
            return f"  const {c} = await this.{self.camel()}({w}, {r.randint(0, 999)});"
        if k == 2:
            return f"  // {self.sentence()}"
        if k == 3:
            return f"  this.apiKey = process.env.{w.upper()}_API_KEY || '';"
        if k == 4:
            return f"  return {{ {w}: {c}, id: '{self.uuid()}' }};"
        if k == 5:
            return f"  if (!{c} || {c}.length > {r.randint(1, 256)}) throw new Error('bad {w}');"
        if k == 6:
            return f"  '{self.camel()}': {{ 'get': [ '{w}/{self.word()}', '{self.word()}' ], 'cost': {r.randint(1, 40)} }},"
        if k == 7:
            return f"  const signature = this.hmac(this.encode(auth), this.encode(this.secret), sha256);"
        if k == 8:
            return "}"
        if k == 9:
            return f"import {{ {c} }} from './{w}/{self.word()}.js';"
        if k == 10:
            return f"  const hash = '{self.hexs(40)}';"
        return f"  {c}.{self.camel()}({w});"

    def rs_line(self) -> str:
        r = self.r
        k = r.randint(0, 11)
        i, c = self.ident(), self.camel().title()
        if k == 0:
            return f"pub fn {i}(&self, {self.word()}: &{c}) -> Result<{self.camel().title()}, Error> {{"
        if k == 1:
            return f"    let {i} = self.{self.word()}.get(&{r.randint(0, 999)}).ok_or(Error::Missing)?;"
        if k == 2:
            return f"    /// {self.sentence()}"
        if k == 3:
            return f"    const {i.upper()}: &str = \"{self.hexs(64)}\";"
        if k == 4:
            return f"impl {c} for {self.camel().title()} {{"
        if k == 5:
            return "    }"
        if k == 6:
            return f"    #[derive(Debug, Clone, PartialEq, Eq)]"
        if k == 7:
            return f"    let key = std::env::var(\"{self.word().upper()}_KEY\").unwrap_or_default();"
        if k == 8:
            return f"use crate::{self.word()}::{{{c}, {self.camel().title()}}};"
        if k == 9:
            return f"    match {i} {{ Some(v) => v, None => return Ok(()) }}"
        return f"    {i}.push({self.word()});"

    def go_line(self) -> str:
        r = self.r
        k = r.randint(0, 10)
        c, w = self.camel(), self.word()
        if k == 0:
            return f"func ({w[0]} *{c.title()}) {self.camel().title()}(ctx context.Context, {w} string) error {{"
        if k == 1:
            return f"\t{c}, err := {w}.{self.camel().title()}(ctx, {r.randint(0, 999)})"
        if k == 2:
            return "\tif err != nil {\n\t\treturn err\n\t}"
        if k == 3:
            return f"\t// {self.sentence()}"
        if k == 4:
            return f"\ttoken := os.Getenv(\"{w.upper()}_TOKEN\")"
        if k == 5:
            return f"\t{c} := \"{self.uuid()}\""
        if k == 6:
            return f"type {c.title()} struct {{\n\t{self.camel().title()} string `json:\"{w}\"`\n}}"
        if k == 7:
            return "}"
        return f"\t{c}.{self.camel().title()}({w})"

    def yaml_line(self) -> str:
        r = self.r
        k = r.randint(0, 7)
        ind = "  " * r.randint(0, 3)
        if k == 0:
            return f"{ind}{self.ident()}:"
        if k == 1:
            return f"{ind}{self.ident()}: {r.randint(0, 100000)}"
        if k == 2:
            return f"{ind}{self.ident()}: \"{self.sentence(1, 4)}\""
        if k == 3:
            return f"{ind}- name: {self.ident()}\n{ind}  id: {self.uuid()}"
        if k == 4:
            return f"{ind}checksum: sha256:{self.hexs(64)}"
        if k == 5:
            return f"{ind}api_key: ${{{self.word().upper()}_API_KEY}}"
        if k == 6:
            return f"{ind}# {self.sentence()}"
        return f"{ind}enabled: {r.choice(['true', 'false'])}"

    def md_line(self) -> str:
        r = self.r
        k = r.randint(0, 5)
        if k == 0:
            return "#" * r.randint(1, 3) + " " + self.sentence(2, 5).title()
        if k == 1:
            return ""
        if k == 2:
            return f"- `{self.camel()}`: {self.sentence()}"
        if k == 3:
            return f"See https://example.com/{self.word()}/{self.word()}?id={self.uuid()} for the {self.word()} key."
        return self.sentence(8, 30) + "."

    def log_line(self) -> str:
        r = self.r
        return (f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
                f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z {r.choice(['INFO', 'DEBUG', 'WARN', 'ERROR'])} "
                f"[{self.word()}] request_id={self.uuid()} {self.sentence(3, 10)} sha1={self.hexs(40)}")

    def json_entry(self) -> str:
        r = self.r
        k = r.randint(0, 4)
        if k == 0:
            return f'  "{self.camel()}": {r.randint(0, 10**9)}'
        if k == 1:
            return f'  "{self.camel()}": "{self.sentence(1, 5)}"'
        if k == 2:
            return f'  "{self.camel()}Id": "{self.uuid()}"'
        if k == 3:
            return f'  "{self.camel()}Hash": "{self.hexs(64)}"'
        return f'  "{self.camel()}": [{", ".join(str(r.randint(0, 999)) for _ in range(r.randint(1, 12)))}]'

    def min_js_piece(self) -> str:
        r = self.r
        k = r.randint(0, 9)
        a, b = r.choice(string.ascii_letters), r.choice(string.ascii_letters)
        if k == 0:
            return f"function {a}{b}({a},{b}){{return {a}.{self.camel()}({b})}}"
        if k == 1:
            return f"var {a}=\"{self.sentence(1, 4)}\";"
        if k == 2:
            return f"{a}.apiKey={b}.{self.camel()}||\"\";"
        if k == 3:
            return f"if({a}.token&&{a}.token.length>{r.randint(1, 99)}){{{b}({a})}}"
        if k == 4:
            return f"\"{self.hexs(32)}\":[function(e,t,n){{\"use strict\";n.{self.camel()}=t}},{{}}],"
        if k == 5:
            return f"{a}.exports={{{self.camel()}:{r.randint(0, 99999)},{self.camel()}:!0}};"
        if k == 6:
            return f"for(var {a}=0;{a}<{b}.length;{a}++){a}[{b}]^={r.randint(0, 255)};"
        return f"{a}.{self.camel()}=function(){{return this.{self.camel()}}};"


def plant(g: Gen, idx: int) -> tuple[str, str, list[str]]:
    """Return (file extension, text, list of secret values) for one FAKE credential file."""
    r = g.r
    kind = idx % 6
    note = "FAKE credential generated by keyleak bench/gen_corpus.py; not a real key"
    if kind == 0:
        v = "AKIA" + "".join(r.choice(B32) for _ in range(16))
        sk = "".join(r.choice(ALNUM + "/+") for _ in range(40))
        return ".env", f"# {note}\nAWS_ACCESS_KEY_ID={v}\nAWS_SECRET_ACCESS_KEY={sk}\n", [v, sk]
    if kind == 1:
        k, s = "bg_" + g.hexs(32), g.hexs(64)
        p = "".join(r.choice(ALNUM) for _ in range(12))
        return ".py", (f"# {note}\nBITGET_API_KEY = \"{k}\"\nBITGET_SECRET_KEY={s}\n"
                       f"BITGET_PASSPHRASE = \"{p}\"\n"), [k, s]
    if kind == 2:
        body = base64.b64encode(r.randbytes(1190)).decode()
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        pem = f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----"
        return ".pem", f"{pem}\n", [pem.splitlines()[1]]
    if kind == 3:
        v = "ghp_" + "".join(r.choice(ALNUM) for _ in range(36))
        return ".yml", f"# {note}\nenv:\n  GITHUB_TOKEN: {v}\n", [v]
    if kind == 4:
        k = "".join(r.choice(ALNUM) for _ in range(64))
        s = "".join(r.choice(ALNUM) for _ in range(64))
        return ".js", (f"// {note}\nconst binance = new ccxt.binance({{\n  apiKey: '{k}',\n"
                       f"  secret: '{s}',\n}});\n"), [k, s]
    v = "0x" + g.hexs(64)
    return ".ts", f"// {note}\nconst PRIVATE_KEY = \"{v}\"; // deployer wallet\n", [v]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--small", action="store_true", help=">= 200 MB, >= 20k files")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--mb", type=int, help="override the target size in MB (1e6 bytes)")
    ap.add_argument("--files", type=int, help="override the minimum file count")
    a = ap.parse_args()

    target = (a.mb or (210 if a.small else 520)) * 1_000_000
    nmin = a.files or (21_000 if a.small else 52_000)
    if os.path.exists(a.out) and os.listdir(a.out):
        print(f"{a.out} exists and is not empty", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    g = Gen(a.seed)
    r = g.r
    pools = {
        ".py": g.pool(g.py_line, 6000),
        ".js": g.pool(g.js_line, 6000),
        ".ts": g.pool(g.js_line, 3000),
        ".rs": g.pool(g.rs_line, 6000),
        ".go": g.pool(g.go_line, 6000),
        ".yaml": g.pool(g.yaml_line, 4000),
        ".md": g.pool(g.md_line, 3000),
        ".log": g.pool(g.log_line, 4000),
    }
    json_pool = g.pool(g.json_entry, 6000)
    min_pool = g.pool(g.min_js_piece, 8000)
    # extension -> weight (by file count) for ordinary files
    mix = [(".py", 20), (".js", 14), (".ts", 6), (".rs", 12), (".go", 12), (".json", 10),
           (".yaml", 9), (".md", 7), (".log", 4), (".ini", 3), (".txt", 3)]
    exts, weights = zip(*mix)

    manifest = {"seed": a.seed, "planted": []}
    written = nfiles = 0
    counts: dict[str, int] = {}

    def out_path(i: int, name: str) -> str:
        proj, mod = i // 2000, (i // 40) % 50
        d = os.path.join(a.out, f"proj{proj:03d}", "src" if i % 5 else "config", f"mod{mod:02d}")
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, name)

    def emit(i: int, name: str, text: str, kind: str) -> None:
        nonlocal written, nfiles
        data = text.encode()
        with open(out_path(i, name), "wb") as f:
            f.write(data)
        written += len(data)
        nfiles += 1
        counts[kind] = counts.get(kind, 0) + 1

    def lines_to(pool: list[str], size: int) -> str:
        avg = max(8, sum(len(x) for x in pool[:200]) // 200 + 1)
        return "\n".join(r.choices(pool, k=max(1, size // avg))) + "\n"

    n_special_lock = max(20, nmin // 400)
    n_special_min = max(10, nmin // 800)
    n_special_long = max(10, nmin // 1000)
    n_plant = 36 if not a.small else 18
    specials = (["lock"] * n_special_lock + ["min"] * n_special_min + ["long"] * n_special_long
                + ["plant"] * n_plant)
    r.shuffle(specials)
    # spread the specials over the file index range
    special_at = {int((k + 0.5) * nmin / len(specials)): s for k, s in enumerate(specials)}
    i = 0
    planted = 0
    while nfiles < nmin or written < target:
        s = special_at.get(i)
        if s == "lock":
            kind = r.choice(["npm", "yarn", "cargo", "gosum"])
            size = int(r.uniform(0.2, 1.4) * 1_000_000)
            parts = []
            n = 0
            while n < size:
                name, ver = g.ident().replace("_", "-"), f"{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 20)}"
                if kind == "npm":
                    e = (f'    "node_modules/{name}": {{\n      "version": "{ver}",\n      "resolved": '
                         f'"https://registry.npmjs.org/{name}/-/{name}-{ver}.tgz",\n      "integrity": '
                         f'"sha512-{g.b64(64)}",\n      "dev": true\n    }},\n')
                elif kind == "yarn":
                    e = (f'"{name}@^{ver}":\n  version "{ver}"\n  resolved "https://registry.yarnpkg.com/{name}/-/'
                         f'{name}-{ver}.tgz#{g.hexs(40)}"\n  integrity sha512-{g.b64(64)}\n\n')
                elif kind == "cargo":
                    e = (f'[[package]]\nname = "{name}"\nversion = "{ver}"\nsource = "registry+https://github.com/'
                         f'rust-lang/crates.io-index"\nchecksum = "{g.hexs(64)}"\n\n')
                else:
                    e = f"github.com/{g.word()}/{name} v{ver} h1:{g.b64(32)}\n"
                parts.append(e)
                n += len(e)
            fname = {"npm": "package-lock.json", "yarn": "yarn.lock", "cargo": "Cargo.lock", "gosum": "go.sum"}[kind]
            emit(i, f"{i:06d}-{fname}", "".join(parts), "lock")
        elif s == "min":
            size = int(r.uniform(0.8, 3.0) * 1_000_000)
            line_len = int(r.uniform(0.5, 2.0) * 1_000_000)  # megabyte-long lines
            chunks, n, cur = [], 0, 0
            while n < size:
                p = "".join(r.choices(min_pool, k=200))
                chunks.append(p)
                n += len(p)
                cur += len(p)
                if cur >= line_len:
                    chunks.append("\n")
                    cur = 0
            emit(i, f"bundle{i:06d}.min.js", "".join(chunks) + "\n", "minjs")
        elif s == "long":
            rows = []
            for _ in range(r.randint(2, 12)):
                rows.append(",".join(r.choice([g.uuid(), g.hexs(64), str(r.randint(0, 10**9)), g.word()])
                                     for _ in range(r.randint(800, 6000))))
            emit(i, f"data{i:06d}.csv", "\n".join(rows) + "\n", "longline")
        elif s == "plant":
            ext, text, secrets = plant(g, planted)
            planted += 1
            filler = lines_to(pools[".py"] if ext in (".py", ".env") else pools[".js"], r.randint(500, 4000))
            name = f"settings{i:06d}{ext}"
            emit(i, name, filler + text + filler, "planted")
            manifest["planted"].append({"path": os.path.relpath(out_path(i, name), a.out), "secrets": secrets})
        else:
            ext = r.choices(exts, weights)[0]
            size = int(min(200_000, max(120, r.lognormvariate(8.3, 1.05))))
            if ext == ".json":
                body = ",\n".join(r.choices(json_pool, k=max(1, size // 50)))
                text = "{\n" + body + "\n}\n"
            elif ext == ".ini":
                text = "".join(f"[{g.word()}]\n{g.ident()} = {g.hexs(r.choice([8, 16, 32]))}\n"
                               f"{g.word()}_token = ${{{g.word().upper()}}}\n" for _ in range(max(1, size // 70)))
            elif ext == ".txt":
                text = lines_to(pools[".md"], size)
            else:
                text = lines_to(pools[ext], size)
            emit(i, f"{g.word()}_{i:06d}{ext}", text, ext.lstrip("."))
        i += 1
        if i % 10000 == 0:
            print(f"  {nfiles} files, {written / 1e6:.0f} MB, {time.time() - t0:.0f} s", file=sys.stderr)

    manifest.update(files=nfiles, bytes=written, counts=counts, seconds=round(time.time() - t0, 1))
    with open(a.out.rstrip("/") + ".manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {nfiles} files, {written / 1e6:.1f} MB to {a.out} in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
