#!/usr/bin/env python3
"""Local coverage check against the example strings peers ship with their rules.

Extracts, at run time, the positive and negative examples of gitleaks
(cmd/generate/config/rules/*.go), Nosey Parker (crates/noseyparker/data/default/builtin/rules/*.yml)
and Kingfisher (data/rules/*.yml) from their git repositories (bare or not), runs
`keyleak stdin -f jsonl` on each, and reports per peer and per provider (the peer's rule file):

  blocked   share of format-valid positive examples on which keyleak fails a default scan
            (a finding at medium or above that is not a known public test key)
  format-invalid  positives whose token fails the provider's real format (a checksum, fixed
            structure or alphabet; see `format_failures`): counted apart, with the reason, so the
            headline share is over format-valid examples as issue 14 asks
  flagged   share of negative examples on which it does the same
  cross-rule  (Nosey Parker, Kingfisher) a rule's negative example that another rule of the same
            peer detects (its pattern, compiled by Python's `re` where the syntax allows, matches
            it, or it is that rule's positive example): counted apart, with its own blocked share

Nothing extracted is written to this repository: examples live in memory only (and in the
optional --json report, which you should keep outside the tree).

gitleaks builds most of its examples at generation time (`secrets.NewSecret(regex)` inside
`utils.GenerateSampleSecrets(identifier, secret)`): this script samples those regexes itself
(seeded, so runs are comparable) and places each secret in a few assignment contexts with the
rule's identifier (`<id>_token = "<s>"`, `<ID>_TOKEN=<s>`, `<id>Token: '<s>'`). A secret counts as
blocked when keyleak blocks on it in at least one context; examples written literally in
the Go sources (`tps`/`fps` lists) are used as they are.

Usage:
  bench/peer_coverage.py --keyleak target/release/keyleak \\
      --gitleaks /work/.mirror/gitleaks+gitleaks/repo \\
      --noseyparker /work/.mirror/praetorian-inc+noseyparker/repo \\
      --kingfisher /work/.mirror/mongodb+kingfisher/repo [--rev HEAD] [--providers] [--misses N]
  (any of the three may be omitted; DIR@REV picks a revision per repository)
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import sre_constants as C  # noqa: E402
import sre_parse  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("peer_coverage.py needs PyYAML (pip install pyyaml)")


# ---------------------------------------------------------------- git access

def git_files(repo, rev, prefix, suffix):
    out = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", rev, prefix],
                         check=True, capture_output=True, text=True).stdout
    return [p for p in out.splitlines() if p.endswith(suffix)]


def git_show(repo, rev, path):
    return subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def split_rev(arg, default):
    if "@" in arg and not os.path.exists(arg):
        d, r = arg.rsplit("@", 1)
        return d, r
    return arg, default


# ---------------------------------------------------------------- regex sampling

POSIX = {"[:alnum:]": "a-zA-Z0-9", "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:upper:]": "A-Z",
         "[:lower:]": "a-z", "[:xdigit:]": "0-9a-fA-F", "[:space:]": r" \t", "[:punct:]": "!-/"}
CATS = {C.CATEGORY_DIGIT: "0123456789",
        C.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
        C.CATEGORY_SPACE: " ", C.CATEGORY_NOT_DIGIT: "abcXYZ", C.CATEGORY_NOT_WORD: "-",
        C.CATEGORY_NOT_SPACE: "aZ9"}
PRINTABLE = [chr(c) for c in range(33, 127)]


def sample_regex(pattern, rng):
    p = pattern.replace(r"\z", r"\Z")
    for k, v in POSIX.items():
        p = p.replace(k, v)
    p = re.sub(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>", "(", p)
    try:
        tree = sre_parse.parse(p)
    except Exception:
        return None
    try:
        return "".join(_gen(tree, rng))
    except Exception:
        return None


def _class_chars(items):
    chars, neg = [], False
    for op, av in items:
        if op == C.NEGATE:
            neg = True
        elif op == C.LITERAL:
            chars.append(chr(av))
        elif op == C.RANGE:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        elif op == C.CATEGORY:
            chars.extend(CATS.get(av, ""))
    if neg:
        s = set(chars)
        chars = [c for c in PRINTABLE if c not in s]
    return chars or ["x"]


def _gen(tree, rng):
    out = []
    for op, av in tree:
        if op == C.LITERAL:
            out.append(chr(av))
        elif op == C.NOT_LITERAL:
            out.append(rng.choice([c for c in PRINTABLE if ord(c) != av]))
        elif op == C.ANY:
            out.append(rng.choice("abcdefXYZ0123"))
        elif op == C.IN:
            out.append(rng.choice(_class_chars(av)))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            hi = lo + 8 if hi == C.MAXREPEAT else hi
            for _ in range(rng.randint(lo, max(lo, min(hi, lo + 8)))):
                out.extend(_gen(sub, rng))
        elif op == C.SUBPATTERN:
            out.extend(_gen(av[-1], rng))
        elif op == C.BRANCH:
            out.extend(_gen(rng.choice(av[1]), rng))
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT, C.GROUPREF):
            continue
        elif op == getattr(C, "ATOMIC_GROUP", None):
            out.extend(_gen(av, rng))
        else:
            raise ValueError(op)
    return out


# ---------------------------------------------------------------- gitleaks (Go sources)

GO_UTILS = {"Numeric": "[0-9]{%s}", "Hex": "[a-f0-9]{%s}", "AlphaNumeric": "[a-z0-9]{%s}",
            "AlphaNumericExtendedShort": "[a-z0-9_-]{%s}", "AlphaNumericExtended": "[a-z0-9=_\\-]{%s}",
            "AlphaNumericExtendedLong": "[a-z0-9\\/=_\\+\\-]{%s}"}
HEX_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CONTEXTS = ['{i}_token = "{s}"', "{I}_TOKEN={s}", "{i}Token: '{s}'"]


def go_string(src, i):
    """Parses a Go string literal at src[i]; returns (value, end) or None."""
    if src[i] == "`":
        j = src.index("`", i + 1)
        return src[i + 1:j], j + 1
    if src[i] != '"':
        return None
    j, buf = i + 1, []
    while src[j] != '"':
        if src[j] == "\\":
            nxt = src[j + 1]
            esc = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}
            if nxt in esc:
                buf.append(esc[nxt])
                j += 2
                continue
            if nxt == "x":
                buf.append(chr(int(src[j + 2:j + 4], 16)))
                j += 4
                continue
            if nxt == "u":
                buf.append(chr(int(src[j + 2:j + 6], 16)))
                j += 6
                continue
            buf.append(nxt)
            j += 2
            continue
        buf.append(src[j])
        j += 1
    return "".join(buf), j + 1


def split_args(src, i):
    """src[i] is '(' or '{': returns (list of top-level argument texts, end index)."""
    open_c = src[i]
    close_c = {"(": ")", "{": "}"}[open_c]
    depth, j, start, args = 0, i, i + 1, []
    while j < len(src):
        c = src[j]
        if c in "\"`":
            j = go_string(src, j)[1]
            continue
        if c == "/" and src[j + 1] == "/":
            j = src.index("\n", j)
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth == 0:
                args.append(src[start:j])
                return [a.strip() for a in args if a.strip()], j + 1
        elif c == "," and depth == 1:
            args.append(src[start:j])
            start = j + 1
        j += 1
    raise ValueError("unbalanced")


def go_eval(expr, rng):
    """Evaluates the small Go expression language of gitleaks' examples; None if unsupported."""
    try:
        return _go_eval(expr.strip(), rng)
    except (ValueError, IndexError):
        return None


def _go_eval(expr, rng):
    parts, i = [], 0
    while i < len(expr):
        c = expr[i]
        if c.isspace() or c == "+":
            i += 1
            continue
        if expr.startswith("//", i):
            nl = expr.find("\n", i)
            i = len(expr) if nl < 0 else nl
            continue
        if c in "\"`":
            v, i = go_string(expr, i)
            parts.append(v)
            continue
        m = re.match(r"(?:secrets\.)?NewSecret\(", expr[i:])
        if m:
            args, i = split_args(expr, i + m.end() - 1)
            rx = go_eval(args[0], rng) if args else None
            if rx is None:
                return None
            s = sample_regex(rx, rng)
            if s is None:
                return None
            parts.append(s)
            continue
        m = re.match(r"utils\.(\w+)\(", expr[i:])
        if m:
            args, i = split_args(expr, i + m.end() - 1)
            name = m.group(1)
            if name == "Hex8_4_4_4_12":
                parts.append(HEX_UUID)
            elif name in GO_UTILS and args:
                n = go_eval(args[0], rng)
                if n is None:
                    return None
                parts.append(GO_UTILS[name] % n)
            else:
                return None
            continue
        m = re.match(r"strings\.Repeat\(", expr[i:])
        if m:
            args, i = split_args(expr, i + m.end() - 1)
            s = go_eval(args[0], rng)
            if s is None or not args[1].isdigit():
                return None
            parts.append(s * int(args[1]))
            continue
        return None
    return "".join(parts) if parts else None


def gitleaks_examples(repo, rev, rng):
    """Yields (provider, kind, group, text): group ties the contexts of one generated secret."""
    for path in git_files(repo, rev, "cmd/generate/config/rules/", ".go"):
        if path.endswith("_test.go"):
            continue
        provider = os.path.basename(path)[:-3]
        src = git_show(repo, rev, path)
        for fm in re.finditer(r"\nfunc (\w+)\(\)[^{]*\{", src):
            body_start = fm.end() - 1
            try:
                _, body_end = split_args(src, body_start)
            except ValueError:
                continue
            body = src[body_start:body_end]
            group = 0
            for m in re.finditer(r"GenerateSampleSecrets?\(", body):
                try:
                    args, _ = split_args(body, m.end() - 1)
                except ValueError:
                    continue
                if len(args) != 2:
                    continue
                ident, secret = go_eval(args[0], rng), go_eval(args[1], rng)
                if ident is None or secret is None:
                    continue
                group += 1
                key = f"{path}:{fm.group(1)}:{group}"
                for ctx in CONTEXTS:
                    yield provider, "pos", key, ctx.format(i=ident, I=ident.upper(), s=secret)
            for m in re.finditer(r"\b(tps|fps|truePositives|falsePositives|newPositives)\s*(?::=|=)\s*(?:append\(\w+,|\[\]string\{)", body):
                kind = "neg" if m.group(1).startswith(("f", "F")) or m.group(1) == "falsePositives" else "pos"
                text = m.group(0)
                k = m.start() + text.index("append(") + 6 if "append(" in text else m.end() - 1
                try:
                    args, _ = split_args(body, k)
                except (ValueError, IndexError):
                    continue
                if "append(" in text:
                    args = args[1:]
                for a in args:
                    if "GenerateSampleSecret" in a or a.endswith("..."):
                        continue
                    v = go_eval(a, rng)
                    if v:
                        group += 1
                        yield provider, kind, f"{path}:{fm.group(1)}:{kind}{group}", v


# ---------------------------------------------------------------- YAML peers

def _peer_regex(pattern):
    """The peer's Rust-syntax pattern compiled by Python's `re`, or None where the syntax differs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(pattern.replace(r"\z", r"\Z"))
    except (re.error, OverflowError, RecursionError):
        return None


def yaml_examples(repo, rev, prefix):
    """Yields (provider, kind, group, text). A rule's negative example that another rule of the
    same peer detects (its own pattern matches it, or it is that rule's positive example) is kind
    "xneg": it is negative only for the rule it is listed under (Nosey Parker lists a Slack bot
    token as a negative of its user-token rule), so it is reported apart from true negatives."""
    rules = []
    for path in git_files(repo, rev, prefix, ".yml"):
        provider = os.path.basename(path)[:-4]
        try:
            doc = yaml.safe_load(git_show(repo, rev, path)) or {}
        except yaml.YAMLError:
            continue
        for n, rule in enumerate(doc.get("rules") or []):
            rules.append((provider, rule.get("id", f"{path}:{n}"), rule))
    compiled = {rid: _peer_regex(str(rule.get("pattern") or "")) for _, rid, rule in rules}
    positives = {}
    for _, rid, rule in rules:
        for ex in rule.get("examples") or []:
            positives.setdefault(str(ex), set()).add(rid)
    for provider, rid, rule in rules:
        for i, ex in enumerate(rule.get("examples") or []):
            yield provider, "pos", f"{rid}:{i}", str(ex)
        for key in ("negative_examples", "non_examples"):
            for i, ex in enumerate(rule.get(key) or []):
                ex = str(ex)
                other = positives.get(ex, set()) - {rid}
                other |= {r for r, rx in compiled.items() if r != rid and rx is not None and rx.search(ex)}
                yield provider, "xneg" if other else "neg", f"{rid}:n{i}", ex


# ---------------------------------------------------------------- format validity
#
# Issue 14's bar is over *format-valid* examples. A positive fails the provider's real format when
# it holds a token of that provider whose checksum, fixed structure or alphabet is wrong (gitleaks'
# generated secrets are sampled from loose regexes; some peers' literal examples are hand-edited).
# Such positives are reported in their own column, with the reason, not dropped. Checksums and
# structures keyleak implements are decided by keyleak itself (a custom rule per check carrying
# the built-in validator, run with `-c`); the others are facts written out here with their source.

B64URL = "A-Za-z0-9_-"
# The value of gitleaks' generated assignment contexts (`x_token = "v"`, `X_TOKEN=v`, `xToken: 'v'`).
VALUE = r"""(?:[:?]*=|:)[ \t]*["']?([^\s"']+)"""

# (name, pattern finding the provider's token in the example, keyleak validator, reason)
KEYLEAK_CHECKS = [
    ("github", r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bghr_[A-Za-z0-9]{76}\b", "github-crc32",
     "GitHub token whose last 6 characters are not the CRC-32 of its body"),
    ("npm", r"\bnpm_[A-Za-z0-9]{36}\b", "npm-crc32",
     "npm token whose last 6 characters are not the CRC-32 of its body"),
    ("pypi", r"\bpypi-[A-Za-z0-9_-]{20,}", "pypi-macaroon",
     "PyPI token that is not a base64url macaroon for pypi.org"),
    ("jwt", r"\bey[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", "jwt",
     "JWT whose header or payload is not base64url JSON"),
    ("kraken", r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{80,100}(?![A-Za-z0-9+/=_-])", "kraken-secret",
     "Kraken private key that is not base64 of 64 bytes"),
]
# Which provider file a keyleak check applies to (the kraken check would match any long run).
KEYLEAK_CHECK_PROVIDERS = {"kraken": {"kraken"}}
# Provider files a check does not apply to: an AWS example's credential is its key pair, not the
# (hand-edited) JWT-shaped session token next to it.
KEYLEAK_CHECK_EXCLUDE = {"jwt": {"aws"}}


# Providers whose value check also applies to gitleaks' literal examples (every SonarQube one is
# `12345678ABCDEFH…`, with a non-hex `H`).
LITERAL_TOO = {"sonar"}
# gitleaks groups of secrets sampled from its regex (literal examples end in `:pos<N>`).
SAMPLED = re.compile(r":[0-9]+$")


def _b64decode(s):
    import base64
    s = s.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except ValueError:
        return None


def _json_b64(s):
    raw = _b64decode(s)
    if raw is None:
        return False
    try:
        return isinstance(json.loads(raw.decode()), dict)
    except (UnicodeDecodeError, ValueError):
        return False


BECH32 = "qpzry9x8gf2tvdw0s3jn54khced6mua7l"


def _bech32_ok(s):
    """BIP-173 checksum (age identities are Bech32 with HRP `age-secret-key-`)."""
    s = s.lower()
    hrp, _, data = s.rpartition("1")
    if not hrp or any(c not in BECH32 for c in data):
        return False
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + [BECH32.index(c) for c in data]:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk == 1


def _fact_checks():
    """(providers or None, pattern, predicate → True when valid, reason). With providers the check
    applies only to gitleaks' sampled secrets of those rule files and judges the assigned value
    (group 1); without, to any positive holding a match."""
    return [
        (None, r"\bgithub_pat_[A-Za-z0-9_]{60,}", lambda t: re.fullmatch(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}", t),
         "fine-grained GitHub PAT not shaped github_pat_<22>_<59> (GitHub's token-format post)"),
        (None, r"\b[sr]k_(?:live|test|prod)_[A-Za-z0-9]+", lambda t: not t.split("_")[1] == "prod",
         "Stripe issues sk_/rk_ keys only as _live_ and _test_ (Stripe API keys docs); _prod_ does not exist"),
        (None, r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/]+",
         lambda t: re.search(r"/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/", t),
         "Slack webhook URL without a workspace id path segment (T + uppercase letters and digits; Slack incoming-webhook docs)"),
        (None, r"\bsq0csp-\S+", lambda t: re.fullmatch(r"sq0csp-[%s]{43}" % B64URL, t.rstrip("\"'\\")),
         "Square OAuth secret with characters outside base64url or not 43 long"),
        (None, r"\bSG\.[^\s\"']+", lambda t: re.fullmatch(r"SG\.[%s]{22}\.[%s]{43}" % (B64URL, B64URL), t),
         "SendGrid key not shaped SG.<22>.<43> (base64url)"),
        (None, r"\beyJrIjoi[A-Za-z0-9+/=_-]+", lambda t: _json_b64(t),
         "Grafana API key whose base64 body is not JSON"),
        (None, r"\b[pst]k\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", lambda t: _json_b64(t.split(".")[1]),
         "Mapbox token whose middle part is not base64url JSON"),
        (None, r"\bAGE-SECRET-KEY-1[A-Za-z0-9]{58}\b", _bech32_ok,
         "age secret key with a wrong Bech32 checksum (age spec: Bech32 encoding)"),
        (None, r"\bABSK[A-Za-z0-9+/=]{20,}",
         lambda t: (lambda raw: raw is not None and raw.startswith(b"BedrockAPIKey-") and all(32 <= b < 127 for b in raw))(_b64decode(t[4:])),
         "Bedrock long-term key whose base64 is not the printable BedrockAPIKey-<id>:<secret> it encodes"),
        (None, r"\bbedrock-api-key-[A-Za-z0-9+/=%]+",
         lambda t: (lambda raw: raw is not None and b"X-Amz-" in raw)(_b64decode(t[16:].replace("%3D", "="))),
         "Bedrock short-term key that does not encode a presigned URL (X-Amz-… parameters)"),
        (None, r"\bxapp-[^\s\"']+", lambda t: re.fullmatch(r"xapp-[0-9]+-[A-Z0-9]+-[0-9]+-[0-9a-f]{64}", t),
         "Slack app-level token not shaped xapp-<n>-<app id>-<digits>-<64 hex> (Slack app-level token docs)"),
        (None, r"(?i:PresharedKey|PrivateKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{43}=)",
         lambda t: t[42] in "AEIMQUYcgkosw048",
         "WireGuard key whose base64 does not encode 32 bytes (the 43rd character must carry 2 zero padding bits)"),
        (None, r"(?i:ADO_PAT|pat_token|personal_?access_?token|\$token)\s*=\s*[\"']([a-z0-9]{52})[\"']",
         lambda t: re.fullmatch(r"[a-z2-7]{52}", t),
         "52-character Azure DevOps PAT outside lowercase base32 (32 random bytes in RFC 4648 base32 never hold 0, 1, 8 or 9)"),
        # Value-only checks, for gitleaks' sampled secrets of that provider (its assignment contexts).
        ({"sonar"}, VALUE, lambda t: re.fullmatch(r"(?:sq[upa]_)?[0-9a-f]{40}", t),
         "SonarQube token whose 40 characters are not hex"),
        ({"okta"}, VALUE, lambda t: re.fullmatch(r"00[%s]{40}" % B64URL, t),
         "Okta API token with characters outside base64url"),
        ({"fastly"}, VALUE, lambda t: re.fullmatch(r"[%s]{32}" % B64URL, t),
         "Fastly API token with characters outside base64url"),
        ({"netlify"}, VALUE, lambda t: re.fullmatch(r"[%s]{40,46}" % B64URL, t),
         "Netlify access token with characters outside base64url"),
        ({"trello"}, VALUE, lambda t: re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{64}|ATTA[0-9a-f]{64,72}", t),
         "Trello key or token that is not hex (Trello REST API docs: 32-hex key, 64-hex token)"),
        ({"yandex"}, VALUE, lambda t: not t.startswith("t1.") or re.fullmatch(r"t1\.[%s]{20,}={0,2}\.[%s]{86}={0,2}" % (B64URL, B64URL), t),
         "Yandex IAM token whose header segment is not the long base64url of real tokens (t1.9euel…)"),
    ]


def format_failures(examples, keyleak, cwd):
    """{index in examples: reason} for positives that fail their provider's real format."""
    out = {}
    facts = _fact_checks()
    for n, (peer, provider, kind, group, text) in enumerate(examples):
        if kind != "pos":
            continue
        for provs, pat, ok, reason in facts:
            if provs is not None and (provider not in provs or peer != "gitleaks"
                                      or not (SAMPLED.search(group) or provider in LITERAL_TOO)):
                continue
            m = re.search(pat, text)
            if m and not ok(m.group(1) if m.re.groups else m.group(0)):
                out[n] = reason
                break
    # keyleak's own validators: one run per check over every candidate token, one per line.
    for name, pat, validator, reason in KEYLEAK_CHECKS:
        provs = KEYLEAK_CHECK_PROVIDERS.get(name)
        cands = []
        for n, (peer, provider, kind, group, text) in enumerate(examples):
            if kind != "pos" or n in out or (provs and provider not in provs) or provider in KEYLEAK_CHECK_EXCLUDE.get(name, ()):
                continue
            m = re.search(pat, text)
            if m:
                cands.append((n, m.group(0)))
        if not cands:
            continue
        cfg = os.path.join(cwd, f"format-{name}.toml")
        with open(cfg, "w") as f:
            f.write(f'[rules]\nenable_only = ["fv-{name}"]\n\n[[rule]]\nid = "fv-{name}"\nname = "format check"\n'
                    f'regex = \'\'\'(?m)^(?P<secret>[^\\n]+)$\'\'\'\nprefilter = false\nvalidator = "{validator}"\n'
                    'severity = "high"\nconfidence = "high"\nplaceholder_filter = false\n')
        data = "\n".join(tok for _, tok in cands) + "\n"
        res = subprocess.run([keyleak, "stdin", "-c", cfg, "-f", "jsonl", "--no-decode"], input=data.encode(),
                             cwd=cwd, capture_output=True)
        if res.returncode not in (0, 1):
            raise SystemExit(f"keyleak format check {name} failed: {res.stderr.decode()[:400]}")
        valid_lines = {json.loads(l)["line"] for l in res.stdout.decode().splitlines() if l.strip()}
        for i, (n, _) in enumerate(cands):
            if i + 1 not in valid_lines:
                out[n] = reason
    return out


# ---------------------------------------------------------------- running keyleak

def blocks(keyleak, cwd, text):
    """(blocks, any finding, rule ids) for one example."""
    out = subprocess.run([keyleak, "stdin", "-f", "jsonl"], input=text.encode(), cwd=cwd,
                         capture_output=True)
    if out.returncode not in (0, 1):
        raise SystemExit(f"keyleak failed ({out.returncode}): {out.stderr.decode()[:400]}")
    found = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
    block = [f for f in found if f["severity"] in ("medium", "high", "critical") and not f.get("known_public")]
    return bool(block), bool(found), sorted({f["rule_id"] for f in block})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keyleak", default="target/release/keyleak")
    ap.add_argument("--gitleaks")
    ap.add_argument("--noseyparker")
    ap.add_argument("--kingfisher")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--providers", action="store_true", help="print the per-provider table")
    ap.add_argument("--only", help="comma-separated providers (peer rule-file stems) to run")
    ap.add_argument("--misses", type=int, default=0, help="print up to N missed positives / flagged negatives per peer")
    ap.add_argument("--json", help="write the full report here (keep it outside the repository)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    keyleak = os.path.abspath(args.keyleak)
    examples = []  # (peer, provider, kind, group, text)
    if args.gitleaks:
        d, r = split_rev(args.gitleaks, args.rev)
        rng = random.Random(args.seed)
        examples += [("gitleaks",) + e for e in gitleaks_examples(d, r, rng)]
    if args.noseyparker:
        d, r = split_rev(args.noseyparker, args.rev)
        examples += [("noseyparker",) + e for e in yaml_examples(d, r, "crates/noseyparker/data/default/builtin/rules/")]
    if args.kingfisher:
        d, r = split_rev(args.kingfisher, args.rev)
        examples += [("kingfisher",) + e for e in yaml_examples(d, r, "data/rules/")]
    if args.only:
        keep = set(args.only.split(","))
        examples = [e for e in examples if e[1] in keep]
    if not examples:
        sys.exit("no examples: pass at least one of --gitleaks/--noseyparker/--kingfisher")
    with tempfile.TemporaryDirectory() as cwd, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda e: blocks(keyleak, cwd, e[4]), examples))
        bad_format = format_failures(examples, keyleak, cwd)
    # Aggregate per group (one secret in several contexts counts once: blocked if any context
    # blocks; format-invalid if any context holds a token that fails the provider's format).
    groups = {}
    for n, ((peer, provider, kind, group, text), (blk, anyf, rules)) in enumerate(zip(examples, results)):
        g = groups.setdefault((peer, provider, kind, group), {"blk": False, "any": False, "text": text, "rules": set(), "fmt": None})
        g["blk"] |= blk
        g["any"] |= anyf
        g["rules"] |= set(rules)
        g["fmt"] = g["fmt"] or bad_format.get(n)
    report = {}
    for (peer, provider, kind, _), g in groups.items():
        k = "bad" if kind == "pos" and g["fmt"] else kind
        for scope in (("total",), ("provider", provider)):
            r = report.setdefault(peer, {}).setdefault(scope, {"pos": 0, "pos_blk": 0, "bad": 0, "bad_blk": 0, "neg": 0, "neg_blk": 0, "xneg": 0, "xneg_blk": 0})
            r[k] += 1
            r[k + "_blk"] += g["blk"]
    pct = lambda a, b: f"{100 * a / b:5.1f} %" if b else "    —  "
    print(f"{'peer':<12} {'positives':>9} {'blocked':>8}   {'format-invalid':>14} {'blocked':>8}   {'negatives':>9} {'flagged':>8}   {'cross-rule':>10} {'blocked':>8}")
    for peer, scopes in report.items():
        t = scopes[("total",)]
        print(f"{peer:<12} {t['pos']:>9} {pct(t['pos_blk'], t['pos']):>8}   {t['bad']:>14} {pct(t['bad_blk'], t['bad']):>8}"
              f"   {t['neg']:>9} {pct(t['neg_blk'], t['neg']):>8}   {t['xneg']:>10} {pct(t['xneg_blk'], t['xneg']):>8}")
    print("(positives: format-valid ones; format-invalid: positives whose token fails the provider's real\n"
          " format — checksum, structure, alphabet — listed with --misses; cross-rule: a rule's negative\n"
          " example that another rule of the same peer detects)")
    if args.providers:
        for peer, scopes in report.items():
            print(f"\n{peer}: per provider (format-valid positives blocked / negatives flagged / format-invalid)")
            for scope, r in sorted(scopes.items(), key=lambda kv: kv[0]):
                if scope[0] == "provider":
                    print(f"  {scope[1]:<28} {r['pos_blk']:>4}/{r['pos']:<4} {pct(r['pos_blk'], r['pos'])}   {r['neg_blk']:>3}/{r['neg']:<3}   {r['bad']:>3}")
    if args.misses:
        for peer in report:
            missed = [(k, g) for k, g in groups.items() if k[0] == peer and k[2] == "pos" and not g["fmt"] and not g["blk"]]
            invalid = [(k, g) for k, g in groups.items() if k[0] == peer and k[2] == "pos" and g["fmt"]]
            flagged = [(k, g) for k, g in groups.items() if k[0] == peer and k[2] == "neg" and g["blk"]]
            print(f"\n{peer}: {len(missed)} missed positives, {len(invalid)} format-invalid, {len(flagged)} flagged negatives")
            for k, g in missed[: args.misses]:
                print(f"  MISS {k[1]} {k[3]}: {g['text'][:160]!r}")
            for k, g in invalid[: args.misses]:
                print(f"  INVALID{' (blocked)' if g['blk'] else ''} {k[1]} {k[3]} [{g['fmt']}]: {g['text'][:120]!r}")
            for k, g in flagged[: args.misses]:
                print(f"  FLAG {k[1]} {k[3]} {sorted(g['rules'])}: {g['text'][:160]!r}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({peer: {"/".join(k): v for k, v in scopes.items()} for peer, scopes in report.items()}, f, indent=1)


if __name__ == "__main__":
    main()
