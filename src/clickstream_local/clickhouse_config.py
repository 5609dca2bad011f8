"""A local ClickHouse node's server config and users, as the chart's ClickHouse has them."""

from __future__ import annotations

# Derived from the Debian package's config.xml: our own paths and ports, no TLS
# port, no include_from; caches sized for a 2-core, 24 GB machine running four.
CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>{workdir}/server.log</log>
    <errorlog>{workdir}/server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <interserver_http_port>{interserver_port}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>134217728</mark_cache_size>
  <path>{workdir}/data/</path>
  <tmp_path>{workdir}/data/tmp/</tmp_path>
  <user_files_path>{workdir}/data/user_files/</user_files_path>
  <format_schema_path>{workdir}/data/format_schemas/</format_schema_path>
  <users_config>{workdir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <max_table_size_to_drop>0</max_table_size_to_drop>
  <max_partition_size_to_drop>0</max_partition_size_to_drop>
  <remote_servers><{cluster}>{remote_servers}</{cluster}></remote_servers>
  {zookeeper}
  <macros><cluster>{cluster}</cluster><shard>{shard}</shard><replica>{replica}</replica></macros>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
</yandex>
"""


# The chart's users (helm/clickstream/templates/clickhouse.yaml) as far as
# ClickHouse 18.16 can say it: no GRANT there, only settings profiles
# (readonly, allow_ddl) and a per-user list of databases. The migrator owns
# DDL; the ETL may use only its own database (the door into the events and the
# suppression list; `default` because a connection opens in it) and no DDL, so
# it cannot read or drop the events; analysts read `clickstream` only.
# `default` stays for the servers' own Distributed connections and for tests,
# which create a database each. Local passwords are empty: only 127.0.0.1
# reaches these servers.
CLICKHOUSE_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>10000000000</max_memory_usage><load_balancing>random</load_balancing></default>
    <readonly><readonly>1</readonly></readonly>
    <etl><allow_ddl>0</allow_ddl></etl>
    <analyst><readonly>1</readonly><allow_ddl>0</allow_ddl></analyst>
  </profiles>
  <users>
    <default>
      <password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota>
    </default>
    <migrator>
      <password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota>
    </migrator>
    <etl>
      <password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>etl</profile><quota>default</quota>
      <allow_databases><database>clickstream_ingest</database><database>default</database></allow_databases>
    </etl>
    <analyst>
      <password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>analyst</profile><quota>default</quota>
      <allow_databases><database>clickstream</database></allow_databases>
    </analyst>
  </users>
  <quotas>
    <default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
  </quotas>
</yandex>
"""

# Who each part of the pipeline is to ClickHouse (see CLICKHOUSE_USERS).
MIGRATOR_USER = "migrator"
ETL_USER = "etl"
ANALYST_USER = "analyst"
ETL_DATABASE_SUFFIX = "_ingest"
