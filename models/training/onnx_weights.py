"""Read the float initializers (weights) of an ONNX file without the `onnx` package.

Debian's python3 here has no `onnx`; an ONNX file is a protobuf ModelProto, and the weights are
TensorProto messages in graph.initializer, so a 60-line wire-format reader is enough. Used to
warm-start v2 training from the shipped v1.5.0 weights (models/enricher.onnx) where names and shapes
match. Returns {name: numpy array}.
"""
import struct

import numpy as np


def _varint(b, i):
    r, s = 0, 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return r, i


def _fields(b):
    i, n = 0, len(b)
    while i < n:
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 2:
            ln, i = _varint(b, i)
            v = b[i:i + ln]
            i += ln
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError(f"wire type {wt}")
        yield f, wt, v


def _tensor(b):
    dims, name, raw, floats, dtype = [], "", None, [], 1
    for f, wt, v in _fields(b):
        if f == 1:
            if wt == 2:  # packed
                j = 0
                while j < len(v):
                    d, j = _varint(v, j)
                    dims.append(d)
            else:
                dims.append(v)
        elif f == 2:
            dtype = v
        elif f == 8:
            name = bytes(v).decode()
        elif f == 9:
            raw = bytes(v)
        elif f == 4:
            floats = list(struct.unpack(f"<{len(v) // 4}f", v)) if wt == 2 else floats + [struct.unpack("<f", v)[0]]
    if dtype != 1:
        return name, None
    arr = np.frombuffer(raw, np.float32) if raw is not None else np.array(floats, np.float32)
    return name, arr.reshape(dims).copy()


def read_initializers(path):
    b = memoryview(open(path, "rb").read())
    out = {}
    for f, wt, v in _fields(b):
        if f == 7:  # graph
            for g, gwt, gv in _fields(v):
                if g == 5:  # initializer
                    name, arr = _tensor(gv)
                    if arr is not None:
                        out[name] = arr
    return out


if __name__ == "__main__":
    import sys
    for k, v in read_initializers(sys.argv[1]).items():
        print(k, v.shape)
