{{- define "ephemera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ephemera.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "ephemera.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "ephemera.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels of every object. Deliberately not app.kubernetes.io/managed-by=ephemera: that label
     marks what the workflows own and the reconciler reaps; Helm owns these objects. */}}
{{- define "ephemera.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ephemera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: ephemera
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ephemera.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ephemera.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "ephemera.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "ephemera.workerServiceAccount" -}}
{{- printf "%s-worker" (include "ephemera.fullname" .) }}
{{- end }}

{{- define "ephemera.apiServiceAccount" -}}
{{- printf "%s-api" (include "ephemera.fullname" .) }}
{{- end }}

{{/* Environment both roles share: secrets by reference only, never as values. */}}
{{- define "ephemera.commonEnv" -}}
- name: SPRING_CONFIG_ADDITIONAL_LOCATION
  value: optional:file:/etc/ephemera/config/
- name: EPHEMERA_GITLAB_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.gitlab.existingSecret }}
      key: {{ .Values.gitlab.tokenKey }}
{{- if .Values.temporal.apiKey.existingSecret }}
- name: SPRING_TEMPORAL_CONNECTION_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.temporal.apiKey.existingSecret }}
      key: {{ .Values.temporal.apiKey.key }}
{{- end }}
{{- if and .Values.codec.enabled .Values.codec.existingSecret }}
{{- /* One variable per key: Spring binds EPHEMERA_CODEC_KEYS_<ID> to the map entry
       ephemera.codec.keys.<id> (a single EPHEMERA_CODEC_KEYS would bind to no map). */}}
{{- range .Values.codec.keyIds }}
- name: EPHEMERA_CODEC_KEYS_{{ upper . }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.codec.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ephemera.volumeMounts" -}}
- name: config
  mountPath: /etc/ephemera/config
  readOnly: true
# The root filesystem is read-only; Tomcat, the JVM and gRPC's native transport need a scratch /tmp.
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-tls
  mountPath: /etc/ephemera/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.vault.tls.caCertSecret }}
- name: vault-ca
  mountPath: /etc/ephemera/vault-ca
  readOnly: true
{{- end }}
{{- end }}

{{- define "ephemera.volumes" -}}
- name: config
  configMap:
    name: {{ include "ephemera.fullname" . }}-config
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.clientCertSecret }}
{{- end }}
{{- if .Values.vault.tls.caCertSecret }}
- name: vault-ca
  secret:
    secretName: {{ .Values.vault.tls.caCertSecret }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end }}

{{- define "ephemera.probes" -}}
startupProbe:
  httpGet:
    path: /actuator/health/liveness
    port: http
  periodSeconds: 5
  failureThreshold: 36
livenessProbe:
  httpGet:
    path: /actuator/health/liveness
    port: http
  periodSeconds: 10
readinessProbe:
  httpGet:
    path: /actuator/health/readiness
    port: http
  periodSeconds: 5
{{- end }}

{{- define "ephemera.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/path: /actuator/prometheus
prometheus.io/port: "8080"
{{- end }}
{{- end }}
