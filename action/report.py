#!/usr/bin/env python3
"""JSON helpers for keyleak-action.sh (Python 3 standard library only, as on every runner).

  event FILE DOTTED.PATH            a field of the event payload ("" when absent; list.length)
  relpath PATH START                PATH relative to START, "" when equal, with a trailing /
  inrepo PATH TOP                   PATH relative to TOP if inside it (by its text), else exit 1
  count SARIF                       the number of results
  summary SARIF PREFIX WHAT FAIL_ON RC [CHANGED]
                                    a Markdown job summary, secrets redacted as in the SARIF;
                                    CHANGED: a file listing policy files the change edits
  added-allows SARIF FAIL_ON        how many findings the change suppressed itself (a
                                    keyleak:allow it adds) at or above FAIL_ON

Everything printed comes from keyleak's SARIF, which never holds an unredacted secret (the
action never passes --show-secrets). Everything in it was written by whoever wrote the scanned
change (paths, lines, rule names): it is made inert Markdown, so a line holding
`![x](https://…)` shows as text. The annotations are not written here: keyleak writes them from
the same SARIF (`keyleak merge SARIF -f github`), with the escaping and severity levels of its
`-f github` format.
"""

import html
import json
import os
import sys
import urllib.parse

SEVERITY_ORDER = ["critical", "high", "medium", "low"]
MAX_ROWS = 100


def event(path, dotted):
    value = json.load(open(path, encoding="utf-8"))
    for key in dotted.split("."):
        if isinstance(value, list) and key == "length":
            value = len(value)
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            value = None
        if value is None:
            return ""
    return "" if isinstance(value, (dict, list)) else str(value)


def relpath(path, start):
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(start))
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


def inrepo(path, top):
    """PATH relative to the repository's TOP when it lies inside it, decided on the path's text
    (a symlink in the checkout, which the change may have planted, is not followed)."""
    p = os.path.normpath(os.path.abspath(path))
    for t in {os.path.normpath(os.path.abspath(top)), os.path.realpath(top)}:
        rel = os.path.relpath(p, t)
        if rel != "." and not rel.startswith(".." + os.sep) and rel != ".." and not os.path.isabs(rel):
            return rel.replace(os.sep, "/")
    return None


def results(sarif, added_allows=False):
    """Reported results; with added_allows, the ones the change suppressed itself instead."""
    log = json.load(open(sarif, encoding="utf-8"))
    out = []
    for run in log.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for r in run.get("results", []):
            by_change = bool(r.get("properties", {}).get("suppressed_by_change"))
            if added_allows != (bool(r.get("suppressions")) and by_change):
                continue
            loc = (r.get("locations") or [{}])[0].get("physicalLocation", {})
            region = loc.get("region", {})
            props = r.get("properties", {})
            index = r.get("ruleIndex")
            rule = rules[index] if isinstance(index, int) and 0 <= index < len(rules) else {}
            out.append(
                {
                    "rule_id": r.get("ruleId", "?"),
                    "rule_name": rule.get("shortDescription", {}).get("text") or rule.get("name", ""),
                    "severity": props.get("severity", ""),
                    "known_public": bool(props.get("known_public")),
                    "path": urllib.parse.unquote(loc.get("artifactLocation", {}).get("uri", "")),
                    "line": region.get("startLine", 1),
                    "end_line": region.get("endLine", region.get("startLine", 1)),
                    "column": region.get("startColumn", 1),
                    "end_column": region.get("endColumn", region.get("startColumn", 1)),
                    "snippet": region.get("snippet", {}).get("text", ""),
                    "commit": props.get("commit", ""),
                    "fingerprint": (r.get("partialFingerprints") or {}).get("keyleakFingerprint/v1", ""),
                    "fix": first_sentence((rule.get("help") or {}).get("text", "")),
                }
            )
    return out


def first_sentence(text):
    """The first sentence of a rule's remediation: what a reviewer reads in the summary."""
    para = " ".join(text.strip().split("\n\n")[0].split())
    for i, ch in enumerate(para):
        if ch == "." and (i + 1 == len(para) or para[i + 1] == " "):
            return para[: i + 1]
    return para


def control(s):
    """Control characters (C0 but CR/LF, DEL, C1, bidi overrides) written out as escapes: an ESC
    in a job log colours or rewrites it."""
    out = []
    for c in s:
        o = ord(c)
        if (o < 0x20 and c not in "\r\n") or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            out.append("\\x%02x" % o if o < 0x80 else "\\u{%x}" % o)
        else:
            out.append(c)
    return "".join(out)


def inert(s):
    """Text that GitHub's Markdown shows as itself: every ASCII punctuation character becomes a
    numeric character reference, which CommonMark never reads as syntax, so no link, image,
    emphasis, HTML tag, table pipe or code span can start (`![x](https://…)` stays text)."""
    return "".join(c if c.isalnum() or c == " " or not c.isascii() else "&#{};".format(ord(c)) for c in control(s))


def cell(s, limit=120):
    s = " ".join(str(s).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return inert(s)


def link(f, prefix):
    """A link to the line on GitHub when the context allows one, else the plain location."""
    where = "{}{}:{}".format(prefix, f["path"], f["line"])
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    commit = f["commit"] or os.environ.get("GITHUB_SHA", "")
    if not (server and repo and commit):
        return "<code>{}</code>".format(cell(where, 200))
    url = "{}/{}/blob/{}/{}#L{}".format(server, repo, commit, urllib.parse.quote(prefix + f["path"]), f["line"])
    return '<a href="{}"><code>{}</code></a>'.format(html.escape(url, quote=True), cell(where, 200))


def commit_link(commit):
    """The commit, linked to its page on GitHub when the context allows."""
    if not commit:
        return ""
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    short = "<code>{}</code>".format(cell(commit[:12]))
    if not (server and repo):
        return short
    url = "{}/{}/commit/{}".format(server, repo, urllib.parse.quote(commit))
    return '<a href="{}">{}</a>'.format(html.escape(url, quote=True), short)


def severity_rank(f):
    """Most severe first; known public test keys (which never fail) after the rest."""
    order = SEVERITY_ORDER.index(f["severity"]) if f["severity"] in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return (f["known_public"], order, f["path"], f["line"])


def at_or_above(severity, fail_on):
    order = SEVERITY_ORDER
    return severity in order and fail_on in order and order.index(severity) <= order.index(fail_on)


def added_allows(sarif, fail_on):
    return sum(1 for f in results(sarif, added_allows=True) if at_or_above(f["severity"], fail_on))


def summary(sarif, prefix, what, fail_on, rc, changed=""):
    found = sorted(results(sarif), key=severity_rank)
    failing = rc == "1"
    out = ["## keyleak", ""]
    policy = []
    if changed and os.path.exists(changed):
        policy = [l for l in open(changed, encoding="utf-8", errors="replace").read().splitlines() if l]
    for name in policy:
        out += [
            "> [!WARNING]",
            "> This change edits <code>{}</code>. keyleak read it from the base commit instead, so the "
            "edit takes effect only once merged: review it.".format(cell(prefix + name, 200)),
            "",
        ]
    if not found:
        out.append("No secrets found in {}.".format(cell(what, 300)))
    else:
        by_sev = {}
        for f in found:
            by_sev[f["severity"]] = by_sev.get(f["severity"], 0) + 1
        counts = ", ".join("{} {}".format(by_sev[s], s) for s in SEVERITY_ORDER if s in by_sev)
        verdict = (
            ":x: at least one is at or above `{}`: the job fails.".format(fail_on)
            if failing
            else ":white_check_mark: none is at or above `{}` (known public test keys never count).".format(fail_on)
        )
        out.append(
            "**{} secret{} found** ({}) in {}. {}".format(
                len(found), "" if len(found) == 1 else "s", counts, cell(what, 300), verdict
            )
        )
        out += [
            "",
            "| Severity | Rule | Location | Line (redacted) | Commit | Fingerprint | Fix |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in found[:MAX_ROWS]:
            severity = cell(f["severity"]) + (" (known public)" if f["known_public"] else "")
            rule = "<code>{}</code> {}".format(cell(f["rule_id"]), cell(f["rule_name"]))
            snippet = "<code>{}</code>".format(cell(f["snippet"])) if f["snippet"] else ""
            fingerprint = "<code>{}</code>".format(cell(f["fingerprint"])) if f["fingerprint"] else ""
            out.append(
                "| {} | {} | {} | {} | {} | {} | {} |".format(
                    severity, rule, link(f, prefix), snippet, commit_link(f["commit"]), fingerprint, cell(f["fix"], 300)
                )
            )
        if len(found) > MAX_ROWS:
            out += ["", "…and {} more: see the SARIF file or the annotations.".format(len(found) - MAX_ROWS)]
        out += [
            "",
            "**A real secret** must be revoked and rotated: removing it from the code does not make it safe "
            "(it stays in the history and may already be copied). The Fix column says where to start.",
            "",
            "**Not a secret** (a test value, an example)? Add `keyleak:allow` in a comment on its line, or "
            "add its fingerprint to `.keyleakignore` at the repository root (one per line; a `#` comment "
            "saying why), and push again.",
        ]
    allowed = results(sarif, added_allows=True)
    if allowed:
        out += [
            "",
            "### Suppressed by this pull request",
            "",
            "{} finding{} silenced by a <code>keyleak:allow</code> comment that this change adds. "
            "Review each: the author of a change should not be the one who waives its secrets.".format(
                len(allowed), " is" if len(allowed) == 1 else "s are"
            ),
            "",
            "| Severity | Rule | Location | Line (redacted) |",
            "|---|---|---|---|",
        ]
        for f in allowed[:MAX_ROWS]:
            rule = "<code>{}</code> {}".format(cell(f["rule_id"]), cell(f["rule_name"]))
            snippet = "<code>{}</code>".format(cell(f["snippet"])) if f["snippet"] else ""
            out.append("| {} | {} | {} | {} |".format(cell(f["severity"]), rule, link(f, prefix), snippet))
    print("\n".join(out) + "\n")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "event":
        print(event(*args))
    elif cmd == "relpath":
        print(relpath(*args))
    elif cmd == "inrepo":
        rel = inrepo(*args)
        if rel is None:
            sys.exit(1)
        print(rel)
    elif cmd == "count":
        print(len(results(*args)))
    elif cmd == "summary":
        summary(*args)
    elif cmd == "added-allows":
        print(added_allows(*args))
    else:
        sys.exit("unknown command: " + cmd)


if __name__ == "__main__":
    main(sys.argv)
