#!/usr/bin/env python3
"""Drives the exporter's status pages in headless Chromium through chromedriver's W3C HTTP
API (standard library only) and checks content, console errors, accessibility basics,
the 400 px layout, secrets and the load time of the 10,000-tenant list.

Usage: status-browser.py DRIVER_URL EXPORTER_URL OUT_DIR SECRETS_FILE
The fixture (scripts/test-status-browser.sh): examples/conf.d, `maint-m` in maintenance,
`db-b` rejected after a good load (last good served), `new-bad` rejected from the start,
and 10,000 generated tenants `gen-00000` … `gen-09999`.
"""

import base64
import json
import shutil
import sys
import tempfile
import time
import urllib.request

DRIVER, BASE, OUT, SECRETS = sys.argv[1:5]
failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}", file=sys.stderr)


def wd(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(DRIVER + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["value"]


profile = tempfile.mkdtemp(prefix="status-chromium-")
caps = {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:loggingPrefs": {"browser": "ALL"},
    "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"],
    },
}}}
session = wd("POST", "/session", caps)["sessionId"]
S = f"/session/{session}"


def js(script, *args):
    return wd("POST", S + "/execute/sync", {"script": script, "args": list(args)})


def console():
    return wd("POST", S + "/se/log", {"type": "browser"})


def width(w):
    wd("POST", S + "/window/rect", {"width": w, "height": 1000})


def shot(name):
    png = base64.b64decode(wd("GET", S + "/screenshot"))
    with open(f"{OUT}/{name}.png", "wb") as f:
        f.write(png)


def visit(path):
    """Loads a page; returns (text, html, load ms from navigation start to load end)."""
    wd("POST", S + "/url", {"url": BASE + path})
    t = js("const n = performance.getEntriesByType('navigation')[0];"
           "return [n.loadEventEnd - n.startTime, n.responseEnd - n.requestStart];")
    errors = [e for e in console() if e.get("level") in ("SEVERE", "ERROR")]
    if errors:
        fail(f"{path}: console errors {errors}")
    text = js("return document.body.innerText;")
    html = wd("GET", S + "/source")
    return text, html, t


A11Y = """
const out = [];
for (const t of document.querySelectorAll('table'))
  if (!t.querySelector('thead th')) out.push('table without header cells');
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (['hidden', 'submit', 'button'].includes(el.type)) continue;
  if (el.labels.length === 0 && !el.getAttribute('aria-label'))
    out.push('unlabelled control ' + (el.name || el.id));
}
for (const b of document.querySelectorAll('.badge, .ok, .bad, .warn, .info'))
  if (!b.textContent.trim()) out.push('colour-only marker without text');
if (!document.querySelector('meta[name=viewport]')) out.push('no viewport meta');
return out;
"""

def main():
    # The console check itself must be able to fail.
    wd("POST", S + "/url", {"url": "data:text/html,<script>console.error('probe')</script>"})
    if not any("probe" in e.get("message", "") for e in console()):
        fail("console errors are not captured (probe missing)")

    # So must the accessibility check: a table without headers, an unlabelled input,
    # an empty colour marker and no viewport meta are four findings.
    wd("POST", S + "/url", {"url": "data:text/html,<table><tr><td>1</td></tr></table>"
                                   "<input name=q><span class=bad></span>"})
    if len(js(A11Y)) != 4:
        fail(f"the accessibility check misses problems: {js(A11Y)}")

    secrets = [s for s in open(SECRETS).read().split("\n") if s]
    if len(secrets) < 6:
        fail(f"too few example routing secrets found: {secrets}")

    # The 10,000-tenant list: first load (builds the per-snapshot index) and a second one.
    _, _, cold = visit("/tenants")
    text, html, warm = visit("/tenants")
    print(f"/tenants with 10,005 tenants: first load {cold[0]:.0f} ms (server {cold[1]:.0f} ms), "
          f"second load {warm[0]:.0f} ms (server {warm[1]:.0f} ms)")
    for label, t in (("first", cold), ("second", warm)):
        if t[0] > 1000:
            fail(f"/tenants {label} load took {t[0]:.0f} ms (> 1000 ms)")
    if "10005 of 10005 tenants match; page 1 of 101." not in text:
        fail("/tenants: count line missing")
    rows = js("return document.querySelectorAll('tbody tr').length;")
    if rows != 100:
        fail(f"/tenants: {rows} rows on a page, expected 100")
    shot("status-tenants")

    checks = {
        "/": ["tenants valid\t10003", "tenants rejected\t2", "partly rejected",
              "db-b.yaml:4:", "maint-m", "Tenants in silent mode now"],
        "/tenants?state=rejected": ["2 of 10005 tenants match", "db-b", "rejected: last good served",
                                    "since", "new-bad", "rejected: nothing served"],
        "/tenants?q=gen-0424": ["10 of 10005 tenants match", "gen-04240", "gen-04249"],
        "/tenants?page=101": ["page 101 of 101", "gen-09999"],
        "/tenants?state=maintenance": ["1 of 10005 tenants match", "maint-m", "in maintenance"],
        "/tenants/db-a": ["mysql_connections\twarning\t70\tcustom", "mysql_replication_lag\twarning\tnone\tdisabled",
                          "vip-pager", "dba-team"],
        "/tenants/db-b": ["rejected: the last good config is served", "db-b.yaml:4:",
                          "mysql_connections\twarning\t200\tcustom", "muting warning"],
        "/tenants/maint-m": ["active", "disk swap"],
        "/tenants/new-bad": ["rejected: nothing is served", "new-bad.yaml:"],
        "/config": ["mysql_connections\tdefaults\twarning 80", "MariaDBHighConnections", "armed"],
    }
    for path, wants in checks.items():
        text, html, _ = visit(path)
        for w in wants:
            if w not in text:
                fail(f"{path}: `{w}` not on the page")
        for s in secrets:
            if s in html:
                fail(f"{path}: shows secret `{s}`")
        problems = js(A11Y)
        if problems:
            fail(f"{path}: accessibility: {problems}")

    for name, path in (("status", "/"), ("tenant", "/tenants/db-a"), ("config", "/config")):
        visit(path)
        shot(f"status-{name}")

    # 400 px: nothing wider than the viewport (wide tables scroll inside their own box).
    width(400)
    for name, path in (("status", "/"), ("tenants", "/tenants"), ("tenant", "/tenants/db-a"),
                       ("config", "/config")):
        visit(path)
        over = js("return document.documentElement.scrollWidth - window.innerWidth;")
        if over > 0:
            fail(f"{path} at 400 px: page is {over} px wider than the viewport")
        shot(f"status-{name}-400px")

    # JSON: no secret either.
    for path in ("/api/v1/status", "/api/v1/tenants?state=rejected", "/api/v1/tenants/db-a",
                 "/api/v1/tenants/db-b", "/api/v1/config"):
        with urllib.request.urlopen(BASE + path, timeout=30) as r:
            body = r.read().decode()
        json.loads(body)
        for s in secrets:
            if s in body:
                fail(f"{path}: shows secret `{s}`")


try:
    main()
finally:
    wd("DELETE", S)
    shutil.rmtree(profile, ignore_errors=True)
if failures:
    print(f"{len(failures)} status page check(s) failed", file=sys.stderr)
    sys.exit(1)
print(f"status pages: all checks passed; screenshots in {OUT}")
