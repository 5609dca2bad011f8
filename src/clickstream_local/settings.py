"""Where the local stack runs on this machine: ports, state directory, topology.

Read from `CLICKSTREAM_LOCAL__*` variables (for example
`CLICKSTREAM_LOCAL__API_PORT`), the names they had when this section lived in
the product's settings tree; the chaos and hostile suites and developers'
shells still set them. The product's `Settings` ignores them: production knows
nothing of local ports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "CLICKSTREAM_LOCAL__"

Topology = Literal["single", "cluster"]


class LocalSettings(BaseSettings):
    # extra="forbid" with `_UnknownVariables`: a mistyped `CLICKSTREAM_LOCAL__*`
    # variable is refused rather than silently leaving a default port in place.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    topology: Topology = "single"
    state_dir: Path = Path(".cache/local")
    cache_dir: Path = Path(".cache")
    api_port: int = 8000
    kafka_port: int = 9092
    clickhouse_port: int = 9000
    clickhouse_http_port: int = 8123
    zookeeper_port: int = 2181
    etl_metrics_port: int = 9108
    # Number of partitions of the events topic the local stack creates.
    partitions: int = Field(default=6, ge=1)
    start_pipeline: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _UnknownVariables(settings_cls)


class _UnknownVariables(PydanticBaseSettingsSource):
    """Every `CLICKSTREAM_LOCAL__*` name that is no field, for validation to refuse.

    pydantic-settings' environment source skips names it does not know.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        prefix = ENV_PREFIX.lower()
        names = {name.lower(): value for name, value in os.environ.items()}
        return {
            name.removeprefix(prefix): value
            for name, value in names.items()
            if name.startswith(prefix)
            and name.removeprefix(prefix) not in self.settings_cls.model_fields
        }
