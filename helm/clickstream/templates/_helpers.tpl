{{/*
Names. The full name is also the name of the Kafka cluster, the
ClickHouseInstallation and the ClickHouseKeeperInstallation, so the service
names the operators derive from them are predictable (see the helpers below).
*/}}
{{- define "clickstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "clickstream.fullname" -}}
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

{{- define "clickstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "clickstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clickstream
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "ingest"). */}}
{{- define "clickstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clickstream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Metadata labels of one component; same arguments as selectorLabels. */}}
{{- define "clickstream.componentLabels" -}}
{{ include "clickstream.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "clickstream.componentName" -}}
{{- printf "%s-%s" (include "clickstream.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "clickstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "clickstream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "clickstream.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* ------------------------------------------------------------------ Kafka */}}

{{/* Strimzi names the bootstrap Service "<cluster>-kafka-bootstrap". */}}
{{- define "clickstream.kafka.bootstrapServers" -}}
{{- if .Values.kafka.create }}
{{- printf "%s-kafka-bootstrap:9092" (include "clickstream.fullname" .) }}
{{- else }}
{{- required "kafka.external.bootstrapServers is required when kafka.create is false" .Values.kafka.external.bootstrapServers }}
{{- end }}
{{- end }}

{{/* Port of the first bootstrap server, for NetworkPolicy egress rules. */}}
{{- define "clickstream.kafka.port" -}}
{{- $first := first (splitList "," (include "clickstream.kafka.bootstrapServers" .)) | trim }}
{{- last (splitList ":" $first) }}
{{- end }}

{{- define "clickstream.kafka.securityProtocol" -}}
{{- if .Values.kafka.create }}
{{- ternary "SASL_PLAINTEXT" "PLAINTEXT" .Values.kafka.auth.enabled }}
{{- else }}
{{- .Values.kafka.external.securityProtocol }}
{{- end }}
{{- end }}

{{- define "clickstream.kafka.saslEnabled" -}}
{{- if hasPrefix "SASL_" (include "clickstream.kafka.securityProtocol" .) }}true{{ end }}
{{- end }}

{{- define "clickstream.kafka.saslMechanism" -}}
{{- if .Values.kafka.create }}SCRAM-SHA-512{{ else }}{{ .Values.kafka.external.sasl.mechanism }}{{ end }}
{{- end }}

{{/* The KafkaUser of one component; Strimzi writes its Secret under the same name. */}}
{{- define "clickstream.kafka.userName" -}}
{{- include "clickstream.componentName" . }}
{{- end }}

{{/*
SASL credentials of one component as YAML {username, secretName, secretKey};
call with (dict "root" $ "component" "ingest").
*/}}
{{- define "clickstream.kafka.credentials" -}}
{{- $v := .root.Values.kafka }}
{{- if $v.create }}
username: {{ include "clickstream.kafka.userName" . }}
secretName: {{ include "clickstream.kafka.userName" . }}
secretKey: password
{{- else }}
username: {{ required "kafka.external.sasl.username is required for SASL" $v.external.sasl.username }}
secretName: {{ required "kafka.external.sasl.passwordSecret.name is required for SASL" $v.external.sasl.passwordSecret.name }}
secretKey: {{ $v.external.sasl.passwordSecret.key }}
{{- end }}
{{- end }}

{{/* Kafka settings of one component; call with (dict "root" $ "component" "ingest"). */}}
{{- define "clickstream.kafka.env" -}}
{{- $root := .root -}}
- name: CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS
  value: {{ include "clickstream.kafka.bootstrapServers" $root | quote }}
- name: CLICKSTREAM_KAFKA__TOPIC
  value: {{ $root.Values.kafka.topics.events.name | quote }}
- name: CLICKSTREAM_KAFKA__DLQ_TOPIC
  value: {{ $root.Values.kafka.topics.deadLetter.name | quote }}
- name: CLICKSTREAM_KAFKA__SECURITY_PROTOCOL
  value: {{ include "clickstream.kafka.securityProtocol" $root | quote }}
{{- if include "clickstream.kafka.saslEnabled" $root }}
{{- $creds := include "clickstream.kafka.credentials" . | fromYaml }}
- name: CLICKSTREAM_KAFKA__SASL_MECHANISM
  value: {{ include "clickstream.kafka.saslMechanism" $root | quote }}
- name: CLICKSTREAM_KAFKA__SASL_USERNAME
  value: {{ $creds.username | quote }}
- name: CLICKSTREAM_KAFKA__SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $creds.secretName }}
      key: {{ $creds.secretKey }}
{{- end }}
{{- end }}

{{/*
The ETL's maximum replica count, checked against the events topic: a consumer
group never has more active members than the topic has partitions.
*/}}
{{- define "clickstream.etl.maxReplicas" -}}
{{- $max := int .Values.etl.autoscaling.maxReplicas }}
{{- $partitions := int .Values.kafka.topics.events.partitions }}
{{- if gt $max $partitions }}
{{- fail (printf "etl.autoscaling.maxReplicas (%d) must not exceed kafka.topics.events.partitions (%d): extra consumers would sit idle" $max $partitions) }}
{{- end }}
{{- if gt (int .Values.etl.autoscaling.minReplicas) $max }}
{{- fail "etl.autoscaling.minReplicas must not exceed etl.autoscaling.maxReplicas" }}
{{- end }}
{{- $max }}
{{- end }}

{{/* ------------------------------------------------------------- ClickHouse */}}

{{/* The Altinity operator names the Service of a ClickHouseInstallation X "clickhouse-X". */}}
{{- define "clickstream.clickhouse.host" -}}
{{- if .Values.clickhouse.create }}
{{- printf "clickhouse-%s" (include "clickstream.fullname" .) }}
{{- else }}
{{- required "clickhouse.external.host is required when clickhouse.create is false" .Values.clickhouse.external.host }}
{{- end }}
{{- end }}

{{- define "clickstream.clickhouse.port" -}}
{{- if .Values.clickhouse.create }}9000{{ else }}{{ .Values.clickhouse.external.port }}{{ end }}
{{- end }}

{{/* ... and a ClickHouseKeeperInstallation X "keeper-X" (client port 2181). */}}
{{- define "clickstream.keeper.host" -}}
{{- printf "keeper-%s" (include "clickstream.fullname" .) }}
{{- end }}

{{- define "clickstream.clickhouse.secretName" -}}
{{- default (printf "%s-clickhouse-auth" (include "clickstream.fullname" .)) .Values.clickhouse.auth.secretName }}
{{- end }}

{{- define "clickstream.clickhouse.passwordKey" -}}
{{- printf "%s-password" . }}
{{- end }}

{{/* ClickHouse settings for one user; call with (dict "root" $ "user" "etl"). */}}
{{- define "clickstream.clickhouse.env" -}}
{{- $root := .root }}
{{- $ch := $root.Values.clickhouse -}}
- name: CLICKSTREAM_CLICKHOUSE__HOST
  value: {{ include "clickstream.clickhouse.host" $root | quote }}
- name: CLICKSTREAM_CLICKHOUSE__PORT
  value: {{ include "clickstream.clickhouse.port" $root | quote }}
- name: CLICKSTREAM_CLICKHOUSE__DATABASE
  value: {{ $ch.database | quote }}
- name: CLICKSTREAM_CLICKHOUSE__CLUSTER
  value: {{ $ch.cluster | quote }}
- name: CLICKSTREAM_CLICKHOUSE__REPLICATED
  value: {{ ternary true $ch.external.replicated $ch.create | quote }}
- name: CLICKSTREAM_CLICKHOUSE__USER
  value: {{ (get $ch.users .user).name | quote }}
- name: CLICKSTREAM_CLICKHOUSE__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "clickstream.clickhouse.secretName" $root }}
      key: {{ include "clickstream.clickhouse.passwordKey" .user }}
{{- end }}

{{/* ---------------------------------------------------------- OpenTelemetry */}}

{{/* Both the chart's Deployment and the operator name the Service "<fullname>-otel-collector". */}}
{{- define "clickstream.otel.endpoint" -}}
{{- if .Values.otelCollector.enabled }}
{{- printf "http://%s-otel-collector:4318" (include "clickstream.fullname" .) }}
{{- else }}
{{- .Values.otelCollector.externalEndpoint }}
{{- end }}
{{- end }}

{{/*
Settings every clickstream container gets: logging, OpenTelemetry and the pod's
identity; call with (dict "root" $ "service" "clickstream-api").
*/}}
{{- define "clickstream.commonEnv" -}}
{{- $root := .root -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: CLICKSTREAM_LOG_FORMAT
  value: {{ $root.Values.logFormat | quote }}
- name: CLICKSTREAM_LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: "k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),service.version={{ default $root.Chart.AppVersion $root.Values.image.tag }}"
{{- with include "clickstream.otel.endpoint" $root }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: http/protobuf
- name: OTEL_TRACES_EXPORTER
  value: otlp
{{- else }}
- name: OTEL_SDK_DISABLED
  value: "true"
{{- end }}
{{- end }}

{{/* ------------------------------------------------------------------- Pods */}}

{{/* Spread a component's pods over zones and nodes; call with (dict "root" $ "component" "ingest"). */}}
{{- define "clickstream.topologySpread" -}}
{{- $constraints := list }}
{{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
{{- $constraints = append $constraints (dict
  "maxSkew" 1
  "topologyKey" $key
  "whenUnsatisfiable" "ScheduleAnyway"
  "labelSelector" (dict "matchLabels" (include "clickstream.selectorLabels" $ | fromYaml))
  "matchLabelKeys" (list "pod-template-hash")) }}
{{- end }}
{{- toYaml $constraints }}
{{- end }}

{{/* Pod-level settings shared by every clickstream pod. */}}
{{- define "clickstream.podSpecCommon" -}}
serviceAccountName: {{ include "clickstream.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The writable /tmp every clickstream container mounts on its read-only root. */}}
{{- define "clickstream.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}

{{- define "clickstream.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Scheduling fields of a component's values (nodeSelector, tolerations, affinity). */}}
{{- define "clickstream.scheduling" -}}
{{- $fields := dict }}
{{- range $key := list "nodeSelector" "tolerations" "affinity" }}
{{- with get $ $key }}{{ $_ := set $fields $key . }}{{ end }}
{{- end }}
{{- with $fields }}{{ toYaml . }}{{ end }}
{{- end }}

{{/* A PodDisruptionBudget for a component; call with (dict "root" $ "component" "ingest" "pdb" .Values.ingest.podDisruptionBudget). */}}
{{- define "clickstream.podDisruptionBudget" -}}
{{- if .pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "clickstream.componentName" . }}
  labels:
    {{- include "clickstream.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "clickstream.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* ------------------------------------------------------ NetworkPolicies */}}

{{/*
Egress rules of a clickstream pod: DNS plus the backends it names; call with
(dict "root" $ "needs" (list "kafka" "clickhouse" "otel")). Chart-managed
backends are matched by their pods' labels, external ones by port only.
*/}}
{{- define "clickstream.networkPolicy.egress" -}}
{{- $root := .root }}
{{- $v := $root.Values -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- if has "kafka" .needs }}
- ports:
    - port: {{ include "clickstream.kafka.port" $root }}
      protocol: TCP
  {{- if $v.kafka.create }}
  to:
    - podSelector:
        matchLabels:
          strimzi.io/cluster: {{ include "clickstream.fullname" $root }}
          strimzi.io/kind: Kafka
  {{- end }}
{{- end }}
{{- if has "clickhouse" .needs }}
- ports:
    - port: {{ include "clickstream.clickhouse.port" $root }}
      protocol: TCP
  {{- if $v.clickhouse.create }}
  to:
    - podSelector:
        matchLabels:
          {{- include "clickstream.selectorLabels" (dict "root" $root "component" "clickhouse") | nindent 10 }}
  {{- end }}
{{- end }}
{{- if and (has "otel" .needs) (include "clickstream.otel.endpoint" $root) }}
- ports:
    - port: 4317
      protocol: TCP
    - port: 4318
      protocol: TCP
  {{- if $v.otelCollector.enabled }}
  to:
    - podSelector: {}
  {{- end }}
{{- end }}
{{- end }}

{{/* A NetworkPolicy peer list matching pods of this release with the given components. */}}
{{- define "clickstream.networkPolicy.fromComponents" -}}
{{- $root := .root }}
{{- $peers := list }}
{{- range .components }}
{{- $labels := include "clickstream.selectorLabels" (dict "root" $root "component" .) | fromYaml }}
{{- $peers = append $peers (dict "podSelector" (dict "matchLabels" $labels)) }}
{{- end }}
{{- toYaml $peers }}
{{- end }}
