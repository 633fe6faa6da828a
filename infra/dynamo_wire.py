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

from botocore.auth import SigV4Auth
from botocore.parsers import JSONParser, ResponseParserFactory
from botocore.regions import EndpointRulesetResolver
from botocore.serialize import JSONSerializer
from botocore.signers import RequestSigner
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


# The endpoint rules' `ResourceArnList` of the multi-table operations, which botocore finds in every request's
# parameters with jmespath (`operation_context_parameters`): for a TransactWriteItems that search is about as costly
# as the rest of endpoint resolution. Each path here is read directly, with jmespath's answer for the well-formed
# parameters botocore's own validation lets through (a list of dicts of dicts); anything else is left to jmespath.
_TRANSACT_WRITE_PATH = ("TransactItems[*].[ConditionCheck.TableName, Put.TableName, Delete.TableName, "
                        "Update.TableName][]")
_TRANSACT_WRITE_KINDS = ("ConditionCheck", "Put", "Delete", "Update")
_NOT_READ = object()


def _transact_tables(kinds: tuple[str, ...]) -> Any:
    """The tables a transaction's items name under `kinds`, in order: jmespath's answer to the path, for items that
    are dicts of dicts (`_NOT_READ` for any other shape)."""

    def read(call_args: Any) -> Any:
        items = call_args.get("TransactItems")
        if items is None:
            return None
        if items.__class__ is not list:
            return _NOT_READ
        tables = []
        for item in items:
            if item.__class__ is not dict:
                return _NOT_READ
            for kind in kinds:
                operation = item.get(kind)
                if operation is None:
                    continue
                if operation.__class__ is not dict:
                    return _NOT_READ
                table = operation.get("TableName")
                if table is not None:
                    tables.append(table)
        return tables

    return read


def _request_item_tables(call_args: Any) -> Any:
    items = call_args.get("RequestItems")
    return list(items) if items.__class__ is dict else _NOT_READ


_CONTEXT_PATHS = {
    _TRANSACT_WRITE_PATH: _transact_tables(_TRANSACT_WRITE_KINDS),
    "keys(RequestItems)": _request_item_tables,
    "TransactItems[*].Get.TableName": _transact_tables(("Get",)),
}


class WireEndpointResolver(EndpointRulesetResolver):
    """botocore's endpoint resolver, reading the operation context parameters it knows without jmespath."""

    def _resolve_param_as_operation_context_param(self, param_name: str, operation_model: Any,
                                                   call_args: Any) -> Any:
        params = operation_model.operation_context_parameters
        if param_name in params:
            path = params[param_name]["path"]
            read = _CONTEXT_PATHS.get(path)
            if read is not None and call_args.__class__ is dict:
                value = read(call_args)
                if value is not _NOT_READ:
                    return value
        return super()._resolve_param_as_operation_context_param(param_name, operation_model, call_args)


class WireSigV4Auth(SigV4Auth):
    """botocore's Signature V4, less its repeated work: the headers to sign are selected once per request (botocore
    selects them twice, for the canonical request and again for the Authorization header, through its slow
    email-style header map) and the signing key, derived by four HMACs from the secret, the day, the region and the
    service, is derived once per such day rather than per request. Every input still goes into every signature:
    the same Authorization header for the same request and instant (`tests/unit/test_dynamo_wire.py`)."""

    _selected: tuple[Any, Any] | None = None

    def add_auth(self, request: Any) -> None:
        # Between its two selections add_auth changes no header (it removes an old Authorization header and sets
        # the date before the first, and sets the new Authorization header after the second): within one call the
        # first selection is the second.
        self._selected = None
        try:
            super().add_auth(request)
        finally:
            self._selected = None

    def headers_to_sign(self, request: Any) -> Any:
        selected = self._selected
        if selected is not None and selected[0] is request:
            return selected[1]
        headers = super().headers_to_sign(request)
        self._selected = (request, headers)
        return headers

    def signature(self, string_to_sign: str, request: Any) -> str:
        scope = (self.credentials.secret_key, request.context["timestamp"][0:8], self._region_name,
                 self._service_name)
        key = _SIGNING_KEYS.get(scope)
        if key is None:
            k_date = self._sign(f"AWS4{scope[0]}".encode(), scope[1])
            key = self._sign(self._sign(self._sign(k_date, scope[2]), scope[3]), "aws4_request")
            if len(_SIGNING_KEYS) >= 8:  # a new day, or rotated credentials: the old keys are of no more use
                _SIGNING_KEYS.clear()
            _SIGNING_KEYS[scope] = key
        return self._sign(key, string_to_sign, hex=True)


_SIGNING_KEYS: dict[tuple[str, str, str, str], bytes] = {}


class WireRequestSigner(RequestSigner):
    """botocore's request signer, whose Signature V4 instances are `WireSigV4Auth`."""

    def get_auth_instance(self, *args: Any, **kwargs: Any) -> Any:
        auth = super().get_auth_instance(*args, **kwargs)
        if type(auth) is SigV4Auth:
            auth.__class__ = WireSigV4Auth
        return auth


def install(client: Any) -> Any:
    """Give a botocore DynamoDB client the direct paths (idempotent). A client whose serializer validates its
    parameters (pynamodb's does not) keeps botocore's serializer, so validation still happens."""
    endpoint = client._endpoint
    resolver = getattr(client, "_ruleset_resolver", None)
    if resolver is not None and type(resolver) is EndpointRulesetResolver:
        resolver.__class__ = WireEndpointResolver
    signer = getattr(client, "_request_signer", None)
    if signer is not None and type(signer) is RequestSigner:
        signer.__class__ = WireRequestSigner
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
