#!/usr/bin/env bash
# Offline checks of the Kubernetes delivery (docs/kubernetes.md). No Kubernetes API server runs
# here; every check uses the real tools:
#   generated files (PrometheusRule copies of the packs, chart conf.d, Alertmanager config,
#     dashboard, prometheus.yml fragment, chart README) not drifted
#   for every value set in deploy/tests/values/: Helm engine render, helm lint --strict,
#     Kubernetes 1.30 OpenAPI schemas, Prometheus Operator CRD schemas, amtool check-config on
#     the Alertmanager Secret, promtool check rules --lint-fatal on the PrometheusRules and their
#     contents equal to rules/packs/
#   promtool check config on the plain-Prometheus fragment; every dashboard query parsed by promtool
#   the release threshold-exporter run with the rendered Deployment's args and ConfigMap laid out
#     as the kubelet does, then a ConfigMap update served without a restart
#   SOPS + age: a routing file encrypted with a generated key, decrypted, fed to `dynalert alertmanager`
#   `dynalert deploy check` on a good input and on a broken values file, conf.d and routing block
# Needs scripts/install-deps.sh (tools under /opt/dynalert-tools) and target/release binaries.
# Runs every step, then prints `N passed, N failed` and exits 1 if any failed.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${DYNALERT_TOOLS:-/opt/dynalert-tools}"
PY="$TOOLS/bin/python"
DEPLOY="$ROOT/deploy/tools/dynalert_deploy.py"
DYNALERT="${DYNALERT:-$ROOT/target/release/dynalert}"
EXPORTER="$ROOT/target/release/threshold-exporter"
export DYNALERT DYNALERT_TOOLS="$TOOLS"
passed=0
failed=0
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT" || exit 2

for t in "$PY" "$TOOLS/bin/sops" promtool amtool prometheus vmagent openssl curl readelf age-keygen node "$DYNALERT" "$EXPORTER"; do
  command -v "$t" >/dev/null || { echo "error: \`$t\` not found" >&2; echo "  hint: run scripts/install-deps.sh and cargo build --release" >&2; exit 2; }
done

step() { # step NAME CMD...: runs CMD, counts the result
  local name="$1"; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

expect_fail() { # expect_fail NAME PATTERN CMD...: CMD exits 1 and its stderr contains PATTERN
  local name="$1" pattern="$2"; shift 2
  echo "== $name"
  local rc=0
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  if [[ $rc -eq 1 ]] && grep -qE -- "$pattern" "$WORK/err"; then
    passed=$((passed + 1)); echo "ok: $name (exit 1, located: $(grep -m1 -E -- "$pattern" "$WORK/err"))"
  else
    failed=$((failed + 1)); echo "FAILED: $name (exit $rc, wanted 1 with /$pattern/)"; cat "$WORK/err"
  fi
}

step "generated files up to date" "$PY" "$DEPLOY" gen --check

for v in "$ROOT"/deploy/tests/values/*.yaml; do
  step "chart with $(basename "$v"): render, lint, schemas, amtool, promtool" \
    "$PY" "$DEPLOY" check --values "$v" -o "$WORK/rendered-$(basename "$v")"
done

# Nothing is downloaded at run time: the same check inside a network namespace with no network.
if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  step "chart check with no network at all (unshare -n)" unshare -n "$PY" "$DEPLOY" check
else
  echo "== chart check with no network: skipped (needs root for unshare -n)"
fi

# The existing-ConfigMap and git-sync sets must mount what they say, not the chart's ConfigMap.
mounts_ok() {
  "$PY" - "$WORK" <<'EOF'
import sys, yaml
w = sys.argv[1]
def dep(name):
    docs = [d for d in yaml.safe_load_all(open(f"{w}/rendered-{name}")) if d]
    return docs, next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
docs, spec = dep("existing-configmap.yaml")
vol = next(v for v in spec["volumes"] if v["name"] == "confd")
assert vol["configMap"]["name"] == "platform-confd", vol
assert not any(d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-confd") for d in docs)
docs, spec = dep("git-sync.yaml")
names = [c["name"] for c in spec["containers"]]
assert names == ["threshold-exporter", "git-sync"], names
assert spec["initContainers"][0]["name"] == "git-sync-init" and "--one-time" in spec["initContainers"][0]["args"]
assert "--config.dir=/git/current/conf.d" in spec["containers"][0]["args"]
docs, spec = dep("inline-hierarchy.yaml")
vol = next(v for v in spec["volumes"] if v["name"] == "confd")
assert any(d["kind"] == "Secret" and d["metadata"]["name"] == vol["secret"]["secretName"] for d in docs)
assert not any(d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-confd") for d in docs)
items = vol["secret"]["items"]
paths = sorted(i["path"] for i in items)
want = sorted(yaml.safe_load(open("deploy/tests/values/inline-hierarchy.yaml"))["confd"]["files"])
assert paths == want, (paths, want)
docs, spec = dep("defaults.yaml")
c = spec["containers"][0]
sc = c["securityContext"]
assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"]["drop"] == ["ALL"]
assert spec["securityContext"]["runAsNonRoot"] is True
assert c["livenessProbe"]["httpGet"]["path"] == "/-/healthy" and c["readinessProbe"]["httpGet"]["path"] == "/-/ready"
assert any(a.startswith("--storage.path=/var/lib/dynalert/") for a in c["args"])
sm = next(d for d in docs if d["kind"] == "ServiceMonitor")
svc = next(d for d in docs if d["kind"] == "Service")
assert sm["spec"]["endpoints"][0]["honorLabels"] is True
assert svc["metadata"]["labels"][sm["spec"]["jobLabel"]] == "threshold-exporter"
print("mounts, security context, probes, job label: as the values say")
EOF
}
step "rendered objects hold what their values say" mounts_ok

# Debian's prometheus/promtool 2.42 are built without Kubernetes service discovery (the package
# strips it), so `kubernetes_sd_configs` is an unknown field to them. The fragment is checked as
# is by vmagent (which implements kubernetes_sd_configs), and by promtool with only the SD blocks
# swapped for static targets, which checks every relabelling, TLS and auth setting.
prometheus_fragment() {
  "$PY" - "$ROOT/deploy/prometheus/prometheus.yml" "$WORK/prom" <<'PYEOF' || return 1
import os, sys, yaml
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
text = open(src).read()
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
assert sa in text
open(f"{out}/token", "w").write("placeholder\n")
open(f"{out}/as-is.yml", "w").write(text.replace(sa, out))
cfg = yaml.safe_load(text.replace(sa, out))
n = 0
for sc in cfg["scrape_configs"]:
    assert "kubernetes_sd_configs" in sc, sc["job_name"]
    del sc["kubernetes_sd_configs"]
    sc["static_configs"] = [{"targets": ["127.0.0.1:9"]}]
    n += 1
yaml.safe_dump(cfg, open(f"{out}/static-sd.yml", "w"), sort_keys=False)
print(f"{n} scrape configs with kubernetes_sd_configs")
PYEOF
  # The service-account CA must parse: a throwaway self-signed one.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=test-ca \
    -keyout "$WORK/prom/ca.key" -out "$WORK/prom/ca.crt" 2>/dev/null || return 1
  promtool check config "$WORK/prom/static-sd.yml" || return 1
  local out
  out=$(timeout 30 vmagent -dryRun -promscrape.config="$WORK/prom/as-is.yml" 2>&1)
  if grep -q fatal <<<"$out"; then grep fatal <<<"$out" >&2; return 1; fi
  echo "vmagent -dryRun: kubernetes_sd_configs fragment accepted"
}
step "prometheus.yml fragment: promtool check config, vmagent -dryRun" prometheus_fragment
step "prometheus.yml fragment: a real Prometheus gives pod targets the tenant owning their namespace" \
  "$PY" "$DEPLOY" sd-relabel-run

dashboard_queries() {
  "$PY" - "$ROOT" "$WORK/dashboard-rules.yaml" <<'EOF'
import json, sys, yaml
root, out = sys.argv[1], sys.argv[2]
board = json.load(open(f"{root}/deploy/helm/dynalert/files/dashboards/dynalert.json"))
exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
rules = [{"record": f"dashboard:query:{i}", "expr": e.replace("$tenant", ".+")} for i, e in enumerate(exprs)]
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(out, "w"))
# Every series a panel reads exists: a pack's recording rule, an exporter family of the
# contract, or Prometheus' own `up` / `ALERTS`.
import glob, re
recorded = {r["record"] for f in glob.glob(f"{root}/rules/packs/*/*.yaml")
            for g in (yaml.safe_load(open(f)) or {}).get("groups", []) for r in g["rules"] if "record" in r}
contract = {"up", "ALERTS", "threshold_exporter_config_last_reload_successful",
            "threshold_exporter_config_last_reload_success_timestamp_seconds",
            "threshold_exporter_tenant_config_valid", "tenant_metadata_info"}
missing = sorted({n for e in exprs for n in re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)\{", e)} - recorded - contract)
templ = board["templating"]["list"][1]["query"]["query"]
missing += [n for n in re.findall(r"label_values\((\w+)", templ) if n not in contract]
if missing:
    sys.exit(f"dashboard reads series nothing records or exports: {missing}")
print(f"{len(exprs)} dashboard queries, every series recorded by a pack or exported")
EOF
  promtool check rules "$WORK/dashboard-rules.yaml"
}
step "every dashboard query parses (promtool)" dashboard_queries
step "tenant-exporters PodMonitor valid against its CRD schema" \
  "$PY" "$DEPLOY" validate "$ROOT/deploy/prometheus/tenant-exporters.podmonitor.yaml"

step "exporter run as the rendered Deployment (defaults), ConfigMap ..data swap served without restart" \
  "$PY" "$DEPLOY" kubelet-run --exporter "$EXPORTER" --tenant db-a --key mysql_connections --new-value 42
step "exporter run as the rendered Deployment (inline conf.d as a Secret), ..data swap served without restart" \
  "$PY" "$DEPLOY" kubelet-run --exporter "$EXPORTER" --values "$ROOT/deploy/tests/values/inline-hierarchy.yaml" \
  --tenant db-z --key mysql_connections --new-value 33

step "exporter run as the rendered Deployment (git-sync), worktree link swap served without restart" \
  "$PY" "$DEPLOY" kubelet-run --exporter "$EXPORTER" --values "$ROOT/deploy/tests/values/git-sync.yaml" \
  --tenant db-a --key mysql_connections --new-value 51

sops_roundtrip() {
  local d="$WORK/sops" sops="$TOOLS/bin/sops"
  mkdir -p "$d/conf.d" "$d/plain" && cp "$ROOT"/examples/conf.d/*.yaml "$d/plain/"
  age-keygen -o "$d/key.txt" 2>/dev/null || return 1
  local recipient; recipient=$(age-keygen -y "$d/key.txt")
  # As docs/secrets.md: a .sops.yaml creation rule; only receiver secrets (URLs, keys,
  # passwords) are encrypted, the routing tree stays readable; the file lives in secrets/.
  mkdir -p "$d/secrets"
  printf 'creation_rules:\n  - path_regex: secrets/.*\\.sops\\.ya?ml$\n    encrypted_regex: ^(url|api_url|routing_key|service_key|auth_password|password)$\n    age: %s\n' \
    "$recipient" >"$d/.sops.yaml"
  (cd "$d" && "$sops" --encrypt --filename-override secrets/_routing.sops.yaml plain/_routing.yaml >secrets/_routing.sops.yaml) || return 1
  local enc="$d/secrets/_routing.sops.yaml"
  if grep -q 'http://127.0.0.1:5001/vip-pager' "$enc"; then echo "receiver URL left in clear text" >&2; return 1; fi
  grep -q 'ENC\[AES256_GCM' "$enc" || { echo "nothing encrypted" >&2; return 1; }
  grep -q 'vip-pager' "$enc" || { echo "receiver names should stay readable" >&2; return 1; }
  # A wrong key cannot decrypt.
  age-keygen -o "$d/other.txt" 2>/dev/null
  if SOPS_AGE_KEY_FILE="$d/other.txt" "$sops" --decrypt "$enc" >/dev/null 2>&1; then echo "decrypted with a wrong key" >&2; return 1; fi
  # Deploy time: decrypt into a copy of the conf.d, generate the Alertmanager configuration.
  cp "$ROOT"/examples/conf.d/*.yaml "$d/conf.d/" && rm "$d/conf.d/_routing.yaml"
  SOPS_AGE_KEY_FILE="$d/key.txt" "$sops" --decrypt "$enc" >"$d/conf.d/_routing.yaml" || return 1
  "$DYNALERT" alertmanager "$d/conf.d" >"$d/am-from-sops.yaml" || return 1
  "$DYNALERT" alertmanager "$d/plain" >"$d/am-plain.yaml" || return 1
  cmp -s "$d/am-from-sops.yaml" "$d/am-plain.yaml" || { diff "$d/am-plain.yaml" "$d/am-from-sops.yaml" | head -20; return 1; }
  grep -q 'http://127.0.0.1:5001/vip-pager' "$d/am-from-sops.yaml" || { echo "decrypted receiver missing" >&2; return 1; }
  amtool check-config "$d/am-from-sops.yaml" >/dev/null || return 1
  echo "encrypted $(grep -c 'ENC\[' "$enc") values; decrypted config generates the same alertmanager.yml as the clear one"
}
step "SOPS + age: encrypt routing, decrypt, dynalert alertmanager" sops_roundtrip

# The image: static binaries built on the host, the Containerfile's registry-free `prebuilt`
# stage built by podman (docs/kubernetes.md says why the full build and `podman run` cannot run
# here), then the image's user, entrypoint and content checked, and its binaries run.
image_build() {
  local triple=x86_64-unknown-linux-gnu tag="localhost/dynalert-test:$$" rootfs="$WORK/rootfs" cid
  RUSTFLAGS="-C target-feature=+crt-static" "${CARGO:-cargo}" build -q --release --target "$triple" \
    -p threshold-exporter -p dynalert || return 1
  mkdir -p target/static "$rootfs"
  for b in threshold-exporter dynalert; do strip -o "target/static/$b" "target/$triple/release/$b" || return 1; done
  podman build -q --target prebuilt -f Containerfile -t "$tag" . >/dev/null || return 1
  local config; config=$(podman image inspect --format '{{.Config.User}} {{json .Config.Entrypoint}}' "$tag")
  cid=$(podman create "$tag") && podman export "$cid" | tar -x -C "$rootfs"
  podman rm "$cid" >/dev/null; podman rmi "$tag" >/dev/null
  echo "image config: $config"
  [[ "$config" == '65532:65532 ["/usr/local/bin/threshold-exporter"]' ]] || { echo "want user 65532:65532, entrypoint threshold-exporter" >&2; return 1; }
  local files; files=$(cd "$rootfs" && find . -type f | sort | tr '\n' ' ')
  echo "image files: $files($(du -sh "$rootfs" | cut -f1))"
  [[ "$files" == "./usr/local/bin/dynalert ./usr/local/bin/threshold-exporter " ]] || { echo "want exactly the two binaries" >&2; return 1; }
  for b in threshold-exporter dynalert; do
    # FROM scratch has no loader and no libraries: no program interpreter, no NEEDED library.
    if readelf -lW "$rootfs/usr/local/bin/$b" | grep -q 'program interpreter' \
      || readelf -dW "$rootfs/usr/local/bin/$b" | grep -q NEEDED; then
      echo "$b is dynamically linked: it cannot run FROM scratch" >&2; return 1
    fi
    env -i "$rootfs/usr/local/bin/$b" --version || return 1
  done
  # The image's exporter serves the example conf.d (empty environment, as FROM scratch has).
  env -i "$rootfs/usr/local/bin/threshold-exporter" --config.dir="$ROOT/examples/conf.d" \
    --web.listen-address=127.0.0.1:0 >"$WORK/image-exporter.log" 2>&1 &
  local pid=$! addr="" deadline=$((SECONDS + 20)) ready=1
  while ((SECONDS < deadline)); do
    addr=$(sed -n 's/.*msg=listening .*address=\([^ ]*\).*/\1/p' "$WORK/image-exporter.log" 2>/dev/null)
    if [[ -n "$addr" ]] && curl -fsS "http://$addr/-/ready" >/dev/null 2>&1; then ready=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ((ready == 0)); then
    echo "image's threshold-exporter ready at $addr: $(curl -fsS "http://$addr/metrics" | grep -c '^user_threshold{') user_threshold series"
  else
    cat "$WORK/image-exporter.log" >&2
  fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return "$ready"
}
if command -v podman >/dev/null; then
  step "Containerfile: static binaries, podman build (prebuilt stage), non-root, both binaries" image_build
else
  failed=$((failed + 1)); echo "FAILED: podman not installed (scripts/install-deps.sh installs it)"
fi

# dynalert deploy check: a good input passes; each broken input exits 1 with its location.
BAD="$ROOT/deploy/tests/broken"
step "dynalert deploy check on the example conf.d" \
  "$DYNALERT" deploy check --values "$ROOT/deploy/tests/values/ha-tls-auth.yaml" "$ROOT/examples/conf.d"
expect_fail "deploy check: broken values file (wrong type)" "broken-values\.yaml:3:1: .*\`replicaCount\`: got string, want integer" \
  "$DYNALERT" deploy check --values "$BAD/broken-values.yaml" "$ROOT/examples/conf.d"
expect_fail "deploy check: broken values file (typo, with did-you-mean)" "did you mean \`podAntiAffinity\`" \
  "$DYNALERT" deploy check --values "$BAD/broken-values.yaml" "$ROOT/examples/conf.d"
grep -q "broken-values\.yaml:4:1: .*podAntiAfinity" "$WORK/err" || { failed=$((failed + 1)); echo "FAILED: typo not located at broken-values.yaml:4:1"; }
expect_fail "deploy check: broken conf.d" "broken-confd/db-a\.yaml:[0-9]+:[0-9]+:" \
  "$DYNALERT" deploy check --values "$ROOT/deploy/tests/values/defaults.yaml" "$BAD/broken-confd"
expect_fail "deploy check: broken routing block" "broken-routing/_routing\.yaml:[0-9]+:[0-9]+:" \
  "$DYNALERT" deploy check --values "$ROOT/deploy/tests/values/defaults.yaml" "$BAD/broken-routing"

expect_fail "deploy check: a regex row the shipped packs have no rule for" "new-regex-row: the regex rows of this conf\.d need other rules than the shipped .*kubernetes/regex-thresholds\.yaml" \
  "$DYNALERT" deploy check "$BAD/new-regex-row"

# The checks themselves can fail: objects that pass values.schema.json but not the Kubernetes or
# CRD schema, and a PrometheusRule edited by hand.
expect_fail "check rejects an object the Kubernetes schema rejects" "deployment\.yaml: Deployment/.*valueFrm" \
  "$PY" "$DEPLOY" check --values "$BAD/bad-env.yaml"
expect_fail "check rejects an object the Prometheus Operator CRD schema rejects" "servicemonitor\.yaml: ServiceMonitor/.*insecureSkipVerify must be boolean" \
  "$PY" "$DEPLOY" check --values "$BAD/bad-tlsconfig.yaml"
cp -r "$ROOT/deploy/helm/dynalert" "$WORK/edited-chart"
sed -i '0,/for: 5m/s//for: 6m/' "$WORK/edited-chart/files/rules/platform/alerts.yaml"
expect_fail "check rejects PrometheusRules that differ from rules/packs" "PrometheusRule contents differ from rules/packs" \
  env DYNALERT_CHART="$WORK/edited-chart" "$PY" "$DEPLOY" check

# Custom-alert rules ship with the conf.d they are generated from (docs/recipes.md).
RECIPES="$ROOT/deploy/tests/recipes-confd"
step "chart with a conf.d of recipes (check --confd): custom-alert rules generated from it" \
  "$PY" "$DEPLOY" check --values "$ROOT/deploy/tests/values/defaults.yaml" --confd "$RECIPES" -o "$WORK/rendered-recipes.yaml"
recipes_shipped() {
  "$DYNALERT" effective "$RECIPES" --format prom >"$WORK/recipes.prom" || return 1
  "$PY" - "$WORK/rendered-recipes.yaml" "$RECIPES" "$WORK/recipes.prom" <<'EOF'
import glob, re, sys, yaml
rendered, confd, prom = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
pr = [d for d in docs if d["kind"] == "PrometheusRule" and d["metadata"]["labels"].get("dynalert.io/rules") == "custom-alerts"]
assert len(pr) == 1, f"want one custom-alert PrometheusRule, got {len(pr)}"
# The contract: one alerting rule per recipe shape; equal recipes of several tenants share it.
declared = {}
for f in glob.glob(f"{confd}/*.yaml"):
    for tenant, body in ((yaml.safe_load(open(f)) or {}).get("tenants") or {}).items():
        for r in body.get("_custom_alerts") or []:
            declared.setdefault(r["name"], set()).add(tenant)
rules = [r for g in pr[0]["spec"]["groups"] for r in g["rules"] if r.get("alert") in declared]
names = sorted(r["alert"] for r in rules)
assert names == sorted(declared), (names, sorted(declared))
# Each rule reads the thresholds the exporter serves for that recipe (same `rule` id), for
# exactly the tenants that declared it.
served = {}
for line in open(prom):
    m = re.match(r'user_custom_threshold\{(.*)\} ', line)
    if m:
        l = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        served.setdefault((l["alert"], l["rule"]), set()).add(l["tenant"])
for r in rules:
    rid = r["labels"]["rule"]
    assert f'rule="{rid}"' in r["expr"], r["alert"]
    assert served.get((r["alert"], rid)) == declared[r["alert"]], (r["alert"], served)
# Each shape in a group of its own, with the default alert limit and its series guard.
for g in pr[0]["spec"]["groups"]:
    own = [r for r in g["rules"] if r.get("alert") in declared]
    if own:
        assert len(own) == 1 and g.get("limit") == 20000, g["name"]
        assert [r["labels"]["alert"] for r in g["rules"] if r.get("alert") == "CustomAlertSeriesLimit"] == [own[0]["alert"]], g["name"]
print(f"{len(rules)} custom-alert rules for {sum(len(t) for t in declared.values())} recipes of "
      f"{len(set().union(*declared.values()))} tenants; each reads the thresholds the exporter serves for it")
EOF
}
step "shipped custom-alert rules: one per recipe shape, reading the thresholds the exporter serves" recipes_shipped
stale_recipes_values() { # inline conf.d with a recipe changed after its rules were generated
  "$DYNALERT" rules recipes "$RECIPES" --out "$WORK/recipes-rules.yaml" 2>/dev/null || return 1
  "$PY" - "$RECIPES" "$WORK/recipes-rules.yaml" "$WORK/stale-recipes.yaml" <<'EOF'
import pathlib, sys, yaml
confd, rules, out = sys.argv[1:]
files = {p.name: p.read_text() for p in sorted(pathlib.Path(confd).glob("*.yaml"))}
assert "window: 5m, threshold: {warning: 500" in files["db-a.yaml"]
files["db-a.yaml"] = files["db-a.yaml"].replace("window: 5m, threshold: {warning: 500", "window: 10m, threshold: {warning: 500")
yaml.safe_dump({"confd": {"source": "inline", "files": files},
                "prometheusRule": {"customAlerts": {"rules": open(rules).read()}}}, open(out, "w"))
EOF
}
if stale_recipes_values; then
  expect_fail "check rejects custom-alert rules older than the inline conf.d" \
    "custom-alert rules are not those of the deployed conf.d's recipes: shapes .* shipped" \
    "$PY" "$DEPLOY" check --values "$WORK/stale-recipes.yaml"
else
  failed=$((failed + 1)); echo "FAILED: could not write the stale-recipes values"
fi
cp -r "$ROOT/deploy/helm/dynalert" "$WORK/recipes-chart"
cp "$RECIPES/db-b.yaml" "$WORK/recipes-chart/files/conf.d/db-b.yaml"
expect_fail "check rejects a chart conf.d changed without regenerating files/recipes" \
  "custom-alert rules are not those of the deployed conf.d's recipes: shapes .* shipped" \
  env DYNALERT_CHART="$WORK/recipes-chart" "$PY" "$DEPLOY" check
grep -q "hint: run .*dynalert_deploy.py gen" "$WORK/err" || { failed=$((failed + 1)); echo "FAILED: no hint to run gen"; }

echo "deploy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
