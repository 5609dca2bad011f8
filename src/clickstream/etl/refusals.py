"""Why ClickHouse refused an insert, by what to do about it.

Transient: the cluster cannot take rows now (network, timeouts, a read-only
or Keeper-less replica, memory, merges behind) -> retry the same block.
Deterministic: the rows themselves are wrong (types, parsing, too many
partitions in one block) -> bisect the block to find the rows, dead-letter
them, store the rest. Anything else is retried a few times on the unchanged
block, then treated as deterministic: a partition must never wait forever on
one row. Connection errors never count towards that bound: bisecting during an
outage would dead-letter every row.
"""

from __future__ import annotations

import enum

from clickstream.clickhouse.client import error_code

# An error of no known kind that repeats this often on the unchanged block is the block's fault.
UNKNOWN_ERROR_ATTEMPTS = 5

TOO_MANY_PARTS = 252
TRANSIENT_CODES = frozenset(
    {
        # A full disk: ClickHouse 18.16 reports the failed part write as
        # CANNOT_WRITE_TO_FILE_DESCRIPTOR (errno 28), later versions refuse the
        # reservation first. Never the rows' fault: retried until space is freed.
        75,  # CANNOT_WRITE_TO_FILE_DESCRIPTOR
        243,  # NOT_ENOUGH_SPACE
        159,  # TIMEOUT_EXCEEDED
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        225,  # NO_ZOOKEEPER
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        279,  # ALL_CONNECTION_TRIES_FAILED
        319,  # UNKNOWN_STATUS_OF_INSERT
        999,  # KEEPER_EXCEPTION
    }
)
DETERMINISTIC_CODES = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA
        130,  # CANNOT_READ_ARRAY_FROM_TEXT
        131,  # TOO_LARGE_STRING_SIZE
        354,  # ZLIB_INFLATE_FAILED
        376,  # CANNOT_PARSE_UUID
    }
)


class Verdict(enum.Enum):
    TRANSIENT = "transient"
    DETERMINISTIC = "deterministic"
    UNKNOWN = "unknown"


def classify(error: BaseException) -> Verdict:
    coded = error_code(error)
    if coded is None:
        return Verdict.TRANSIENT  # socket, EOF, timeout: the server is not answering
    code, message = coded
    if code == TOO_MANY_PARTS:
        # The same code for two faults: "Too many parts" (merges are behind,
        # wait) and "Too many partitions for single INSERT block" (the block's
        # own fault, deterministic).
        return Verdict.TRANSIENT if "too many parts" in message.lower() else Verdict.DETERMINISTIC
    if code in TRANSIENT_CODES:
        return Verdict.TRANSIENT
    if code in DETERMINISTIC_CODES:
        return Verdict.DETERMINISTIC
    return Verdict.UNKNOWN


def give_up_on_block(error: BaseException, failures: int) -> bool:
    """True when the unchanged block is at fault: bisect it rather than retry."""
    verdict = classify(error)
    if verdict is Verdict.DETERMINISTIC:
        return True
    return verdict is Verdict.UNKNOWN and failures >= UNKNOWN_ERROR_ATTEMPTS
