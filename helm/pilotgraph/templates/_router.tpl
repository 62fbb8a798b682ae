{{/*
Name of the router's objects.
*/}}
{{- define "pilotgraph.routerName" -}}
{{- printf "%s-router" (include "pilotgraph.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of the router pods only.
*/}}
{{- define "pilotgraph.routerSelectorLabels" -}}
{{ include "pilotgraph.selectorLabels" . }}
app.kubernetes.io/component: router
{{- end }}

{{/*
Name of the ConfigMap holding supergraph.graphql: the operator's published one, or the chart's.
*/}}
{{- define "pilotgraph.supergraphConfigMap" -}}
{{- default (include "pilotgraph.routerName" .) .Values.router.existingSupergraphConfigMap }}
{{- end }}

{{/*
Name of the ConfigMap holding the router's manifest.json (federated trusted documents), or empty.
In trusted mode the gateway runs the router's own queries, so the router must hold the manifest.
*/}}
{{- define "pilotgraph.routerTrustedDocuments" -}}
{{- $t := .Values.router.trustedDocuments }}
{{- if $t.existingConfigMap }}{{ $t.existingConfigMap }}
{{- else if $t.manifest }}{{ include "pilotgraph.routerName" . }}
{{- else if eq .Values.config.persistedOperations "trusted" }}
{{- fail "router.trustedDocuments.manifest (or existingConfigMap) is required when router.enabled and config.persistedOperations is trusted" }}
{{- end }}
{{- end }}
