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
(the ConfigMap does not exist yet when a pre-install hook runs). Call with (dict "root" $ "job" BOOL):
the Job gets no PILOTGRAPH_EDGE, since the trusted-documents manifest it names is not mounted there
and `db upgrade` does not serve requests. Empty settings are left out so the application's defaults
apply; config.extra adds settings the chart has no value for, but never overrides one it has.
*/}}
{{- define "pilotgraph.configData" -}}
{{- $root := .root -}}
{{- $c := $root.Values.config -}}
{{- if lt (int $root.Values.terminationGracePeriodSeconds) (add (int $c.shutdownTimeoutSeconds) 10 | int) }}
{{- fail "terminationGracePeriodSeconds must be at least config.shutdownTimeoutSeconds + 10 (the requests' grace, then up to 5 s to stop)" }}
{{- end }}
{{- $data := dict
  "PILOTGRAPH_ENVIRONMENT" $c.environment
  "PILOTGRAPH_GRAPHIQL" ($c.graphiql | toString)
  "PILOTGRAPH_LOG_JSON" ($c.logJson | toString)
  "PILOTGRAPH_GUARDRAIL_DROP" ($c.guardrailDrop | toString)
  "PILOTGRAPH_GUARDRAIL_MIN_ACTIVE" ($c.guardrailMinActive | int | toString)
  "PILOTGRAPH_GUARDRAIL_INTERVAL_S" ($c.guardrailIntervalSeconds | toString)
  "PILOTGRAPH_EVENT_RETENTION_MONTHS" ($c.eventRetentionMonths | int | toString)
  "PILOTGRAPH_EVENT_RETENTION_INTERVAL_S" ($c.eventRetentionIntervalSeconds | toString)
  "PILOTGRAPH_DATABASE_POOL_SIZE" ($c.databasePoolSize | int | toString)
  "PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S" ($c.databaseCommandTimeoutSeconds | toString)
  "PILOTGRAPH_SHUTDOWN_TIMEOUT_S" ($c.shutdownTimeoutSeconds | int | toString)
-}}
{{- if gt (int $c.maxInFlight) 0 }}
{{- $_ := set $data "PILOTGRAPH_MAX_IN_FLIGHT" ($c.maxInFlight | int | toString) }}
{{- end }}
{{- if $root.Values.metrics.enabled }}
{{- $_ := set $data "PILOTGRAPH_METRICS_PORT" ($root.Values.metrics.port | int | toString) }}
{{- $_ := set $data "PILOTGRAPH_METRICS_HOST" "0.0.0.0" }}
{{- else }}
{{- $_ := set $data "PILOTGRAPH_METRICS_PORT" "0" }}
{{- end }}
{{- /* Names the gateway answers by, besides baseDomain: webhooks may not point at them. */ -}}
{{- $fullname := include "pilotgraph.fullname" $root }}
{{- $hosts := list $fullname (printf "%s.%s" $fullname $root.Release.Namespace) (printf "%s.%s.svc" $fullname $root.Release.Namespace) }}
{{- if $root.Values.ingress.enabled }}
{{- $hosts = concat $hosts $root.Values.ingress.extraHosts }}
{{- end }}
{{- $_ := set $data "PILOTGRAPH_PUBLIC_HOSTS" (join "," $hosts) }}
{{- range $name, $value := dict "BASE_DOMAIN" $c.baseDomain "JWKS_URL" $c.jwksUrl "JWT_ISSUER" $c.jwtIssuer "JWT_AUDIENCE" $c.jwtAudience "OTLP_ENDPOINT" $c.otlpEndpoint "OIDC_ISSUER" $c.oidc.issuer "OIDC_CLIENT_ID" $c.oidc.clientId "OIDC_SCOPE" $c.oidc.scope }}
{{- if $value }}
{{- $_ := set $data (printf "PILOTGRAPH_%s" $name) $value }}
{{- end }}
{{- end }}
{{- $edge := include "pilotgraph.edge" $root | fromJson }}
{{- if and $edge (not .job) }}
{{- $_ := set $data "PILOTGRAPH_EDGE" ($edge | toJson) }}
{{- end }}
{{- range $name, $value := $c.extra }}
{{- if hasKey $data $name }}
{{- fail (printf "config.extra.%s is a setting the chart renders from its own value: set that value instead" $name) }}
{{- end }}
{{- $_ := set $data $name ($value | toString) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/*
PILOTGRAPH_EDGE as JSON: config.edge, with the persisted-operations mode and the mounted manifest's
path from config.persistedOperations and trustedDocuments. "{}" when nothing is set.
*/}}
{{- define "pilotgraph.edge" -}}
{{- $edge := deepCopy .Values.config.edge }}
{{- range list "persisted" "trusted_manifest" }}
{{- if hasKey $edge . }}
{{- fail (printf "config.edge.%s is set by the chart: use config.persistedOperations and trustedDocuments" .) }}
{{- end }}
{{- end }}
{{- with .Values.config.persistedOperations }}
{{- $_ := set $edge "persisted" . }}
{{- end }}
{{- if include "pilotgraph.trustedDocumentsSource" . }}
{{- $_ := set $edge "trusted_manifest" (include "pilotgraph.trustedManifestPath" .) }}
{{- else if eq .Values.config.persistedOperations "trusted" }}
{{- fail "config.persistedOperations \"trusted\" needs a manifest: --set-file trustedDocuments.manifest=manifest.json or trustedDocuments.existingConfigMap" }}
{{- end }}
{{- $edge | toJson }}
{{- end }}

{{/*
Name of the ConfigMap holding the trusted-documents manifest: the operator's, or the chart's when
trustedDocuments.manifest is given; empty when there is none.
*/}}
{{- define "pilotgraph.trustedDocumentsSource" -}}
{{- $t := .Values.trustedDocuments }}
{{- if and $t.manifest $t.existingConfigMap }}
{{- fail "trustedDocuments: set manifest or existingConfigMap, not both" }}
{{- end }}
{{- if $t.existingConfigMap }}
{{- $t.existingConfigMap }}
{{- else if $t.manifest }}
{{- printf "%s-trusted-documents" (include "pilotgraph.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Where the gateway reads the trusted-documents manifest (a read-only ConfigMap volume).
*/}}
{{- define "pilotgraph.trustedManifestPath" -}}
{{- printf "%s/%s" .Values.trustedDocuments.mountPath .Values.trustedDocuments.key }}
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
Secret environment variables. Call with (dict "root" $ "secret" NAME "admin" BOOL). The owner-role
URL is given only to the migrations Job (admin true): the gateway connects as the RLS-bound app role.
A key the release needs (pilotgraph.secretKeyNeeded) is a required reference, so a Secret without it
stops the pod at creation instead of starting a gateway without it; with a chart-made Secret the
other keys are left out, with an existing Secret they are optional references.
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
{{- $needed := include "pilotgraph.secretKeyNeeded" (dict "root" $.root "key" .) }}
{{- if or $needed $.root.Values.secrets.existingSecret }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $.secret }}
      key: {{ . }}
      {{- if not $needed }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"true" when the release needs the optional Secret key .key: the chart-made Secret holds it, the
existing Secret is declared to hold it (secrets.existingSecretKeys), or the values require it
(the install-token key in production, the router token with the router).
*/}}
{{- define "pilotgraph.secretKeyNeeded" -}}
{{- $v := .root.Values }}
{{- $values := dict "PILOTGRAPH_JWT_SECRET" $v.secrets.jwtSecret "PILOTGRAPH_INSTALL_TOKEN_KEY" $v.secrets.installTokenKey "PILOTGRAPH_REDIS_URL" $v.secrets.redisUrl "PILOTGRAPH_ROUTER_TOKEN" $v.secrets.routerToken }}
{{- if or (has .key $v.secrets.existingSecretKeys) (and (not $v.secrets.existingSecret) (get $values .key)) }}true
{{- else if and (eq .key "PILOTGRAPH_INSTALL_TOKEN_KEY") (eq $v.config.environment "production") }}true
{{- else if and (eq .key "PILOTGRAPH_ROUTER_TOKEN") $v.router.enabled }}true
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
