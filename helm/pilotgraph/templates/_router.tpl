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
