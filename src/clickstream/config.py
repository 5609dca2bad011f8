"""One settings tree, the only reader of the environment.

Every value comes from `CLICKSTREAM_*` variables (nested with `__`, for
example `CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS`). `OTEL_*` variables are left to
the OpenTelemetry SDK. Build `Settings()` once at the entry point and pass it
down. The development stack's `CLICKSTREAM_LOCAL__*` variables are not read
here (clickstream_local/settings.py reads them): production has no local ports.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Section):
    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "clickstream.events"
    dlq_topic: str = "clickstream.events.dlq"
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    request_timeout_ms: int = Field(default=30_000, gt=0)


class TimePolicySettings(_Section):
    """The accepted window for an event's time, relative to when the API received it.

    Applied after the clock correction (`event_time = timestamp + received_at -
    sent_at`), so no `sent_at` can move an event outside it. One day ahead
    covers a client clock in a wrong zone (at most 14 hours) when it sends no
    `sent_at`. Five years back covers offline queues and replays with room to
    spare, keeps the contract's examples (dated 2024-10-03) valid until
    October 2029, and bounds the months one ETL batch can touch: five years
    back and a day ahead span at most 62 monthly partitions, under ClickHouse's
    limit of 100 per insert (`max_partitions_per_insert_block`); the upper
    bounds below keep that true for any setting (2,800 days + 30 days < 96
    months).
    """

    max_future_s: int = Field(default=86_400, ge=0, le=30 * 86_400)
    max_past_days: int = Field(default=1_826, ge=1, le=2_800)
    # The measured skew (received_at - sent_at) includes the network's latency,
    # which differs between a request and its retry. A retried event must get
    # the same event_time, or the replacing engine (its key holds event_time)
    # keeps two rows: skews under this are taken as zero (a synced clock plus
    # latency), larger ones are rounded to a multiple of it, so the correction
    # is accurate to half of it and only a retry whose latency straddles a
    # rounding edge can land in another second.
    skew_quantum_s: int = Field(default=10, ge=1, le=3_600)


class ApiSettings(_Section):
    host: str = "0.0.0.0"
    port: int = 8000
    workers: int = Field(default=2, ge=1)
    # Deadline for one Kafka acknowledgement; past it the client gets 503.
    produce_timeout_s: float = Field(default=5.0, gt=0)
    retry_after_s: int = Field(default=1, ge=1)
    # Requests arriving within this window share one Kafka batch per partition.
    linger_ms: float = Field(default=2.0, ge=0)
    # Applies after gzip decompression too.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # A client must deliver its whole body within this, or get 408: a client
    # that trickles one byte every few seconds cannot hold a request open.
    body_read_timeout_s: float = Field(default=10.0, gt=0)
    # Requests waiting for a Kafka acknowledgement per worker; past it, 503.
    max_in_flight: int = Field(default=20_000, ge=1)
    cors_allow_origins: list[str] = []
    # Public per-site tokens; when any is set, ingest without one gets 401
    # (docs/privacy.md). Empty: off.
    write_keys: list[str] = []
    # gunicorn: a worker silent this long is restarted; a request body must
    # arrive within keepalive/timeouts so a slow client cannot hold a worker.
    worker_timeout_s: int = Field(default=30, ge=1)
    graceful_timeout_s: int = Field(default=20, ge=1)
    keepalive_s: int = Field(default=5, ge=1)
    time_policy: TimePolicySettings = TimePolicySettings()


class ClickHouseSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 9000
    # Further nodes to fail over to, "host:port,host:port".
    alt_hosts: str = ""
    database: str = "clickstream"
    user: str = "default"
    password: SecretStr = SecretStr("")
    cluster: str = "clickstream"
    # single: ReplacingMergeTree on one node; cluster: Replicated* through
    # ZooKeeper/Keeper with `{shard}`/`{replica}` macros.
    replicated: bool = False
    connect_timeout_s: float = Field(default=5.0, gt=0)
    send_receive_timeout_s: float = Field(default=30.0, gt=0)
    # How long a DDL statement ON CLUSTER waits for every node to run it
    # (ClickHouse's distributed_ddl_task_timeout). The server sends nothing
    # until the last node is done, so a DDL connection reads that long.
    ddl_timeout_s: int = Field(default=180, gt=0)


class EtlSettings(_Section):
    group_id: str = "clickstream-etl"
    # Rows per insert; a batch also goes after batch_max_wait_s. Larger batches
    # cost ClickHouse less per row when catching up on a backlog.
    batch_max_rows: int = Field(default=25_000, ge=1)
    batch_max_wait_s: float = Field(default=1.0, gt=0)
    retry_initial_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=15.0, gt=0)
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 9108
    max_partition_fetch_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    # ClickHouse's max_partitions_per_insert_block: an insert block spanning
    # more months (partitions of events_local) is refused, so it is split.
    max_partitions_per_insert: int = Field(default=100, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLICKSTREAM_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    kafka: KafkaSettings = KafkaSettings()
    api: ApiSettings = ApiSettings()
    clickhouse: ClickHouseSettings = ClickHouseSettings()
    etl: EtlSettings = EtlSettings()
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: str = "INFO"
