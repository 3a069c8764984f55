# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dynalert_global_optspecs
    string join \n h/help V/version
end

function __fish_dynalert_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dynalert_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dynalert_using_subcommand
    set -l cmd (__fish_dynalert_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dynalert -n "__fish_dynalert_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_needs_command" -s V -l version -d 'Print version'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "init" -d 'Start a new conf.d: the catalogue of the shipped rule packs and one example tenant'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "tenant" -d 'Add a tenant file to a conf.d'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "validate" -d 'Check a conf.d directory and report every problem at once'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "effective" -d 'Print what threshold-exporter would serve from a conf.d, at any instant'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "schema" -d 'Write the JSON Schema of platform and tenant files'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "man" -d 'Print or write the manual pages'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "alertmanager" -d 'Generate a tenant-scoped alertmanager.yml from a conf.d'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "explain-route" -d 'Explain which receivers get an alert with the given labels, and why'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "rules" -d 'Check the rule packs against the catalogue, and generate regex-threshold rules'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "lab" -d 'Start, inspect and stop the local lab of real servers'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "scenario" -d 'Run the acceptance scenarios against the running lab'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "inspect-tenant" -d 'Show one tenant end to end, as the running Prometheus sees it'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "verify-threshold" -d 'Check that config, exporters, recording rule and alert state agree for one key'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "bench" -d 'Measure per-tenant against dynamic rules, and the exporter\'s costs, on a real Prometheus'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "deploy" -d 'Render and check the Helm chart offline for a values file and a conf.d'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "migrate" -d 'Turn static per-tenant alert rules into a conf.d, and report what was left alone'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "backtest" -d 'Replay past observations against a conf.d: how often each key would have fired'
complete -c dynalert -n "__fish_dynalert_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and not __fish_seen_subcommand_from new help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and not __fish_seen_subcommand_from new help" -f -a "new" -d 'Write a tenant file listing every catalogue key with its current default'
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and not __fish_seen_subcommand_from new help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and __fish_seen_subcommand_from new" -l dir -d 'The conf.d directory whose platform files define the catalogue' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "new" -d 'Write a tenant file listing every catalogue key with its current default'
complete -c dynalert -n "__fish_dynalert_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand validate" -l rules -d 'Rule files to be deployed (read recursively): every regex row must be armed by them' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand effective" -l tenant -d 'Only this tenant' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand effective" -l at -d 'Resolve at this instant (RFC 3339) instead of now' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand effective" -l format -d 'What to print' -r -f -a "prom\t'Prometheus exposition text, exactly as the exporter serves it'
json\t'Per tenant, key and tier: value, state and the file:line it came from'"
complete -c dynalert -n "__fish_dynalert_using_subcommand effective" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand schema" -l dir -d 'Write `platform.schema.json` and `tenant.schema.json` into this directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand schema" -l check -d 'Do not write; exit 1 when the committed files differ from the generated ones'
complete -c dynalert -n "__fish_dynalert_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand completions" -l dir -d 'Write the bash, zsh and fish scripts into this directory instead' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand completions" -l check -d 'With `--dir`: write nothing; exit 1 when the scripts there differ'
complete -c dynalert -n "__fish_dynalert_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand man" -l dir -d 'Write `dynalert.1` and one page per command into this directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand man" -l check -d 'With `--dir`: write nothing; exit 1 when the pages there differ'
complete -c dynalert -n "__fish_dynalert_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and not __fish_seen_subcommand_from diff help" -l base -d 'An existing alertmanager.yml to merge into (its global settings, templates, time intervals, receivers, child routes and inhibit rules are kept)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and not __fish_seen_subcommand_from diff help" -s o -l output -d 'Write here (atomically, only when changed) instead of to stdout' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and not __fish_seen_subcommand_from diff help" -l reload-url -d 'After writing, POST Alertmanager\'s reload endpoint at this URL (e.g. `http://127.0.0.1:9093`, `/-/reload` is added when the URL has no path)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and not __fish_seen_subcommand_from diff help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and not __fish_seen_subcommand_from diff help" -a "diff" -d 'Show what a conf.d change does to the Alertmanager routing'
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and not __fish_seen_subcommand_from diff help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show what a conf.d change does to the Alertmanager routing'
complete -c dynalert -n "__fish_dynalert_using_subcommand alertmanager; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand explain-route" -s l -l labels -d 'Alert labels, e.g. `tenant=db-a,severity=critical,alertname=MariaDBHighConnections` (may be repeated)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand explain-route" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and not __fish_seen_subcommand_from coverage regex recipes help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and not __fish_seen_subcommand_from coverage regex recipes help" -f -a "coverage" -d 'Print which alerts read each catalogue key; fail on unarmed or unknown keys'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and not __fish_seen_subcommand_from coverage regex recipes help" -f -a "regex" -d 'Write each pack\'s regex-thresholds.yaml for the regex rows of a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and not __fish_seen_subcommand_from coverage regex recipes help" -f -a "recipes" -d 'Write the rules of the _custom_alerts recipes of a conf.d, one per recipe shape'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and not __fish_seen_subcommand_from coverage regex recipes help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from coverage" -l packs -d 'The rule packs directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from coverage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from regex" -l packs -d 'The rule packs directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from regex" -l check -d 'Do not write; exit 1 when a committed file differs'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from regex" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from recipes" -l out -d 'The rule file to write' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from recipes" -l check -d 'Do not write; exit 1 when the file differs'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from recipes" -l prometheus-rule -d 'Write a Prometheus Operator `PrometheusRule` object instead of a rule file'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from recipes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "coverage" -d 'Print which alerts read each catalogue key; fail on unarmed or unknown keys'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "regex" -d 'Write each pack\'s regex-thresholds.yaml for the regex rows of a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "recipes" -d 'Write the rules of the _custom_alerts recipes of a conf.d, one per recipe shape'
complete -c dynalert -n "__fish_dynalert_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and not __fish_seen_subcommand_from up status down helper help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and not __fish_seen_subcommand_from up status down helper help" -f -a "up" -d 'Start every part on free 127.0.0.1 ports and wait until all are ready'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and not __fish_seen_subcommand_from up status down helper help" -f -a "status" -d 'Show every part, its pid, whether it runs, and its URL'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and not __fish_seen_subcommand_from up status down helper help" -f -a "down" -d 'Stop exactly the processes `up` started'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and not __fish_seen_subcommand_from up status down helper help" -f -a "helper" -d 'The webhook sink and the simulated Kubernetes endpoint (started by `up`)'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and not __fish_seen_subcommand_from up status down helper help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from up" -l dir -d 'The lab directory (data, logs, lab.json)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from up" -l repo -d 'Repository root holding `rules/packs/` and `examples/lab/` (default: found from the current directory or the binary\'s location)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from up" -l exporter -d 'The `threshold-exporter` binary (default: next to this binary, then PATH)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from up" -l timeout -d 'Seconds every part together may take to become ready' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from up" -l engine -d 'The engine that scrapes, stores and evaluates the rule packs: `prometheus`, or `victoriametrics` (vmagent ×2, single-node VictoriaMetrics, vmalert)' -r -f -a "prometheus\t''
victoriametrics\t''"
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from status" -l dir -d 'The lab directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from down" -l dir -d 'The lab directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -l sink-listen -d 'The webhook sink: listen address (port 0: the port bound is logged)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -l sim-listen -d 'The simulated Kubernetes endpoint: listen address' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -l sink-file -d 'The webhook sink: the file notifications are appended to' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -l query-listen -d 'The query front (VictoriaMetrics engine): listen address' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -l query-backend -d 'The query front: VictoriaMetrics\' URL' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -l rules-backend -d 'The query front: vmalert\'s URL' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from helper" -s h -l help -d 'Print help'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "up" -d 'Start every part on free 127.0.0.1 ports and wait until all are ready'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show every part, its pid, whether it runs, and its URL'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "down" -d 'Stop exactly the processes `up` started'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "helper" -d 'The webhook sink and the simulated Kubernetes endpoint (started by `up`)'
complete -c dynalert -n "__fish_dynalert_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run one scenario, or `all` of them in order'
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and __fish_seen_subcommand_from run" -l dir -d 'The lab directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and __fish_seen_subcommand_from run" -l format -d 'A table for people, or a JSON report for scripts (progress goes to stderr either way)' -r -f -a "text\t''
json\t''"
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and __fish_seen_subcommand_from run" -l repeat -d 'Run the scenario this many times (latency figures: min/median/max over the runs)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run one scenario, or `all` of them in order'
complete -c dynalert -n "__fish_dynalert_using_subcommand scenario; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand inspect-tenant" -l prometheus.url -d 'Prometheus to ask (default: the running lab\'s)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand inspect-tenant" -l config.dir -d 'The conf.d directory (default: the running lab\'s)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand inspect-tenant" -l lab.dir -d 'The lab directory, used for defaults and the webhook sink\'s records' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand inspect-tenant" -l format -d 'Text for people, or JSON for scripts' -r -f -a "text\t''
json\t''"
complete -c dynalert -n "__fish_dynalert_using_subcommand inspect-tenant" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand verify-threshold" -l prometheus.url -d 'Prometheus to ask (default: the running lab\'s)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand verify-threshold" -l config.dir -d 'The conf.d directory (default: the running lab\'s)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand verify-threshold" -l lab.dir -d 'The lab directory, used for defaults and the webhook sink\'s records' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand verify-threshold" -l format -d 'Text for people, or JSON for scripts' -r -f -a "text\t''
json\t''"
complete -c dynalert -n "__fish_dynalert_using_subcommand verify-threshold" -l json -d 'Same as `--format json` (kept for scripts written before `--format`)'
complete -c dynalert -n "__fish_dynalert_using_subcommand verify-threshold" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and not __fish_seen_subcommand_from rules exporter help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and not __fish_seen_subcommand_from rules exporter help" -f -a "rules" -d 'Per-tenant rules against the dynamic rule packs on a real Prometheus'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and not __fish_seen_subcommand_from rules exporter help" -f -a "exporter" -d 'The exporter\'s costs: cold load, one-file reload, scrape latency, memory'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and not __fish_seen_subcommand_from rules exporter help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l tenants -d 'Tenant counts, comma-separated' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l keys -d 'Threshold keys per tenant' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l interval -d 'Scrape and evaluation interval (default 15s, 3s with `--quick`)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l out -d 'Output directory for rules.txt, rules.json, rules.svg and the generated inputs' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l variants -d 'Variants of the dynamic set: `lean` (the rule packs), `joined-runbook` (the packs before `tenant:runbook:info`), `pre-joined` (before the metadata was read once per pack), `per-key` (before the comparison was recorded once per key), `single`, `inline`, `meta-once`, `recorded-labels` (the packs with the alerts\' labels set by the recording rules)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l cycles -d 'Measured evaluation cycles (default 4, 2 with `--quick`)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l prometheus -d 'The Prometheus binary' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l promtool -d 'The promtool binary' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l engine -d 'Engines that evaluate every set on the same fixture, in turn: `prometheus` (scrapes and evaluates), `vmalert` (single-node VictoriaMetrics scrapes, vmalert evaluates)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l victoria-metrics -d 'The victoria-metrics binary (`--engine vmalert`)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l vmalert -d 'The vmalert binary (`--engine vmalert`)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l saturation-limit -d 'Longest wait for a saturated Prometheus before measuring it over the time it had' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l from-json -d 'Do not measure: re-render rules.txt and rules.svg in `--out` from this rules.json' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l quick -d 'Fewer and shorter cycles (harness check, not a measurement)'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l skip-per-tenant -d 'Measure only the dynamic variants (to compare them faster; no scaling comparison)'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -l profile -d 'Save Prometheus\' CPU profile over the measured cycles of every set evaluated by Prometheus: `prometheus-cpu.pprof` in the set\'s directory under `--out` (read it with `go tool pprof -top FILE`)'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from rules" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from exporter" -l tenants -d 'Tenant counts, comma-separated' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from exporter" -l keys -d 'Threshold keys per tenant' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from exporter" -l scrapes -d 'Sequential `/metrics` requests to time' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from exporter" -l out -d 'Output directory for exporter.txt and exporter.json' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from exporter" -l exporter -d 'The threshold-exporter binary (default: next to this binary, then PATH)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from exporter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "rules" -d 'Per-tenant rules against the dynamic rule packs on a real Prometheus'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "exporter" -d 'The exporter\'s costs: cold load, one-file reload, scrape latency, memory'
complete -c dynalert -n "__fish_dynalert_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Render and check the Helm chart offline for a values file and a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from check" -s f -l values -d 'A values file of the chart (repeatable; later files win)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from check" -s o -l output -d 'Write the rendered objects (multi-document YAML) here' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from check" -l repo -d 'Checkout holding `deploy/` (default: found from the current directory upwards)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from check" -l tools -d 'Directory of the installed deploy tools (Python venv with the Helm engine and schemas)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from help" -f -a "check" -d 'Render and check the Helm chart offline for a values file and a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand deploy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -l out -d 'The conf.d directory to write (must not exist or be empty)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -l packs -d 'The rule packs directory (which observations are catalogue keys)' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -l tenant-label -d 'The label that holds the tenant id in the old rules\' selectors' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -l report -d 'Also write the report to this file' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -l promtool -d 'The promtool binary `--prove` runs' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -l prove -d 'Prove the conversion: evaluate the old copies and the new rules (packs, recipes, exporter series of the written conf.d) on the same generated series with `promtool test rules`; fail unless both fire the same alerts at every step'
complete -c dynalert -n "__fish_dynalert_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l prometheus -d 'Base URL of the Prometheus that holds the observations' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l from -d 'Start (RFC 3339)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l to -d 'End (RFC 3339)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l against -d 'Another conf.d to compare with' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l packs -d 'The rule packs directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l step -d 'Evaluation step in seconds (the rule evaluation interval)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l svg -d 'Also write an SVG timeline per tenant and key that would have fired into this directory' -r -F
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l read -d 'How observations are read: `remote` reads the raw samples with Prometheus\' remote read API (`/api/v1/read`, streamed chunks) and evaluates `max by(tenant) (<selector>)` here, `query` has Prometheus evaluate them with `query_range`, `auto` uses remote read when the server streams it (not VictoriaMetrics). Observations of another shape (`rate`, `sum`, …) always use `query_range`' -r -f -a "auto\t''
remote\t''
query\t''"
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l jobs -d 'Keys read at once (default: the number of CPUs, at most 4)' -r
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -l served -d 'Compare with what Prometheus recorded instead of `--against`: the thresholds the exporters served (`tenant:alert_threshold:<key>`, outside `user_maintenance`) replayed, and the firing intervals of the pack alert in `ALERTS`'
complete -c dynalert -n "__fish_dynalert_using_subcommand backtest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "init" -d 'Start a new conf.d: the catalogue of the shipped rule packs and one example tenant'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "tenant" -d 'Add a tenant file to a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "validate" -d 'Check a conf.d directory and report every problem at once'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "effective" -d 'Print what threshold-exporter would serve from a conf.d, at any instant'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "schema" -d 'Write the JSON Schema of platform and tenant files'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "completions" -d 'Print a shell completion script'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "man" -d 'Print or write the manual pages'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "alertmanager" -d 'Generate a tenant-scoped alertmanager.yml from a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "explain-route" -d 'Explain which receivers get an alert with the given labels, and why'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "rules" -d 'Check the rule packs against the catalogue, and generate regex-threshold rules'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "lab" -d 'Start, inspect and stop the local lab of real servers'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "scenario" -d 'Run the acceptance scenarios against the running lab'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "inspect-tenant" -d 'Show one tenant end to end, as the running Prometheus sees it'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "verify-threshold" -d 'Check that config, exporters, recording rule and alert state agree for one key'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "bench" -d 'Measure per-tenant against dynamic rules, and the exporter\'s costs, on a real Prometheus'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "deploy" -d 'Render and check the Helm chart offline for a values file and a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "migrate" -d 'Turn static per-tenant alert rules into a conf.d, and report what was left alone'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "backtest" -d 'Replay past observations against a conf.d: how often each key would have fired'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and not __fish_seen_subcommand_from init tenant validate effective schema completions man alertmanager explain-route rules lab scenario inspect-tenant verify-threshold bench deploy migrate backtest help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "new" -d 'Write a tenant file listing every catalogue key with its current default'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from alertmanager" -f -a "diff" -d 'Show what a conf.d change does to the Alertmanager routing'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "coverage" -d 'Print which alerts read each catalogue key; fail on unarmed or unknown keys'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "regex" -d 'Write each pack\'s regex-thresholds.yaml for the regex rows of a conf.d'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "recipes" -d 'Write the rules of the _custom_alerts recipes of a conf.d, one per recipe shape'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "up" -d 'Start every part on free 127.0.0.1 ports and wait until all are ready'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "status" -d 'Show every part, its pid, whether it runs, and its URL'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "down" -d 'Stop exactly the processes `up` started'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "helper" -d 'The webhook sink and the simulated Kubernetes endpoint (started by `up`)'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from scenario" -f -a "run" -d 'Run one scenario, or `all` of them in order'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "rules" -d 'Per-tenant rules against the dynamic rule packs on a real Prometheus'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "exporter" -d 'The exporter\'s costs: cold load, one-file reload, scrape latency, memory'
complete -c dynalert -n "__fish_dynalert_using_subcommand help; and __fish_seen_subcommand_from deploy" -f -a "check" -d 'Render and check the Helm chart offline for a values file and a conf.d'
