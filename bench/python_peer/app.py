"""The benchmark's Python peer: RustFunction on FastAPI and uvicorn.

The Python side of the blog post that started the project, doing the same
work as the product: it reads the Functions host's invocation envelope (typed
with pydantic models) or a direct caller's JSON body, computes the area of
the circle and answers the same envelope, byte for byte, for the benchmark's
two workloads (bench/run checks this before measuring). Error paths follow
the product's messages but are not checked byte for byte.

    GET /                  200, empty body (the host's readiness probe)
    POST /RustyFunction    the host's invocation
    POST /RustFunction     a direct call

Run: python app.py (listens on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT).
"""

from __future__ import annotations

import json
import math
import os
from decimal import Decimal
from typing import Any, Optional

import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

NAME = "RustFunction"
# The function's folder: the name its log lines carry, as the product's do.
FOLDER = "RustyFunction"
FUNCTIONS = {FOLDER, NAME}
MAX_BODY_BYTES = 1024 * 1024
QUOTE_CHARS = 32


class HttpRequestData(BaseModel):
    """Data.req: the caller's request as the host passes it."""

    model_config = ConfigDict(extra="ignore")
    Url: Optional[str] = None
    Method: Optional[str] = None
    Query: dict[str, str] = {}
    Headers: dict[str, list[str]] = {}
    Params: dict[str, Optional[str]] = {}
    Identities: list[Any] = []
    Body: Optional[str] = None


class HttpTriggerData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    req: HttpRequestData


class InvocationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Data: HttpTriggerData
    Metadata: Optional[dict[str, Any]] = None


class Rejection(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Number(str):
    """A JSON number, kept as the text the caller wrote."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate field `{key}`")
        result[key] = value
    return result


def loads_exact(text: str) -> Any:
    """JSON as serde_json reads it: numbers kept as text, no NaN, no duplicate keys."""
    return json.loads(
        text,
        parse_float=Number,
        parse_int=Number,
        parse_constant=_no_constants,
        object_pairs_hook=_unique_keys,
    )


def excerpt(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max_chars] + "…"


def escape_debug(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\\"'":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    cut = "…" if len(text) > limit else ""
    return '"' + escape_debug(text[:limit]) + '"' + cut


def quote_id(invocation_id):
    return "-" if invocation_id is None else quote(invocation_id, 64)


def rust_display(x: float) -> str:
    """A float as Rust's `{}` prints it: shortest round trip, never an exponent."""
    text = repr(x)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def rust_exp(x: float) -> str:
    """A float as Rust's `{:e}` prints it: `1e200`, `7.6e153`."""
    return format(Decimal(repr(x)).normalize(), "e").replace("e+", "e")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def bad_request(message: str) -> Rejection:
    return Rejection(400, message)


MISSING_RADIUS = 'missing radius: send {"radius": 2.5} as the JSON body, or ?radius=2.5'


def read_input(body: bytes, url_query: list[tuple[str, str]]) -> tuple[Optional[str], dict[str, str]]:
    """The caller's body (or None) and query values, from an envelope or a direct call."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_request(f"the request body is not valid UTF-8 (from byte {error.start})")
    direct_query: dict[str, str] = {}
    for name, value in url_query:
        direct_query[name] = f"{direct_query[name]},{value}" if name in direct_query else value
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise bad_request(f"the request body is not valid JSON: {excerpt(str(error), 160)}")
        if isinstance(parsed, dict) and ("Data" in parsed or "Metadata" in parsed):
            try:
                envelope = InvocationRequest.model_validate(parsed)
            except ValidationError as error:
                raise bad_request(f"invalid invocation: {excerpt(str(error), 160)}")
            req = envelope.Data.req
            caller_body = req.Body or None
            check_size(caller_body)
            return caller_body, req.Query
    caller_body = text if text.strip() else None
    check_size(caller_body)
    return caller_body, direct_query


def check_size(body: Optional[str]) -> None:
    if body is not None and len(body.encode("utf-8")) > MAX_BODY_BYTES:
        raise Rejection(413, f"the caller's body is larger than at most {MAX_BODY_BYTES} bytes")


def radius_in_body(body: str) -> Any:
    """The caller's `radius` value as parsed (a Number for a JSON number)."""
    if not body.lstrip().startswith("{"):
        try:
            loads_exact(body)
        except ValueError as error:
            raise bad_request(f"the request body is not valid JSON: {excerpt(str(error), 160)}")
        raise bad_request("the request body must be a JSON object")
    try:
        request = loads_exact(body)
    except ValueError as error:
        if "duplicate field" in str(error):
            raise bad_request(f"invalid request body: {excerpt(str(error), 160)}")
        raise bad_request(f"the request body is not valid JSON: {excerpt(str(error), 160)}")
    raw = request.get("radius")
    if raw is None:
        raise bad_request(MISSING_RADIUS)
    return raw


def radius_from_json(raw: Any) -> float:
    if isinstance(raw, Number):
        return float(raw)
    kind = {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}[type(raw)]
    raise bad_request(f"radius must be a number, not {kind}")


def radius_from_query(text: str) -> float:
    if "," in text:
        raise bad_request(f"radius was given more than once ({quote(text)}); give it once")
    try:
        return float(text)
    except ValueError:
        raise bad_request(f"radius must be a number, got {quote(text)}")


def circle(radius: float) -> tuple[float, float]:
    if not math.isfinite(radius):
        raise bad_request("radius must be a finite number")
    if radius < 0.0:
        raise bad_request(f"radius must not be negative, got {rust_display(radius)}")
    area = math.pi * radius * radius
    if not math.isfinite(area):
        raise bad_request(f"radius {rust_exp(radius)} is too large: its area overflows")
    radius = radius + 0.0
    return radius, math.pi * radius * radius


def json_float(x: float) -> str:
    """A float as serde_json writes it."""
    text = repr(x)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def http_response(status: int, body: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def invoke(body: bytes, url_query: list[tuple[str, str]], invocation_id: Optional[str]) -> str:
    """The envelope for one invocation, serialised."""
    seen = "-"
    try:
        caller_body, query = read_input(body, url_query)
        if caller_body is not None:
            raw = radius_in_body(caller_body)
            seen = escape_debug(excerpt(raw if isinstance(raw, Number) else dumps(raw), 32))
            value = radius_from_json(raw)
        else:
            text = query.get("radius")
            if text is None:
                raise bad_request(MISSING_RADIUS)
            seen = quote(text)
            value = radius_from_query(text)
        radius, area = circle(value)
        ident = quote_id(invocation_id)
        log = f"[INFO] {FOLDER} invocation={ident} radius={seen} area={rust_display(area)} status=200"
        response = http_response(200, f'{{"radius":{json_float(radius)},"area":{json_float(area)}}}')
    except Rejection as rejection:
        ident = quote_id(invocation_id)
        log = (
            f"[WARN] {FOLDER} invocation={ident} radius={seen} status={rejection.status} "
            f'error="{escape_debug(rejection.message)}"'
        )
        response = http_response(rejection.status, dumps({"error": rejection.message}))
    return dumps({"Outputs": {}, "Logs": [log], "ReturnValue": response})


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/")
async def ready() -> Response:
    return Response(status_code=200)


@app.post("/{name}")
async def function(name: str, request: Request) -> Response:
    if name not in FUNCTIONS:
        return Response(status_code=404)
    body = await request.body()
    envelope = invoke(
        body,
        request.query_params.multi_items(),
        request.headers.get("x-azure-functions-invocationid"),
    )
    return Response(content=envelope.encode("utf-8"), media_type="application/json")


if __name__ == "__main__":
    port = int(os.environ.get("FUNCTIONS_CUSTOMHANDLER_PORT", "8080"))
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
