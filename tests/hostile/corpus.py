"""Hand-written hostile requests, each with the one status the API must answer.

Every case is the exact bytes put on the wire (see raw_http), so a lying
Content-Length or a broken chunk reaches the server as written.
"""

from __future__ import annotations

import copy
import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from clickstream.events import EXAMPLES
from tests.hostile.api_process import BODY_READ_TIMEOUT_S, MAX_BODY_BYTES
from tests.hostile.raw_http import chunked, request_bytes

SINGLE = "/api/v1/events"
BATCH = "/api/v1/events/batch"
JSON = "application/json"
# An answer within this unless the case waits out a deadline; a rejection
# costs the server microseconds, an acceptance one Kafka acknowledgement.
PROMPT_S = 5.0
# The read deadline is measured by the server from its first body read;
# the answer may come a little later over loopback on a busy 2-core machine.
DEADLINE_SLACK_S = 1.5


@dataclass(frozen=True)
class Case:
    id: str
    expected: int
    request: bytes = field(repr=False)
    why: str
    # A fragment the answer's body must contain: the reason, not just the code.
    says: str = ""
    within_s: float = PROMPT_S
    # For deadlines: the answer must not come before the deadline passed.
    not_before_s: float = 0.0


def _event(kind: str = "click", **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLES[kind])
    body.update(fields)
    return body


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


VALID = _dumps({"event": _event()})
QUALITY = _dumps({"event": _event("quality_change")})
# Placeholders for raw JSON that json.dumps cannot write (NaN, 10**100, bad bytes).
ELEMENT = _dumps({"event": _event(element="@ELEMENT@")})


def post(
    body: bytes,
    *,
    path: str = SINGLE,
    content_type: str | None = JSON,
    headers: tuple[tuple[str, str | bytes], ...] = (),
    length: str | None = "auto",
) -> bytes:
    """A POST with these exact headers; `length="auto"` is the honest Content-Length."""
    sent: list[tuple[str, str | bytes]] = []
    if content_type is not None:
        sent.append(("Content-Type", content_type))
    if length == "auto":
        sent.append(("Content-Length", str(len(body))))
    elif length is not None:
        sent.append(("Content-Length", length))
    return request_bytes("POST", path, [*sent, *headers], body)


def gzipped(body: bytes, **options: Any) -> bytes:
    return post(gzip.compress(body), headers=(("Content-Encoding", "gzip"),), **options)


def padded(body: bytes, size: int) -> bytes:
    """`body` (a JSON object) grown to exactly `size` bytes with insignificant whitespace."""
    assert body.endswith(b"}") and size >= len(body)
    return body[:-1] + b" " * (size - len(body)) + b"}"


def element(raw: bytes) -> bytes:
    """A POST of the valid click with `raw` as the JSON text of its `element` value."""
    return post(ELEMENT.replace(b'"@ELEMENT@"', raw))


def current_time(raw: bytes) -> bytes:
    """A POST of the valid quality change with `raw` as its `current_time`."""
    return post(QUALITY.replace(b'"current_time":3600', b'"current_time":' + raw))


def _keys_body(count: int, key: str) -> bytes:
    return b"{" + b",".join(b'"%s":0' % (key % i).encode() for i in range(count)) + b"}"


# 100,000 distinct keys fit under the limit when short, and do not when named k0..k99999.
KEYS_UNDER_LIMIT = _keys_body(100_000, "%x")
KEYS_OVER_LIMIT = _keys_body(100_000, "key%05d")
assert len(KEYS_UNDER_LIMIT) < MAX_BODY_BYTES < len(KEYS_OVER_LIMIT)
DUPLICATES = VALID[:-2] + b',"element":"x"' * 60_000 + b"}}"
assert len(DUPLICATES) < MAX_BODY_BYTES
BOMB = gzip.compress(b"0" * 10_000_000, 9)
assert len(BOMB) < 20_000


def _batch(count: int, *extra: dict[str, Any]) -> bytes:
    return _dumps({"events": [_event() for _ in range(count)] + list(extra)})


# fmt: off
CASES: list[Case] = [
    # -- size, after decompression too ------------------------------------------
    Case("size-over-limit", 413, post(padded(VALID, MAX_BODY_BYTES + 100_000)),
         "an honest Content-Length over 1 MiB is refused before the body is read",
         says="body larger than"),
    Case("size-exactly-limit", 200, post(padded(VALID, MAX_BODY_BYTES)),
         "the limit is inclusive: exactly 1 MiB is an ordinary event"),
    Case("size-limit-plus-one", 413, post(padded(VALID, MAX_BODY_BYTES + 1)),
         "one byte over the limit is too large", says="body larger than"),
    Case("size-declared-huge-expect-continue", 413,
         post(b"", length=str(10 * MAX_BODY_BYTES), headers=(("Expect", "100-continue"),)),
         "a client asking to send 10 MiB is refused before it sends anything",
         says="body larger than"),
    Case("size-chunked-oversize", 413,
         post(chunked(padded(VALID, 2 * MAX_BODY_BYTES)), length=None,
              headers=(("Transfer-Encoding", "chunked"),)),
         "chunked bodies have no Content-Length; the running count stops them",
         says="body larger than"),
    Case("size-chunked-small-chunks", 200,
         post(chunked(VALID, chunk_size=7), length=None, headers=(("Transfer-Encoding", "chunked"),)),
         "chunked framing itself is fine"),
    # -- gzip -------------------------------------------------------------------
    Case("gzip-bomb-10mb-zeros", 413, post(BOMB, headers=(("Content-Encoding", "gzip"),)),
         "10 MB of zeros in 10 KB of gzip: inflated at most limit+1 bytes, then refused",
         says="decompressed body larger than"),
    Case("gzip-exactly-limit", 200, gzipped(padded(VALID, MAX_BODY_BYTES)),
         "the limit after decompression is inclusive too"),
    Case("gzip-limit-plus-one", 413, gzipped(padded(VALID, MAX_BODY_BYTES + 1)),
         "one decompressed byte over the limit", says="decompressed body larger than"),
    Case("gzip-text-plain-beacon", 200, gzipped(VALID, content_type="text/plain"),
         "navigator.sendBeacon sends text/plain; gzip on top is accepted"),
    Case("gzip-truncated", 400,
         post(gzip.compress(VALID)[:-10], headers=(("Content-Encoding", "gzip"),)),
         "a gzip stream cut short is a broken body", says="truncated"),
    Case("gzip-not-gzip", 400, post(VALID, headers=(("Content-Encoding", "gzip"),)),
         "Content-Encoding: gzip over plain JSON is a broken body", says="not valid gzip"),
    Case("gzip-multi-member", 200,
         post(gzip.compress(VALID[:20]) + gzip.compress(VALID[20:]),
              headers=(("Content-Encoding", "gzip"),)),
         "RFC 1952 allows several members; all are read"),
    Case("gzip-upper-case-coding", 200,
         post(gzip.compress(VALID), headers=(("Content-Encoding", "GZIP"),)),
         "content codings are case-insensitive"),
    Case("encoding-br", 415, post(VALID, headers=(("Content-Encoding", "br"),)),
         "only gzip and identity are decoded", says="Content-Encoding"),
    Case("encoding-deflate", 415, post(VALID, headers=(("Content-Encoding", "deflate"),)),
         "deflate is not offered", says="Content-Encoding"),
    Case("encoding-gzip-twice", 415,
         post(gzip.compress(gzip.compress(VALID)), headers=(("Content-Encoding", "gzip, gzip"),)),
         "stacked codings are not unwrapped (each layer could be a bomb)",
         says="Content-Encoding"),
    Case("encoding-identity", 200, post(VALID, headers=(("Content-Encoding", "identity"),)),
         "identity is no coding at all"),
    # -- Content-Length and framing -----------------------------------------------
    Case("length-larger-than-sent", 408, post(VALID, length=str(len(VALID) + 100)),
         "a body that stops short of its Content-Length is given up at the read deadline",
         says="not received within", not_before_s=BODY_READ_TIMEOUT_S,
         within_s=BODY_READ_TIMEOUT_S + DEADLINE_SLACK_S),
    Case("length-declared-nothing-sent", 408, post(b"", length="100"),
         "a client that declares a body and sends none is given up at the read deadline",
         says="not received within", within_s=BODY_READ_TIMEOUT_S + DEADLINE_SLACK_S),
    Case("length-smaller-than-sent", 422, post(VALID, length="10"),
         "the server reads what was declared; the rest is not part of the body",
         says="json_invalid"),
    Case("length-zero-with-body", 422, post(VALID, length="0"),
         "Content-Length: 0 means an empty body, whatever follows", says="json_invalid"),
    Case("length-non-numeric", 400, post(VALID, length="abc"),
         "uvicorn's parser refuses it before the app sees it", says="Invalid HTTP request"),
    Case("length-negative", 400, post(VALID, length="-1"),
         "a negative length is malformed", says="Invalid HTTP request"),
    Case("length-overflow", 400, post(VALID, length="9" * 30),
         "a length past 64 bits is malformed", says="Invalid HTTP request"),
    Case("length-duplicate", 400,
         post(VALID, headers=(("Content-Length", str(len(VALID) + 1)),)),
         "two Content-Length headers: refused, not guessed (request smuggling)",
         says="Invalid HTTP request"),
    Case("length-and-chunked", 400,
         post(chunked(VALID), length="5", headers=(("Transfer-Encoding", "chunked"),)),
         "Content-Length with Transfer-Encoding: refused (request smuggling)",
         says="Invalid HTTP request"),
    Case("chunked-bad-size", 400,
         post(b"zz\r\nabc\r\n0\r\n\r\n", length=None, headers=(("Transfer-Encoding", "chunked"),)),
         "a chunk size that is not hex is malformed", says="Invalid HTTP request"),
    Case("chunked-unterminated", 408,
         post(b"5\r\n" + VALID[:5] + b"\r\n", length=None,
              headers=(("Transfer-Encoding", "chunked"),)),
         "a chunked body that never ends is given up at the read deadline",
         says="not received within", not_before_s=BODY_READ_TIMEOUT_S,
         within_s=BODY_READ_TIMEOUT_S + DEADLINE_SLACK_S),
    # -- JSON structure -----------------------------------------------------------
    Case("json-nested-100k-arrays", 422, post(b"[" * 100_000),
         "the parser's recursion limit answers, not the stack", says="recursion limit"),
    Case("json-nested-100k-in-field", 422,
         element(b"[" * 100_000 + b"]" * 100_000), "deep nesting inside a valid event",
         says="recursion limit"),
    Case("json-100k-keys-under-limit", 422, post(KEYS_UNDER_LIMIT),
         "100,000 short keys parse in a fraction of a second; the detail lists at most 50",
         says="extra_forbidden"),
    Case("json-100k-keys-over-limit", 413, post(KEYS_OVER_LIMIT),
         "100,000 keys named key00000.. are over 1 MiB", says="body larger than"),
    Case("json-60k-duplicate-keys", 200, post(DUPLICATES),
         "duplicate keys: the last one wins, as in JSON.parse; 60k of them cost nothing"),
    Case("json-duplicate-key-last-valid", 200,
         post(b'{"event":{"bogus":1},"event":' + _dumps(_event()) + b"}"),
         "duplicate keys: the last value is the one validated and stored"),
    Case("json-duplicate-key-last-invalid", 422,
         post(b'{"event":' + _dumps(_event()) + b',"event":{"bogus":1}}'),
         "duplicate keys: an invalid last value is rejected even after a valid one"),
    Case("json-empty-body", 422, post(b""), "no body is not an event", says="json_invalid"),
    Case("json-empty-body-no-length", 422, post(b"", length=None),
         "no Content-Length and no body", says="json_invalid"),
    Case("json-whitespace-only", 422, post(b"  \r\n\t "), "whitespace is no value",
         says="json_invalid"),
    Case("json-null", 422, post(b"null"), "null is not an object", says="model_type"),
    Case("json-empty-array", 422, post(b"[]"), "[] is not an object", says="model_type"),
    Case("json-string", 422, post(b'"str"'), "a string is not an object", says="model_type"),
    Case("json-number", 422, post(b"1"), "a number is not an object", says="model_type"),
    Case("json-true", 422, post(b"true"), "a boolean is not an object", says="model_type"),
    Case("json-empty-object", 422, post(b"{}"), "the event is required", says="missing"),
    Case("json-trailing-garbage", 422, post(VALID + b" x"), "one document, nothing after it",
         says="trailing characters"),
    Case("json-trailing-comma", 422, post(VALID[:-1] + b",}"), "strict JSON",
         says="trailing comma"),
    Case("json-comment", 422, post(b"/* hi */" + VALID), "strict JSON: no comments",
         says="json_invalid"),
    Case("json-single-quotes", 422, post(VALID.replace(b'"', b"'")), "strict JSON: no single quotes",
         says="json_invalid"),
    Case("json-utf8-bom", 422, post(b"\xef\xbb\xbf" + VALID), "RFC 8259: no byte order mark",
         says="json_invalid"),
    Case("json-utf16", 422, post(VALID.decode().encode("utf-16")), "JSON is UTF-8 only",
         says="json_invalid"),
    Case("json-batch-on-single-route", 422, post(_batch(1)),
         "the single route wants {'event': ...}", says="extra_forbidden"),
    # -- numbers ----------------------------------------------------------------
    Case("number-1e400", 422, current_time(b"1e400"),
         "a float past double range is infinity, and not an integer", says="int_type"),
    Case("number-10e100-integer", 422, current_time(str(10**100).encode()),
         "a 101-digit integer is out of range", says="less_than_equal"),
    Case("number-2e64-as-string-field", 422,
         post(VALID.replace(b'"US"', str(2**64).encode())),
         "an integer past 64 bits where a string belongs", says="string_type"),
    Case("number-minus-1e30-user-id", 422,
         post(VALID.replace(b'"956939f6-7a98-4bf1-9949-500e5dd20fa0"', b"-1" + b"0" * 30)),
         "a negative integer past 64 bits", says="string_type"),
    Case("number-300-digits", 422, current_time(b"9" * 300),
         "too long to echo back; rejected as out of range", says="less_than_equal"),
    Case("number-4301-digits", 422, current_time(b"9" * 4301),
         "past the parser's integer size", says="number out of range"),
    Case("number-nan", 422, current_time(b"NaN"), "NaN is not JSON", says="int_type"),
    Case("number-infinity", 422, current_time(b"Infinity"), "Infinity is not JSON",
         says="int_type"),
    Case("number-minus-infinity", 422, current_time(b"-Infinity"), "-Infinity is not JSON",
         says="int_type"),
    Case("number-negative-seconds", 422, current_time(b"-1"), "seconds are >= 0",
         says="greater_than_equal"),
    # -- text -------------------------------------------------------------------
    Case("utf8-invalid-bytes", 422, element(b'"a\xff\xfeb"'),
         "bytes that are not UTF-8: the body is not JSON text", says="invalid unicode"),
    Case("utf8-overlong", 422, element(b'"a\xc0\xafb"'), "an overlong encoding of '/'",
         says="invalid unicode"),
    Case("utf8-encoded-surrogate", 422, element(b'"a\xed\xa0\x80b"'),
         "a surrogate encoded as UTF-8 bytes", says="invalid unicode"),
    Case("escape-lone-high-surrogate", 422, element(b'"\\ud800"'),
         "a lone \\ud800 escape is not Unicode text", says="json_invalid"),
    Case("escape-lone-low-surrogate", 422, element(b'"\\udc00"'),
         "a lone \\udc00 escape is not Unicode text", says="json_invalid"),
    Case("escape-surrogate-pair", 200, element(b'"\\ud83d\\ude00"'),
         "a proper surrogate pair is an emoji"),
    Case("escape-nul", 200, element(b'"a\\u0000b"'),
         "an escaped NUL is a valid JSON string and stored as such"),
    Case("raw-control-character", 422, element(b'"a\x01b"'),
         "unescaped control characters are not JSON", says="control character"),
    Case("string-too-long", 422, element(_dumps("a" * 513)), "element is at most 512",
         says="string_too_long"),
    # -- media type -------------------------------------------------------------
    Case("type-xml", 415, post(VALID, content_type="application/xml"),
         "only JSON, as application/json or text/plain", says="send JSON"),
    Case("type-multipart", 415, post(VALID, content_type="multipart/form-data; boundary=x"),
         "no form uploads", says="send JSON"),
    Case("type-form-urlencoded", 415, post(VALID, content_type="application/x-www-form-urlencoded"),
         "no HTML forms", says="send JSON"),
    Case("type-text-html", 415, post(VALID, content_type="text/html"), "not JSON",
         says="send JSON"),
    Case("type-empty", 415, post(VALID, content_type=""), "an empty media type is not JSON",
         says="send JSON"),
    Case("type-upper-case-with-charset", 200, post(VALID, content_type="APPLICATION/JSON; charset=utf-8"),
         "media types are case-insensitive; parameters are ignored"),
    Case("type-missing", 200, post(VALID, content_type=None),
         "no Content-Type at all: the body is read as JSON"),
    # -- batches ----------------------------------------------------------------
    Case("batch-500", 200, post(_batch(500), path=BATCH), "500 events is the maximum batch"),
    Case("batch-501", 422, post(_batch(501), path=BATCH), "501 events is one too many",
         says="too_long"),
    Case("batch-empty", 422, post(_batch(0), path=BATCH), "a batch has at least one event",
         says="too_short"),
    Case("batch-one-bad-of-500", 422, post(_batch(499, {"event_type": "click"}), path=BATCH),
         "all or nothing: one invalid event rejects the batch", says='"events",499'),
    # -- HTTP -------------------------------------------------------------------
    Case("method-get-on-post-route", 405, request_bytes("GET", SINGLE), "the ingest routes are POST",
         says="Method Not Allowed"),
    Case("method-put", 405, post(VALID).replace(b"POST", b"PUT", 1), "no PUT",
         says="Method Not Allowed"),
    Case("method-delete", 405, request_bytes("DELETE", BATCH), "no DELETE",
         says="Method Not Allowed"),
    Case("route-unknown-get", 404, request_bytes("GET", "/api/v2/events"), "unknown route",
         says="Not Found"),
    Case("route-unknown-post", 404, post(VALID, path="/api/v1/event"), "unknown route",
         says="Not Found"),
    Case("url-100k", 400, request_bytes("GET", "/" + "a" * 100_000),
         "URLs past 64 KiB are refused by the parser", says="Invalid HTTP request"),
    Case("header-nul-byte", 400, post(VALID, headers=(("X-Bad", b"a\x00b"),)),
         "NUL in a header value", says="Invalid HTTP request"),
    Case("header-bad-name", 400, post(VALID, headers=(("X Bad", "v"),)),
         "a space in a header name", says="Invalid HTTP request"),
    Case("header-flood-10k", 400,
         post(VALID, headers=tuple((f"X-H{i}", "v") for i in range(10_000))),
         "10,000 headers (~90 KiB) are refused"),
    Case("header-1mib-value", 400, post(VALID, headers=(("X-Big", "a" * MAX_BODY_BYTES),)),
         "a 1 MiB header is refused"),
    Case("request-line-garbage", 400, b"\x00\x01\x02 hello\r\n\r\n", "not HTTP at all",
         says="Invalid HTTP request"),
    Case("http2-prior-knowledge", 400, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
         "HTTP/2 without negotiation is not spoken", says="Invalid HTTP request"),
    Case("http-version-9", 400, b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
         "an unknown HTTP version", says="Invalid HTTP request"),
]
# fmt: on

assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"
