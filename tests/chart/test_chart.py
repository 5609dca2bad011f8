"""The rendered chart: pod hardening, probes, autoscaling bounds, topics, and
that every name, port and secret one object refers to is the one another
object defines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .rendering import Manifest, RenderError, Rendering

Render = Callable[..., Rendering]

APP_COMPONENTS = ("ingest", "etl")


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Manifest) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def secret_ref(name: str, key: str) -> tuple[str, str, str]:
    return ("secret", name, key)


def env(workload: Manifest) -> dict[str, Any]:
    """Plain values by name; values from secrets as secret_ref(name, key)."""
    result: dict[str, Any] = {}
    for var in container(workload).get("env", []):
        if "value" in var:
            result[var["name"]] = var["value"]
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            result[var["name"]] = secret_ref(ref["name"], ref["key"])
    return result


def app_workloads(rendering: Rendering) -> list[Manifest]:
    deployments = [rendering.component("Deployment", c) for c in (*APP_COMPONENTS, "rollup")]
    return deployments + rendering.all("Job")


def port_number(workload: Manifest, name: str) -> int:
    ports = {p["name"]: p["containerPort"] for p in container(workload).get("ports", [])}
    assert name in ports, f"no container port named {name}"
    return int(ports[name])


# ---------------------------------------------------------------- pods


def test_app_pods_are_hardened(profile: Rendering) -> None:
    workloads = app_workloads(profile) + [
        d for d in profile.all("Deployment") if d["metadata"]["name"].endswith("otel-collector")
    ]
    for workload in workloads:
        pod = pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        security = container(workload)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]


def test_app_pods_mount_a_writable_tmp(profile: Rendering) -> None:
    for workload in app_workloads(profile):
        mounts = {m["mountPath"]: m["name"] for m in container(workload)["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]


def test_every_container_requests_cpu_and_memory_and_limits_memory(profile: Rendering) -> None:
    for workload in profile.all("Deployment") + profile.all("Job"):
        resources = container(workload)["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), workload["metadata"]["name"]
        assert "memory" in resources["limits"], workload["metadata"]["name"]


def test_ingest_probes_hit_the_api_port(profile: Rendering) -> None:
    ingest = profile.component("Deployment", "ingest")
    api = container(ingest)
    assert api["args"] == ["api"]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        port = port_number(ingest, api[probe]["httpGet"]["port"])
        assert port == int(env(ingest)["CLICKSTREAM_API__PORT"])


def test_etl_probes_hit_the_metrics_port(profile: Rendering) -> None:
    etl = profile.component("Deployment", "etl")
    worker = container(etl)
    assert worker["args"] == ["etl"]
    assert worker["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert worker["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe"):
        port = port_number(etl, worker[probe]["httpGet"]["port"])
        assert port == int(env(etl)["CLICKSTREAM_ETL__METRICS_PORT"])


def test_gunicorn_workers_come_from_values(render: Render) -> None:
    ingest = render(ingest__workers=5).component("Deployment", "ingest")
    assert env(ingest)["CLICKSTREAM_API__WORKERS"] == "5"


def test_ingest_drains_before_it_is_killed(profile: Rendering) -> None:
    ingest = profile.component("Deployment", "ingest")
    pre_stop = container(ingest)["lifecycle"]["preStop"]["sleep"]["seconds"]
    # gunicorn's default graceful timeout is 20 s.
    assert pod_spec(ingest)["terminationGracePeriodSeconds"] >= pre_stop + 20


def test_pods_spread_over_zones_and_nodes(profile: Rendering) -> None:
    for component in APP_COMPONENTS:
        deployment = profile.component("Deployment", component)
        constraints = pod_spec(deployment)["topologySpreadConstraints"]
        keys = {c["topologyKey"] for c in constraints}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        for constraint in constraints:
            assert constraint["labelSelector"]["matchLabels"].items() <= (
                deployment["spec"]["template"]["metadata"]["labels"].items()
            )


def test_pdbs_select_their_deployment(render: Render) -> None:
    rendering = render()
    for component in APP_COMPONENTS:
        pdb = rendering.component("PodDisruptionBudget", component)
        deployment = rendering.component("Deployment", component)
        assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


# ------------------------------------------------------------ autoscaling


def test_ingest_hpa_scales_the_ingest_deployment_on_cpu(profile: Rendering) -> None:
    hpa = profile.component("HorizontalPodAutoscaler", "ingest")
    deployment = profile.component("Deployment", "ingest")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    cpu = hpa["spec"]["metrics"][0]
    assert cpu["type"] == "Resource"
    assert cpu["resource"]["name"] == "cpu"
    # The HPA owns the replica count.
    assert "replicas" not in deployment["spec"]


def test_requests_per_second_metric_is_optional(render: Render) -> None:
    rendering = render(ingest__autoscaling__requestsPerSecond__enabled=True)
    metrics = rendering.component("HorizontalPodAutoscaler", "ingest")["spec"]["metrics"]
    assert [m["type"] for m in metrics] == ["Resource", "Pods"]


def test_keda_scales_etl_on_its_own_consumer_lag(profile: Rendering) -> None:
    scaled = profile.get("ScaledObject")
    etl = profile.component("Deployment", "etl")
    etl_env = env(etl)
    assert scaled["spec"]["scaleTargetRef"]["name"] == etl["metadata"]["name"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == etl_env["CLICKSTREAM_ETL__GROUP_ID"]
    assert trigger["metadata"]["topic"] == etl_env["CLICKSTREAM_KAFKA__TOPIC"]
    bootstrap = etl_env["CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS"]
    assert trigger["metadata"]["bootstrapServers"] == bootstrap
    assert "replicas" not in etl["spec"]


def test_keda_never_scales_past_the_partition_count(profile: Rendering) -> None:
    scaled = profile.get("ScaledObject")
    topic = events_topic(profile)
    spec = scaled["spec"]
    assert spec["minReplicaCount"] <= spec["maxReplicaCount"] <= topic["spec"]["partitions"]


@pytest.mark.parametrize("keda", [True, False])
def test_chart_refuses_more_etl_replicas_than_partitions(render: Render, keda: bool) -> None:
    too_many = r"maxReplicas \(13\) must not exceed .*partitions \(12\)"
    with pytest.raises(RenderError, match=too_many):
        render(
            etl__autoscaling__maxReplicas=13,
            etl__autoscaling__keda__enabled=keda,
            kafka__topics__events__partitions=12,
        )
    # The bound itself is allowed.
    render(etl__autoscaling__maxReplicas=12, kafka__topics__events__partitions=12)


def test_plain_hpa_replaces_keda_when_disabled(render: Render) -> None:
    rendering = render(etl__autoscaling__keda__enabled=False)
    assert rendering.all("ScaledObject") == []
    hpa = rendering.component("HorizontalPodAutoscaler", "etl")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "clickstream-etl"
    assert hpa["spec"]["maxReplicas"] <= events_topic(rendering)["spec"]["partitions"]


def test_fixed_replicas_without_autoscaling(render: Render) -> None:
    rendering = render(
        ingest__autoscaling__enabled=False, etl__autoscaling__enabled=False, etl__replicas=2
    )
    assert rendering.all("HorizontalPodAutoscaler") == rendering.all("ScaledObject") == []
    assert rendering.component("Deployment", "etl")["spec"]["replicas"] == 2


# ------------------------------------------------------------------ Kafka


def events_topic(rendering: Rendering) -> Manifest:
    name = env(rendering.component("Deployment", "etl"))["CLICKSTREAM_KAFKA__TOPIC"]
    return rendering.get("KafkaTopic", name)


def test_topics_are_replicated_and_named_as_the_pods_use_them(profile: Rendering) -> None:
    kafka = profile.get("Kafka")
    for component in APP_COMPONENTS:
        component_env = env(profile.component("Deployment", component))
        for var in ("CLICKSTREAM_KAFKA__TOPIC", "CLICKSTREAM_KAFKA__DLQ_TOPIC"):
            topic = profile.get("KafkaTopic", component_env[var])
            assert topic["spec"]["topicName"] == component_env[var]
            assert topic["spec"]["replicas"] == 3
            assert topic["spec"]["config"]["min.insync.replicas"] == 2
            assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]


def test_events_partitions_come_from_values(render: Render) -> None:
    rendering = render(kafka__topics__events__partitions=30, etl__autoscaling__maxReplicas=30)
    assert events_topic(rendering)["spec"]["partitions"] == 30
    assert rendering.get("ScaledObject")["spec"]["maxReplicaCount"] == 30


def test_pods_connect_to_the_strimzi_bootstrap_service(profile: Rendering) -> None:
    kafka = profile.get("Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    for component in APP_COMPONENTS:
        component_env = env(profile.component("Deployment", component))
        assert component_env["CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS"] == expected


def test_kraft_node_pools_have_enough_brokers_for_the_topics(profile: Rendering) -> None:
    kafka = profile.get("Kafka")
    pools = profile.all("KafkaNodePool")
    assert any("controller" in p["spec"]["roles"] for p in pools)
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    for topic in profile.all("KafkaTopic"):
        assert topic["spec"]["replicas"] <= brokers


def test_chart_refuses_topics_with_more_replicas_than_brokers(render: Render) -> None:
    with pytest.raises(RenderError, match="3 replicas but the node pools have only 1 brokers"):
        render(
            kafka__strimzi__nodePools=[
                {
                    "name": "solo",
                    "roles": ["controller", "broker"],
                    "replicas": 1,
                    "storage": {"type": "ephemeral"},
                }
            ]
        )


def test_scram_users_are_wired_into_pods_and_keda(render: Render) -> None:
    rendering = render("values-production.yaml")
    kafka = rendering.get("Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["authentication"]["type"] == "scram-sha-512"
    users = {u["metadata"]["name"]: u for u in rendering.all("KafkaUser")}
    for component in APP_COMPONENTS:
        component_env = env(rendering.component("Deployment", component))
        assert component_env["CLICKSTREAM_KAFKA__SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert component_env["CLICKSTREAM_KAFKA__SASL_MECHANISM"] == "SCRAM-SHA-512"
        username = component_env["CLICKSTREAM_KAFKA__SASL_USERNAME"]
        assert users[username]["spec"]["authentication"]["type"] == "scram-sha-512"
        # Strimzi's User Operator writes the password to a Secret named after the user.
        assert component_env["CLICKSTREAM_KAFKA__SASL_PASSWORD"] == secret_ref(username, "password")

    etl = rendering.component("Deployment", "etl")
    scaled = rendering.get("ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["metadata"]["sasl"] == "scram_sha512"
    auth = rendering.get("TriggerAuthentication", trigger["authenticationRef"]["name"])
    etl_env = env(etl)
    for parameter in auth["spec"]["env"]:
        assert parameter["containerName"] == container(etl)["name"]
        assert parameter["name"] in etl_env


def test_etl_user_may_read_events_and_write_dead_letters(render: Render) -> None:
    rendering = render(kafka__auth__enabled=True)
    acls = rendering.get("KafkaUser", "clickstream-etl")["spec"]["authorization"]["acls"]
    granted = {(a["resource"]["type"], a["resource"].get("name")): a["operations"] for a in acls}
    assert "Read" in granted[("topic", "clickstream.events")]
    assert "Read" in granted[("group", "clickstream-etl")]
    assert "Write" in granted[("topic", "clickstream.events.dlq")]
    ingest_acls = rendering.get("KafkaUser", "clickstream-ingest")["spec"]["authorization"]["acls"]
    assert {a["resource"].get("name") for a in ingest_acls} == {"clickstream.events", None}


def test_external_kafka_creates_no_strimzi_resources(render: Render) -> None:
    rendering = render(
        kafka__create=False,
        kafka__external__bootstrapServers="kafka-0.example:9093,kafka-1.example:9093",
        kafka__external__securityProtocol="SASL_SSL",
        kafka__external__sasl__username="clickstream",
        kafka__external__sasl__passwordSecret__name="kafka-credentials",
    )
    kinds = {o["kind"] for o in rendering.objects}
    assert kinds.isdisjoint({"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"})
    etl_env = env(rendering.component("Deployment", "etl"))
    bootstrap = etl_env["CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS"]
    assert bootstrap == "kafka-0.example:9093,kafka-1.example:9093"
    password = etl_env["CLICKSTREAM_KAFKA__SASL_PASSWORD"]
    assert password == secret_ref("kafka-credentials", "password")
    assert rendering.get("ScaledObject")["spec"]["triggers"][0]["metadata"]["tls"] == "enable"
    egress = rendering.get("NetworkPolicy", "clickstream-etl")["spec"]["egress"]
    assert {"port": 9093, "protocol": "TCP"} in [p for rule in egress for p in rule["ports"]]


def test_external_kafka_needs_bootstrap_servers(render: Render) -> None:
    with pytest.raises(RenderError, match=r"kafka\.external\.bootstrapServers is required"):
        render(kafka__create=False)


# ------------------------------------------------------------- ClickHouse


def test_etl_and_migrations_reach_the_operator_clickhouse_service(profile: Rendering) -> None:
    chi = profile.get("ClickHouseInstallation")
    (cluster,) = chi["spec"]["configuration"]["clusters"]
    for workload in (profile.component("Deployment", "etl"), profile.get("Job")):
        workload_env = env(workload)
        service = f"clickhouse-{chi['metadata']['name']}"
        assert workload_env["CLICKSTREAM_CLICKHOUSE__HOST"] == service
        assert workload_env["CLICKSTREAM_CLICKHOUSE__PORT"] == "9000"
        assert workload_env["CLICKSTREAM_CLICKHOUSE__CLUSTER"] == cluster["name"] == "clickstream"
        assert workload_env["CLICKSTREAM_CLICKHOUSE__DATABASE"] == "clickstream"
        assert workload_env["CLICKSTREAM_CLICKHOUSE__REPLICATED"] == "true"


def test_clickhouse_is_two_shards_of_two_replicas_on_keeper(profile: Rendering) -> None:
    chi = profile.get("ClickHouseInstallation")
    chk = profile.get("ClickHouseKeeperInstallation")
    (cluster,) = chi["spec"]["configuration"]["clusters"]
    assert cluster["layout"] == {"shardsCount": 2, "replicasCount": 2}
    (keeper,) = chi["spec"]["configuration"]["zookeeper"]["nodes"]
    assert keeper == {"host": f"keeper-{chk['metadata']['name']}", "port": 2181}


def test_clickhouse_users_share_the_pods_secret(profile: Rendering) -> None:
    users = profile.get("ClickHouseInstallation")["spec"]["configuration"]["users"]
    for workload in (profile.component("Deployment", "etl"), profile.get("Job")):
        workload_env = env(workload)
        user = workload_env["CLICKSTREAM_CLICKHOUSE__USER"]
        ref = users[f"{user}/password"]["valueFrom"]["secretKeyRef"]
        password = workload_env["CLICKSTREAM_CLICKHOUSE__PASSWORD"]
        assert password == secret_ref(ref["name"], ref["key"])


def test_clickhouse_users_have_least_privilege(profile: Rendering) -> None:
    users = profile.get("ClickHouseInstallation")["spec"]["configuration"]["users"]
    assert users["clickstream_etl/grants/query"] == [
        "GRANT INSERT ON clickstream.events_ingest",
        "GRANT INSERT ON clickstream.events",
        "GRANT INSERT ON clickstream.events_local",
        "GRANT SELECT ON clickstream.events_ingest",
        "GRANT SELECT ON clickstream_ingest.suppressed_ids",
    ]
    assert not any("clickstream.*" in grant for grant in users["clickstream_etl/grants/query"])
    assert users["clickstream_analyst/grants/query"] == ["GRANT SELECT ON clickstream.*"]
    assert users["clickstream_analyst/profile"] == "readonly"
    assert env(profile.get("Job"))["CLICKSTREAM_CLICKHOUSE__USER"] == "clickstream_migrator"
    # The API never talks to ClickHouse.
    ingest_env = env(profile.component("Deployment", "ingest"))
    assert not any(name.startswith("CLICKSTREAM_CLICKHOUSE__") for name in ingest_env)


def test_default_rendering_carries_no_secret_material(render: Render) -> None:
    assert render().all("Secret") == []


def test_generated_secret_has_every_users_password(render: Render) -> None:
    rendering = render(clickhouse__auth__generate=True)
    secret = rendering.get("Secret")
    users = rendering.get("ClickHouseInstallation")["spec"]["configuration"]["users"]
    referenced = {
        (v["valueFrom"]["secretKeyRef"]["name"], v["valueFrom"]["secretKeyRef"]["key"])
        for k, v in users.items()
        if k.endswith("/password")
    }
    assert referenced == {(secret["metadata"]["name"], key) for key in secret["data"]}


def test_migrations_hook_runs_once_clickhouse_can_exist(render: Render) -> None:
    hook = "helm.sh/hook"
    created = render().get("Job")["metadata"]["annotations"][hook]
    assert created == "post-install,pre-upgrade"
    external_job = render(clickhouse__create=False, clickhouse__external__host="ch.example")
    external = external_job.get("Job")["metadata"]["annotations"][hook]
    assert external == "pre-install,pre-upgrade"


def test_external_clickhouse_creates_no_operator_resources(render: Render) -> None:
    rendering = render(
        clickhouse__create=False,
        clickhouse__external__host="ch.example",
        clickhouse__external__port=9440,
        clickhouse__external__replicated=False,
    )
    kinds = {o["kind"] for o in rendering.objects}
    assert kinds.isdisjoint({"ClickHouseInstallation", "ClickHouseKeeperInstallation"})
    etl_env = env(rendering.component("Deployment", "etl"))
    assert etl_env["CLICKSTREAM_CLICKHOUSE__HOST"] == "ch.example"
    assert etl_env["CLICKSTREAM_CLICKHOUSE__PORT"] == "9440"
    assert etl_env["CLICKSTREAM_CLICKHOUSE__REPLICATED"] == "false"


def test_generated_passwords_need_a_chart_managed_clickhouse(render: Render) -> None:
    with pytest.raises(RenderError, match=r"clickhouse\.auth\.generate needs clickhouse\.create"):
        render(
            clickhouse__create=False,
            clickhouse__external__host="ch.example",
            clickhouse__auth__generate=True,
        )


# ---------------------------------------------------- ingress and network


def test_ingress_reaches_the_api_container(profile: Rendering) -> None:
    ingress = profile.component("Ingress", "ingest")
    service = profile.component("Service", "ingest")
    deployment = profile.component("Deployment", "ingest")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert path["path"].startswith("/api")
    assert backend["name"] == service["metadata"]["name"]
    (port,) = service["spec"]["ports"]
    assert backend["port"]["name"] == port["name"]
    port_number(deployment, port["targetPort"])
    assert service["spec"]["selector"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


def test_network_policies_open_the_paths_the_pipeline_uses(profile: Rendering) -> None:
    ingest = profile.get("NetworkPolicy", "clickstream-ingest")
    assert ingest["spec"]["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]
    etl_egress = profile.get("NetworkPolicy", "clickstream-etl")["spec"]["egress"]
    ports = {p["port"] for rule in etl_egress for p in rule["ports"]}
    assert {53, 9092, 9000, 4318} <= ports
    clickhouse = profile.get("NetworkPolicy", "clickstream-clickhouse")
    selected = clickhouse["spec"]["podSelector"]["matchLabels"]
    pod_labels = profile.get("ClickHouseInstallation")["spec"]["templates"]["podTemplates"][0][
        "metadata"
    ]["labels"]
    assert selected == pod_labels


def test_pods_export_telemetry_to_the_collector(profile: Rendering) -> None:
    operator_mode = bool(profile.all("OpenTelemetryCollector"))
    for workload in app_workloads(profile):
        workload_env = env(workload)
        assert workload_env["OTEL_TRACES_EXPORTER"] == "otlp"
        assert workload_env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
        assert workload_env["OTEL_SERVICE_NAME"].startswith("clickstream-")
        assert workload_env["CLICKSTREAM_LOG_FORMAT"] == "json"
        host, port = workload_env["OTEL_EXPORTER_OTLP_ENDPOINT"].removeprefix("http://").split(":")
        if operator_mode:
            # The operator names the Service "<collector>-collector".
            collector = profile.get("OpenTelemetryCollector")
            assert host == f"{collector['metadata']['name']}-collector"
            assert "4318" in str(collector["spec"]["config"]["receivers"]["otlp"])
        else:
            service = profile.get("Service", host)
            assert int(port) in {p["port"] for p in service["spec"]["ports"]}


def test_telemetry_off_without_a_collector(render: Render) -> None:
    ingest_env = env(render(otelCollector__enabled=False).component("Deployment", "ingest"))
    assert ingest_env["OTEL_SDK_DISABLED"] == "true"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in ingest_env
