{{/*
Chart name, overridable.
*/}}
{{- define "pilotgraph.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters (DNS label limit).
If the release name already contains the chart name, it is used as is.
*/}}
{{- define "pilotgraph.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version for the helm.sh/chart label.
*/}}
{{- define "pilotgraph.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "pilotgraph.labels" -}}
helm.sh/chart: {{ include "pilotgraph.chart" . }}
{{ include "pilotgraph.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels of the release.
*/}}
{{- define "pilotgraph.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pilotgraph.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selector labels of the gateway pods only. The component label keeps the migrations Job's pods
out of the Deployment, Service, PDB, NetworkPolicy and ServiceMonitor selectors.
*/}}
{{- define "pilotgraph.gatewaySelectorLabels" -}}
{{ include "pilotgraph.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
Labels of the metrics Service: the ServiceMonitor selects it, and never the API Service.
*/}}
{{- define "pilotgraph.metricsServiceLabels" -}}
{{ include "pilotgraph.selectorLabels" . }}
app.kubernetes.io/component: metrics
{{- end }}

{{/*
Name of the ServiceAccount the gateway uses.
*/}}
{{- define "pilotgraph.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pilotgraph.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference.
*/}}
{{- define "pilotgraph.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Name of the Secret the gateway reads: the operator's existing one, or the chart's.
*/}}
{{- define "pilotgraph.secretName" -}}
{{- default (include "pilotgraph.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Name of the Secret the migrations Job reads. With a chart-made Secret this is a hook-weighted copy,
because a pre-install hook runs before the release's own Secret exists.
*/}}
{{- define "pilotgraph.migrationsSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrations" (include "pilotgraph.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Non-secret environment as a YAML map: the ConfigMap's data, and the migrations Job's inline env
(the ConfigMap does not exist yet when a pre-install hook runs). Empty settings are left out so the
application's defaults apply.
*/}}
{{- define "pilotgraph.configData" -}}
{{- $c := .Values.config -}}
PILOTGRAPH_ENVIRONMENT: {{ $c.environment | quote }}
PILOTGRAPH_GRAPHIQL: {{ $c.graphiql | toString | quote }}
PILOTGRAPH_LOG_JSON: {{ $c.logJson | toString | quote }}
PILOTGRAPH_GUARDRAIL_DROP: {{ $c.guardrailDrop | toString | quote }}
PILOTGRAPH_GUARDRAIL_MIN_ACTIVE: {{ $c.guardrailMinActive | int | toString | quote }}
PILOTGRAPH_GUARDRAIL_INTERVAL_S: {{ $c.guardrailIntervalSeconds | toString | quote }}
PILOTGRAPH_DATABASE_POOL_SIZE: {{ $c.databasePoolSize | int | toString | quote }}
PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S: {{ $c.databaseCommandTimeoutSeconds | toString | quote }}
PILOTGRAPH_SHUTDOWN_TIMEOUT_S: {{ $c.shutdownTimeoutSeconds | int | toString | quote }}
{{- if gt (int $c.maxInFlight) 0 }}
PILOTGRAPH_MAX_IN_FLIGHT: {{ $c.maxInFlight | int | toString | quote }}
{{- end }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add (int $c.shutdownTimeoutSeconds) 10 | int) }}
{{- fail "terminationGracePeriodSeconds must be at least config.shutdownTimeoutSeconds + 10 (the requests' grace, then up to 5 s to stop)" }}
{{- end }}
{{- if .Values.metrics.enabled }}
PILOTGRAPH_METRICS_PORT: {{ .Values.metrics.port | int | toString | quote }}
PILOTGRAPH_METRICS_HOST: "0.0.0.0"
{{- else }}
PILOTGRAPH_METRICS_PORT: "0"
{{- end }}
{{- with $c.baseDomain }}
PILOTGRAPH_BASE_DOMAIN: {{ . | quote }}
{{- end }}
{{- with $c.jwksUrl }}
PILOTGRAPH_JWKS_URL: {{ . | quote }}
{{- end }}
{{- with $c.jwtIssuer }}
PILOTGRAPH_JWT_ISSUER: {{ . | quote }}
{{- end }}
{{- with $c.jwtAudience }}
PILOTGRAPH_JWT_AUDIENCE: {{ . | quote }}
{{- end }}
{{- with $c.otlpEndpoint }}
PILOTGRAPH_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Secret data (base64) of a chart-made Secret. Call with (dict "root" $ "admin" BOOL). The owner-role
URL goes only into the migrations hook copy (admin true), which Helm deletes once the hooks succeed.
*/}}
{{- define "pilotgraph.secretData" -}}
{{- $s := .root.Values.secrets -}}
PILOTGRAPH_DATABASE_URL: {{ required "secrets.databaseUrl is required (or set secrets.existingSecret)" $s.databaseUrl | b64enc | quote }}
{{- if .admin }}
PILOTGRAPH_DATABASE_ADMIN_URL: {{ required "secrets.databaseAdminUrl is required while migrations.enabled is true" $s.databaseAdminUrl | b64enc | quote }}
{{- end }}
{{- with $s.jwtSecret }}
PILOTGRAPH_JWT_SECRET: {{ . | b64enc | quote }}
{{- end }}
{{- if eq .root.Values.config.environment "production" }}
PILOTGRAPH_INSTALL_TOKEN_KEY: {{ required "secrets.installTokenKey is required in production (or set secrets.existingSecret)" $s.installTokenKey | b64enc | quote }}
{{- else }}
{{- with $s.installTokenKey }}
PILOTGRAPH_INSTALL_TOKEN_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
{{- with $s.redisUrl }}
PILOTGRAPH_REDIS_URL: {{ . | b64enc | quote }}
{{- end }}
{{- if .root.Values.router.enabled }}
PILOTGRAPH_ROUTER_TOKEN: {{ required "secrets.routerToken is required when router.enabled is true (or set secrets.existingSecret)" $s.routerToken | b64enc | quote }}
{{- else }}
{{- with $s.routerToken }}
PILOTGRAPH_ROUTER_TOKEN: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Secret environment variables. Call with (dict "secret" NAME "admin" BOOL). The owner-role URL is
given only to the migrations Job (admin true): the gateway connects as the RLS-bound app role.
*/}}
{{- define "pilotgraph.secretEnv" -}}
- name: PILOTGRAPH_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: PILOTGRAPH_DATABASE_URL
{{- if .admin }}
- name: PILOTGRAPH_DATABASE_ADMIN_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: PILOTGRAPH_DATABASE_ADMIN_URL
{{- end }}
{{- range list "PILOTGRAPH_JWT_SECRET" "PILOTGRAPH_INSTALL_TOKEN_KEY" "PILOTGRAPH_REDIS_URL" "PILOTGRAPH_ROUTER_TOKEN" }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $.secret }}
      key: {{ . }}
      optional: true
{{- end }}
{{- end }}

{{/*
Ingress host names as a YAML list, derived from config.baseDomain and ingress.hostMode.
*/}}
{{- define "pilotgraph.ingressHosts" -}}
{{- $domain := required "config.baseDomain is required when ingress.enabled is true" .Values.config.baseDomain }}
{{- if eq .Values.ingress.hostMode "wildcard" }}
- {{ printf "*.%s" $domain | quote }}
{{- else }}
{{- if not .Values.ingress.tenants }}
{{- fail "ingress.tenants must list at least one tenant slug when ingress.hostMode is \"tenants\"" }}
{{- end }}
{{- range .Values.ingress.tenants }}
- {{ printf "%s.%s" . $domain | quote }}
{{- end }}
{{- end }}
{{- range .Values.ingress.extraHosts }}
- {{ . | quote }}
{{- end }}
{{- end }}
