"""The local real stack: Apache Kafka, ZooKeeper and ClickHouse as processes."""
