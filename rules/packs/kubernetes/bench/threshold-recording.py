"""Cost of the Kubernetes pack's threshold recording at N tenants x C containers.

Usage: threshold-recording.py TENANTS CONTAINERS OUT_DIR REPO_ROOT THRESHOLD_EXPORTER [INTERVAL_S] [CYCLES]

Serves simulated cAdvisor and kube-state-metrics series (the real names and labels, one
namespace per tenant, C containers with CPU and memory limits) from a local HTTP server, runs
the real threshold-exporter on a generated conf.d (platform defaults, a per-container CPU row
for every third tenant, a memory tier map for every fifth), and Prometheus (`prometheus` on
PATH) with the kubernetes and platform packs of REPO_ROOT. After two warm-up intervals it
reads every rule's last evaluation time from /api/v1/rules for CYCLES evaluations and prints
the median per kind of rule (threshold = `*:alert_threshold:*`). Everything listens on
127.0.0.1 and is stopped at the end.
"""
import http.server, json, os, subprocess, sys, threading, time, urllib.request, statistics

N = int(sys.argv[1]); C = int(sys.argv[2]); OUT = sys.argv[3]
ROOT = sys.argv[4]; EXPORTER = sys.argv[5]; INTERVAL = int(sys.argv[6]) if len(sys.argv) > 6 else 15
CYCLES = int(sys.argv[7]) if len(sys.argv) > 7 else 5
os.makedirs(OUT + "/conf.d", exist_ok=True)
with open(OUT + "/conf.d/_defaults.yaml", "w") as f:
    f.write("defaults:\n  container_cpu: 80\n  container_memory: {warning: 85, critical: 95}\n"
            "state_filters:\n  container_crashloop: {reasons: [CrashLoopBackOff], severity: critical}\n"
            "  container_imagepull: {reasons: [ImagePullBackOff, ErrImagePull], severity: warning}\n")
for t in range(N):
    name = f"t-{t:05d}"
    with open(f"{OUT}/conf.d/{name}.yaml", "w") as f:
        f.write(f"tenants:\n  {name}:\n")
        if t % 3 == 0:
            f.write(f"    \"container_cpu{{container='c{t % C}'}}\": \"90\"\n")
        if t % 5 == 0:
            f.write("    container_memory: {warning: 70, critical: 90}\n")
        f.write(f"    _metadata: {{owner: team-{t % 50:02d}}}\n")

def value(t, c, salt):
    return ((t * 7919 + c * 104729 + salt * 1299709) % 100)

def body():
    now = time.time()
    out = []
    for t in range(N):
        ns = f"t-{t:05d}"
        for c in range(C):
            pod = f"app-{c // 5}"; ct = f"c{c}"
            l = f'namespace="{ns}",pod="{pod}",container="{ct}"'
            pct = value(t, c, 1) if value(t, c, 3) < 5 else value(t, c, 1) % 60
            out.append(f"container_cpu_usage_seconds_total{{{l}}} {now * pct / 100:.3f}")
            out.append(f"container_memory_working_set_bytes{{{l}}} {int(pct * 1e7)}")
            out.append(f'kube_pod_container_resource_limits{{{l},resource="cpu",unit="core"}} 1')
            out.append(f'kube_pod_container_resource_limits{{{l},resource="memory",unit="byte"}} 1e9')
            out.append(f"kube_pod_container_status_restarts_total{{{l}}} 0")
    return ("\n".join(out) + "\n").encode()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = body()
        self.send_response(200); self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
src_port = srv.server_address[1]

def listen_address(log, marker, what, deadline_s=60):
    """Reads the address a child bound on `:0` from its log (no port reserved and released)."""
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        with open(log) as f:
            for line in f:
                if marker in line:
                    for field in line.split():
                        if field.startswith("address="):
                            return field.split("=", 1)[1].strip('"')
        time.sleep(0.1)
    raise SystemExit(f"{what} did not report its listen address (see {log})")

exp = subprocess.Popen([EXPORTER, f"--config.dir={OUT}/conf.d", "--web.listen-address=127.0.0.1:0"],
                       stdout=open(OUT + "/exporter.log", "w"), stderr=subprocess.STDOUT)
exp_addr = listen_address(OUT + "/exporter.log", "msg=listening", "threshold-exporter")
packs = ROOT + "/rules/packs"
with open(OUT + "/prometheus.yml", "w") as f:
    f.write(f"""global: {{scrape_interval: {INTERVAL}s, evaluation_interval: {INTERVAL}s}}
rule_files: [{packs}/kubernetes/alerts.yaml, {packs}/kubernetes/regex-thresholds.yaml, {packs}/platform/alerts.yaml]
scrape_configs:
  - job_name: threshold-exporter
    static_configs: [{{targets: ['{exp_addr}']}}]
  - job_name: kubernetes-sim
    static_configs: [{{targets: ['127.0.0.1:{src_port}']}}]
""")
prom = subprocess.Popen(["prometheus", f"--config.file={OUT}/prometheus.yml", f"--storage.tsdb.path={OUT}/data",
                         "--web.listen-address=127.0.0.1:0"],
                        stdout=open(OUT + "/prometheus.log", "w"), stderr=subprocess.STDOUT)
prom_addr = listen_address(OUT + "/prometheus.log", 'msg="Listening on"', "prometheus")
def get(path):
    return json.load(urllib.request.urlopen(f"http://{prom_addr}{path}", timeout=30))
try:
    deadline = time.time() + 120
    while True:
        try:
            r = get("/api/v1/query?query=count(tenant:container_cpu_usage:percent_of_limit)")
            if r["data"]["result"] and float(r["data"]["result"][0]["value"][1]) >= N * C * 0.9:
                break
        except Exception:
            pass
        if time.time() > deadline:
            raise SystemExit("prometheus never recorded the observations")
        time.sleep(1)
    time.sleep(2 * INTERVAL)  # warm: windows filled, groups steady
    cycles = []
    last = None
    for _ in range(CYCLES):
        while True:
            g = get("/api/v1/rules")["data"]["groups"]
            k8s = [x for x in g if x["name"] == "dynalert-kubernetes"][0]
            if k8s["lastEvaluation"] != last:
                last = k8s["lastEvaluation"]; break
            time.sleep(1)
        kinds = {}
        for x in g:
            if not x["name"].startswith("dynalert-kubernetes"):
                continue
            for r in x["rules"]:
                n = r["name"]
                kind = ("threshold" if ":alert_threshold:" in n else "comparison" if ":alert_over_threshold:" in n
                        else "alert" if r["type"] == "alerting" else "state" if ":state_" in n
                        else "observation")
                kinds[kind] = kinds.get(kind, 0) + r["evaluationTime"] * 1000
        kinds["group"] = sum(x["evaluationTime"] * 1000 for x in g if x["name"].startswith("dynalert-kubernetes"))
        cycles.append(kinds)
    series = get("/api/v1/query?query=count(container:alert_threshold:container_cpu)")["data"]["result"]
    med = {k: round(statistics.median(c.get(k, 0) for c in cycles), 1) for k in cycles[0]}
    print(json.dumps({"tenants": N, "containers": C, "cycles": len(cycles),
                      "container_threshold_series_cpu": series[0]["value"][1] if series else "0",
                      "median_ms_by_kind": med,
                      "threshold_us_per_container": round(med["threshold"] * 1000 / (N * C), 2),
                      "per_cycle": cycles}, indent=1))
    print("load", open("/proc/loadavg").read().strip())
finally:
    prom.terminate(); exp.terminate(); prom.wait(); exp.wait(); srv.shutdown()
