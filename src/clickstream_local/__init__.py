"""The local real stack: Apache Kafka, ZooKeeper and ClickHouse as processes.

A development tool beside the product, not part of it: it is left out of the
wheel and the image, and nothing under `clickstream` imports it. It plugs
`clickstream local` into the product CLI through the `clickstream.commands`
entry-point group.
"""
