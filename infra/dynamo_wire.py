"""DynamoDB's JSON wire format for the item operations, read and written without walking botocore's shape model.

botocore turns every request into JSON, and every response back, by walking the operation's shape recursively,
value by value: for a Query of a few dozen items that walk is the largest share of the engine's CPU, larger than
the request itself (issue 15, `bench/cpu.py`). For the operations that carry items, the wire JSON already *is* what
botocore hands back (`{"S": "..."}` stays `{"S": "..."}`, numbers stay strings): the walk only changes blobs (base64
on the wire, bytes in Python) and timestamps (none of these operations has one). So for those operations, when
neither side holds a blob, the body is `json.loads`/`json.dumps` and nothing else; everything else (a blob, an
error, any other operation) takes botocore's own path, unchanged. Same requests, same parsed dicts: only the CPU
differs. `tests/unit/test_dynamo_wire.py` compares both paths on the same bodies.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from botocore.parsers import JSONParser, ResponseParserFactory
from botocore.serialize import JSONSerializer
from pynamodb.connection.base import Connection

# Operations whose input and output shapes hold only structures, maps, lists, strings, numbers and booleans, apart
# from the blobs inside attribute values (checked for on every body).
ITEM_OPERATIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactGetItems", "TransactWriteItems",
})
_OUTPUT_SHAPES = frozenset(f"{name}Output" for name in ITEM_OPERATIONS)

# A blob is an attribute value `{"B": "<base64>"}` or `{"BS": [...]}`. A key spelled "B" or "BS" anywhere else (an
# attribute or map key of that name) also matches: that body then takes the slow path, which is still right. Inside
# a JSON string a quote is escaped, so text cannot look like this key.
_BLOB_KEY = re.compile(rb'"BS?"\s*:')
_ONE_BLOB_TEXT = re.compile(r'"B"\s*:')
_BLOB_SET_TEXT = re.compile(r'"BS"\s*:')


class WireJSONParser(JSONParser):
    """botocore's JSON parser, with a direct path for item operations' answers that hold no blob."""

    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if shape is not None and shape.name in _OUTPUT_SHAPES and raw_body and not _BLOB_KEY.search(raw_body):
            try:
                parsed = json.loads(raw_body)
            except ValueError:  # not JSON: botocore's path says so its own way
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        return super()._handle_json_body(raw_body, shape)


class WireParserFactory(ResponseParserFactory):
    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return WireJSONParser(**self._defaults)
        return super().create_parser(protocol_name)


class WireJSONSerializer(JSONSerializer):
    """botocore's JSON serializer, with a direct path for item operations' requests that hold no blob."""

    def serialize_to_request(self, parameters: dict, operation_model: Any) -> dict:
        if operation_model.name in ITEM_OPERATIONS:
            blobs: list[bytes] = []

            def blob(value: Any) -> str:
                if isinstance(value, (bytes, bytearray)):
                    blobs.append(value)
                    return base64.b64encode(value).decode("ascii")  # as botocore sends a blob
                raise TypeError(type(value).__name__)

            try:
                body = json.dumps(parameters, default=blob)
            except (TypeError, ValueError):  # what botocore's walk converts and json cannot (a Python set...)
                body = None
            # Every blob key must have held bytes (botocore also accepts text there, and encodes it): else the slow
            # path. A set of blobs ("BS") always takes it.
            if body is not None and len(_ONE_BLOB_TEXT.findall(body)) == len(blobs) \
                    and not _BLOB_SET_TEXT.search(body):
                serialized = self._create_default_request()
                serialized["method"] = operation_model.http.get("method", self.DEFAULT_METHOD)
                serialized["headers"] = {
                    "X-Amz-Target": f"{operation_model.metadata['targetPrefix']}.{operation_model.name}",
                    "Content-Type": f"application/x-amz-json-{operation_model.metadata['jsonVersion']}",
                }
                serialized["body"] = body.encode(self.DEFAULT_ENCODING)
                return serialized
        return super().serialize_to_request(parameters, operation_model)


def install(client: Any) -> Any:
    """Give a botocore DynamoDB client the direct paths (idempotent). A client whose serializer validates its
    parameters (pynamodb's does not) keeps botocore's serializer, so validation still happens."""
    endpoint = client._endpoint
    if not isinstance(endpoint._response_parser_factory, WireParserFactory):
        factory = WireParserFactory()
        factory._defaults = dict(endpoint._response_parser_factory._defaults)
        endpoint._response_parser_factory = factory
    if type(client._serializer) is JSONSerializer:
        wire = WireJSONSerializer()
        wire.__dict__.update(client._serializer.__dict__)
        client._serializer = wire
    return client


class WireConnection(Connection):
    """pynamodb's connection, whose botocore client gets the direct paths when it is made (pynamodb makes it on
    first use, and again if its credentials were empty)."""

    @property
    def client(self) -> Any:
        client = super().client
        if getattr(self, "_wired", None) is not client:
            self._wired = install(client)
        return client


def wire(connection: Connection) -> None:
    """Make a pynamodb connection (a model's `_get_connection().connection`) use the direct paths."""
    if not isinstance(connection, WireConnection) and type(connection) is Connection:
        connection.__class__ = WireConnection
