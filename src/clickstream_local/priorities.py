"""Who gets the cores first when the whole stack shares one small machine.

In production each component has machines (or CPU requests) of its own. Here
three brokers, up to four ClickHouse servers, ZooKeeper, the API and the ETL
share two cores, and the kernel's autogroup scheduling shares them between
sessions first: every component is a session of its own
(`processes.start`), so each gets the same share unless its session's nice
value says otherwise. Measured with full chaos runs (docs/chaos.md).
"""

from __future__ import annotations

# The ClickHouse servers yield: a lower priority keeps the API answering while
# they restart or load metadata. Not the brokers: the API's answer waits for
# their acknowledgement (with the brokers at nice 5, full chaos runs had the
# API answer 6-219 requests 503, acknowledged past the deadline, while the four
# ClickHouse servers restarted). Not ZooKeeper: its sessions expire when it is
# slow to answer.
CLICKHOUSE_NICE = 10

# The API comes first: its master and two workers share one session, where
# each broker and ClickHouse server has one. At 0, in a full chaos run under
# faults, the API's processes ran 19-28 s and waited 37-43 s for a CPU; at -5
# they ran 20-27 s and waited 16-22 s. Needs root (CAP_SYS_NICE); without it
# the API runs at 0.
API_NICE = -5
