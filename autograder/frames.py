"""What a worker sends back, read as hostile data: bounded decoding of its frames, then a schema per probe kind.

A frame is `token + 8-byte big-endian length + npz`. The npz must hold uncompressed (stored) `.npy` members
only, so nothing inflates: every member's declared shape x itemsize is checked against the bytes actually
present before an array is made, and arrays are views of the received bytes (never pickles, never object
arrays). The `__meta__` member is a small JSON object. Decoding stops at the grader's deadline.

`validate(kind, meta, arrays)` then checks names, types, shapes and sizes against what the probe of that kind
returns (`worker.py`); whatever does not fit is refused with one line, and the check that needed it scores 0.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import time
import zipfile

import numpy as np
from numpy.lib import format as npy

MAX_MEMBERS = 4096
MAX_META_BYTES = 1 << 20
MAX_TEXT = 2000
NUMERIC = "biuf"


class MalformedResult(ValueError):
    """A worker's result does not have the shape the grader asked for (the submission's doing)."""


def decode_frames(data: bytes, token: bytes, deadline: float) -> tuple[dict[str, tuple[dict, dict]], list[str]]:
    """{probe id: (meta, arrays)} from the stream (the first frame for an id wins), and the problems found."""
    frames: dict[str, tuple[dict, dict]] = {}
    problems: list[str] = []
    pos, head = 0, len(token) + 8
    while pos < len(data):
        if time.monotonic() > deadline:
            problems.append("the results took too long to read; later results were ignored")
            break
        if data[pos:pos + len(token)] != token or len(data) - pos < head:
            problems.append("the result stream was corrupted; later results were ignored")
            break
        (length,) = struct.unpack(">Q", data[pos + len(token):pos + head])
        payload = data[pos + head:pos + head + length]
        pos += head + length
        if len(payload) != length:
            problems.append("the last result was cut short")
            break
        try:
            meta, arrays = decode_npz(payload)
        except MalformedResult as exc:
            problems.append(f"a result frame was refused: {exc}")
            continue
        frames.setdefault(meta["id"], (meta, arrays))
    return frames, problems


def decode_npz(payload: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise MalformedResult(f"not an npz archive ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise MalformedResult(f"{len(members)} arrays in one frame (at most {MAX_MEMBERS})")
    if sum(m.file_size for m in members) > len(payload):
        raise MalformedResult("its arrays are larger than the frame (compressed members are refused)")
    arrays = {}
    for member in members:
        if member.compress_type != zipfile.ZIP_STORED or member.file_size != member.compress_size:
            raise MalformedResult(f"{member.filename!r} is compressed (only stored arrays are read)")
        if not member.filename.endswith(".npy"):
            raise MalformedResult(f"{member.filename!r} is not an .npy array")
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
            raise MalformedResult(f"{member.filename!r} could not be read ({exc})") from None
        arrays[member.filename[:-4]] = decode_npy(member.filename, raw)
    blob = arrays.pop("__meta__", None)
    if blob is None or blob.dtype != np.uint8 or blob.ndim != 1 or blob.size > MAX_META_BYTES:
        raise MalformedResult("no valid __meta__ member")
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedResult(f"__meta__ is not JSON ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), str) or len(meta["id"]) > 200:
        raise MalformedResult("__meta__ has no probe id")
    return meta, arrays


def decode_npy(name: str, raw: bytes) -> np.ndarray:
    """An array from .npy bytes, after checking its header against the bytes present: numbers only."""
    stream = io.BytesIO(raw)
    try:
        version = npy.read_magic(stream)
        header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = header(stream)
    except (ValueError, OSError, SyntaxError, TypeError) as exc:
        raise MalformedResult(f"{name!r} has no valid .npy header ({exc})") from None
    if dtype.kind not in NUMERIC or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise MalformedResult(f"{name!r} holds {dtype} values (numbers only)")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise MalformedResult(f"{name!r} has an invalid shape")
    count = math.prod(shape)
    body = raw[stream.tell():]
    if count * dtype.itemsize != len(body):
        raise MalformedResult(f"{name!r} declares {count} values of {dtype.itemsize} bytes, {len(body)} bytes sent")
    array = np.frombuffer(body, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")


# ---- schemas ---------------------------------------------------------------------------------------------------

def _text(value, where: str) -> str:
    if not isinstance(value, str):
        raise MalformedResult(f"{where} is not text")
    return " ".join(value.split())[:MAX_TEXT]


def _int(value, where: str, low: int = 0, high: int = 1 << 40) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise MalformedResult(f"{where} is not an integer in [{low}, {high}]")
    return value


def _shape(value, where: str) -> list[int]:
    if not isinstance(value, list) or len(value) > 8:
        raise MalformedResult(f"{where} is not a shape")
    return [_int(n, f"{where}[{i}]", 0, 1 << 31) for i, n in enumerate(value)]


def _shapes(value, where: str) -> dict[str, list[int]]:
    if not isinstance(value, dict) or len(value) > 256:
        raise MalformedResult(f"{where} is not a table of shapes")
    return {_text(k, f"{where} name"): _shape(v, f"{where}[{k!r}]") for k, v in value.items()}


def _list(value, where: str, limit: int = 100_000) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise MalformedResult(f"{where} is not a list (of at most {limit})")
    return value


def error_meta(meta: dict) -> dict:
    """A failed probe (or import): {ok: False, error: text, line: int or None}."""
    line = meta.get("line")
    return {"ok": False, "error": _text(meta.get("error", "an error"), "error"),
            "line": None if line is None else _int(line, "line", 0, 1 << 31)}


def _names(meta: dict, arrays: dict) -> dict:
    out = {}
    for name, info in meta.items():
        if name in ("id", "ok"):
            continue
        if not isinstance(info, dict) or info.get("kind") not in ("missing", "class", "function", "other"):
            raise MalformedResult(f"the description of {name!r} is malformed")
        params = info.get("params")
        if params is not None:
            params = [_text(p, f"{name} parameter") for p in _list(params, f"{name} parameters", 256)]
        out[name] = {"kind": info["kind"], "params": params}
    return out | {"ok": True}


CALL_ARRAY = re.compile(r"r\d{1,4}\.out\d{1,3}")


def _call(meta: dict, arrays: dict) -> dict:
    counts = [_int(n, "n_out", 0, 256) for n in _list(meta.get("n_out"), "n_out", 10_000)]
    for name in arrays:
        if not CALL_ARRAY.fullmatch(name):
            raise MalformedResult(f"unexpected result {name!r}")
    return {"ok": True, "n_out": counts}


MODULE_ARRAY = re.compile(r"w\d{1,2}\.r\d{1,2}\.(out|c\d{1,4}\.(in|out)|g\d{1,4}\.[\w.]{1,200}|gfree\.[\w.]{1,200})"
                          r"|train\.losses")


def _module(meta: dict, arrays: dict) -> dict:
    leaves = []
    for i, leaf in enumerate(_list(meta.get("leaves"), "leaves", 10_000)):
        if not isinstance(leaf, dict):
            raise MalformedResult(f"leaves[{i}] is malformed")
        leaves.append({"type": _text(leaf.get("type"), f"leaves[{i}].type"),
                       "params": _shapes(leaf.get("params"), f"leaves[{i}].params"),
                       "buffers": _shapes(leaf.get("buffers", {}), f"leaves[{i}].buffers")})
    n = len(leaves)
    order = [_int(k, "order", 0, max(n - 1, 0)) for k in _list(meta.get("order", []), "order")]
    runs = []
    for r, run in enumerate(_list(meta.get("runs", []), "runs", 64)):
        calls = run.get("calls") if isinstance(run, dict) else None
        runs.append({"calls": [_int(k, f"runs[{r}].calls", 0, max(n - 1, 0)) for k in _list(calls, "calls")]})
    out = {"ok": True, "leaves": leaves, "free": _shapes(meta.get("free", {}), "free"),
           "n_params": _int(meta.get("n_params"), "n_params"), "order": order, "runs": runs}
    if "load_error" in meta:
        out["load_error"] = _text(meta["load_error"], "load_error")
    for name, array in arrays.items():
        if not MODULE_ARRAY.fullmatch(name) or array.dtype.kind != "f":
            raise MalformedResult(f"unexpected result {name!r} ({array.dtype})")
    return out


SCHEMAS = {"names": _names, "call": _call, "module": _module}


def validate(kind: str, meta: dict, arrays: dict) -> dict:
    """The meta of a probe of `kind`, checked and normalized; MalformedResult names what does not fit."""
    if not meta.get("ok"):
        return error_meta(meta)
    return SCHEMAS[kind](meta, arrays)
