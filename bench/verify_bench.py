#!/usr/bin/env python3
"""`--verify` benchmark: 1,000 findings of 100 distinct credentials against the loopback
stand-in (tests/standin/providers.py), with a fixed latency per request to stand in for the
network.

Usage: bench/verify_bench.py KEYLEAK_BINARY [--latency 0.05 0.2] [--runs 3]

Prints a Markdown table: wall time of the verifying scan (median of --runs), the same scan
without --verify, requests the stand-in received, and the most requests it saw in flight
overall and per provider. The budget it checks: 100 requests at the default caps (8 overall,
2 per provider, 5 providers here, so 8 lanes) must take at most 100 × latency / 8 plus the
scan time plus 1 s of slack, and the caps must hold.
"""

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(ROOT, "tests", "standin", "providers.py")


def tokens(rng):
    """20 distinct credentials for each of 5 providers, as (provider, secret, env line)."""
    alnum = string.ascii_letters + string.digits
    pick = lambda alphabet, n: "".join(rng.choice(alphabet) for _ in range(n))
    out = []
    for _ in range(20):
        t = f"xoxb-{rng.randrange(10**10, 10**11)}-{rng.randrange(10**10, 10**11)}-{pick(alnum, 24)}"
        out.append(("slack", t, f"SLACK_BOT_TOKEN={t}"))
        t = f"sk_live_{pick(alnum, 32)}"
        out.append(("stripe", t, f"STRIPE_SECRET_KEY={t}"))
        t = f"SG.{pick(alnum, 22)}.{pick(alnum, 43)}"
        out.append(("sendgrid", t, f"SENDGRID_API_KEY={t}"))
        t = f"dop_v1_{pick('0123456789abcdef', 64)}"
        out.append(("digitalocean", t, f"DIGITALOCEAN_TOKEN={t}"))
        t = f"{rng.randrange(10**9, 10**10)}:AA{pick(alnum, 33)}"
        out.append(("telegram", t, f"TELEGRAM_BOT_TOKEN={t}"))
    return out


def run(cmd, env=None):
    start = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return time.monotonic() - start, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("keyleak")
    ap.add_argument("--latency", type=float, nargs="+", default=[0.05, 0.2])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(18)
    creds = tokens(rng)
    tree = tempfile.mkdtemp(prefix="keyleak-verify-bench-")
    for i, (_, _, line) in enumerate(creds):
        for copy in range(10):
            d = os.path.join(tree, f"svc{i:03}", f"copy{copy}")
            os.makedirs(d)
            with open(os.path.join(d, ".env"), "w") as f:
                f.write(line + "\n")
    scan = [args.keyleak, "dir", tree, "-f", "json", "-q", "--no-progress"]
    offline = sorted(run(scan)[0] for _ in range(args.runs))[args.runs // 2]
    print("| latency per request | findings | distinct credentials | requests | max in flight (overall / per provider) | `--verify` wall (median of %d) | scan alone | budget | within |" % args.runs)
    print("|---|---|---|---|---|---|---|---|---|")
    ok = True
    for latency in args.latency:
        walls, stats, findings = [], None, 0
        for _ in range(args.runs):
            cfg = os.path.join(tree, "..", f"standin-{os.getpid()}.json")
            with open(cfg, "w") as f:
                json.dump({"creds": [{"provider": p, "secret": s, "behavior": "live"} for p, s, _ in creds],
                           "delay": latency}, f)
            server = subprocess.Popen([sys.executable, STANDIN, cfg], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            try:
                port = server.stdout.readline().split()[1]
                url = f"http://127.0.0.1:{port}"
                env = dict(os.environ, KEYLEAK_VERIFY_TEST_BASE_URL=url)
                wall, p = run(scan + ["--verify"], env)
                report = json.loads(p.stdout)
                findings = len(report["findings"])
                live = sum(1 for f in report["findings"] if f["verification"]["status"] == "live")
                assert live == findings, p.stderr
                walls.append(wall)
                stats = json.load(urllib.request.urlopen(url + "/__stats"))
            finally:
                server.stdin.close()
                server.wait(timeout=10)
                os.remove(cfg)
        wall = statistics.median(walls)
        per = max(stats["max_in_flight_by_provider"].values())
        budget = stats["requests"] * latency / 8 + offline + 1.0
        within = wall <= budget and stats["max_in_flight"] <= 8 and per <= 2 and stats["requests"] == 100
        ok &= within
        print(f"| {latency * 1000:.0f} ms | {findings} | 100 | {stats['requests']} | {stats['max_in_flight']} / {per} "
              f"| {wall:.2f} s | {offline:.2f} s | {budget:.2f} s | {'yes' if within else 'NO'} |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
