{{/* Name of the chart, truncated to the 63 characters of a label value. */}}
{{- define "dynalert.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name. */}}
{{- define "dynalert.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dynalert.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dynalert.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: threshold-exporter
{{- end -}}

{{- define "dynalert.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dynalert.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dynalert
{{- end -}}

{{- define "dynalert.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dynalert.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dynalert.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* ConfigMap key of a conf.d file: the relative path with `/` written as `_.` (keys cannot hold `/`); the volume's `items` put it back at its path. */}}
{{- define "dynalert.confdKey" -}}
{{- . | replace "/" "_." -}}
{{- end -}}

{{/* The conf.d files as a map of relative path -> content, for the `files` and `inline` sources. */}}
{{- define "dynalert.confdFiles" -}}
{{- $out := dict -}}
{{- if eq .Values.confd.source "files" -}}
{{- $prefix := "files/conf.d/" -}}
{{- range $path, $_ := .Files.Glob .Values.confd.filesGlob -}}
{{- $_ := set $out (trimPrefix $prefix $path) ($.Files.Get $path) -}}
{{- end -}}
{{- else if eq .Values.confd.source "inline" -}}
{{- range $path, $content := .Values.confd.files -}}
{{- $_ := set $out $path $content -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Directory the exporter reads (`--config.dir`). */}}
{{- define "dynalert.configDir" -}}
{{- if eq .Values.confd.source "gitSync" -}}
{{- printf "/git/current/%s" (trimPrefix "/" .Values.confd.gitSync.subPath) | trimSuffix "/" -}}
{{- else -}}
{{- .Values.confd.mountPath -}}
{{- end -}}
{{- end -}}

{{- define "dynalert.scheme" -}}
{{- if .Values.webConfig.tls -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/* The git-sync container body (without `name`), as init (`oneTime`) or sidecar. */}}
{{- define "dynalert.gitSyncContainer" -}}
{{- $v := .ctx.Values -}}
{{- $g := $v.confd.gitSync -}}
image: {{ $g.image }}
args:
  - --repo={{ $g.repo }}
  - --ref={{ $g.ref }}
  - --root=/git
  - --link=current
  - --period={{ $g.period }}
  {{- if .oneTime }}
  - --one-time
  {{- end }}
{{- if $g.credentialsSecret }}
env:
  - name: GITSYNC_USERNAME
    valueFrom: {secretKeyRef: {name: {{ $g.credentialsSecret }}, key: username}}
  - name: GITSYNC_PASSWORD
    valueFrom: {secretKeyRef: {name: {{ $g.credentialsSecret }}, key: password}}
{{- end }}
resources:
  {{- toYaml $g.resources | nindent 2 }}
securityContext:
  {{- toYaml $v.securityContext | nindent 2 }}
volumeMounts:
  - name: git
    mountPath: /git
  - name: git-tmp
    mountPath: /tmp
{{- end -}}
