complete -c threshold-exporter -l config.dir -d 'Directory of platform (`_*.yaml`) and tenant (`<tenant>.yaml`) files' -r -F
complete -c threshold-exporter -l web.listen-address -d 'Address to listen on (`:9531` listens on every interface)' -r
complete -c threshold-exporter -l web.telemetry-path -d 'Path under which metrics are served' -r
complete -c threshold-exporter -l web.config.file -d 'Web config file (exporter-toolkit format) enabling TLS and basic auth' -r -F
complete -c threshold-exporter -l log.level -d 'Minimum level logged' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c threshold-exporter -l log.format -d 'Log line format' -r -f -a "logfmt\t''
json\t''"
complete -c threshold-exporter -l storage.path -d 'File keeping the last good effective config across restarts' -r -F
complete -c threshold-exporter -l prometheus.url -d 'Prometheus running the rule packs: `/tenants/{id}` then shows observations and alert states' -r
complete -c threshold-exporter -l config.poll-interval -d 'Interval of the fallback poll (stat only; reads files whose stamp changed)' -r
complete -c threshold-exporter -l config.watch -d 'Watch the config directory with inotify (`--config.watch=false` relies on the poll)' -r -f -a "true\t''
false\t''"
complete -c threshold-exporter -l config.max-file-size -d 'Largest config file accepted (`512KiB`, `1MiB`, bytes when bare); larger files are rejected without being read' -r
complete -c threshold-exporter -l config.max-depth -d 'Deepest nesting of lists and mappings in a config file' -r
complete -c threshold-exporter -l config.max-nodes -d 'Most YAML nodes in one config file, aliases counted as the nodes they repeat' -r
complete -c threshold-exporter -l config.settle-delay -d 'A file modified less than this long ago is not read yet: it may be mid-write' -r
complete -c threshold-exporter -l web.max-connections -d 'Most concurrent HTTP connections; further connections wait to be accepted' -r
complete -c threshold-exporter -l web.enable-lifecycle -d 'Enable `POST /-/reload` (as Prometheus\' `--web.enable-lifecycle`); off by default'
complete -c threshold-exporter -s h -l help -d 'Print help (see more with \'--help\')'
complete -c threshold-exporter -s V -l version -d 'Print version'
