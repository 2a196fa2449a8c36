"""OVF (OOMMF Vector Field) file input/output, to exchange states with mumax3, OOMMF and ubermag.

spinjax arrays are shaped (3, nx, ny, nz) (components first). In an OVF file the data loop runs
z outermost, then y, then x innermost ("x fastest"), and each node writes its components in turn,
so the file order is that of `array.transpose(3, 2, 1, 0)` (nz, ny, nx, 3) flattened in C order.

- `write_ovf(path, array, cell, ...)` writes OVF 2.0 in "binary8" (little-endian float64),
  "binary4" (little-endian float32) or "text".
- `read_ovf(path)` reads OVF 2.0 (binary 4/8, text) and OVF 1.0 (big-endian binary 4/8, text),
  returning `(array, info)`.

Only numpy is used (a JAX array is converted with `np.asarray`).
"""

import math
import os
import re

import numpy as np

__all__ = ["read_ovf", "write_ovf"]

_CHECK = {4: 1234567.0, 8: 123456789012345.0}
_FMT = {"binary8": "Binary 8", "binary4": "Binary 4", "text": "Text"}
_MESHUNITS = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9}


def _cell_of(cell):
    """Accept a `Mesh` (anything with `.cell`) or a 3-sequence (dx, dy, dz) in m."""
    cell = getattr(cell, "cell", cell)
    try:
        cell = tuple(cell)
    except TypeError as err:
        raise ValueError(f"cell = {cell!r} must be a 3-tuple (dx, dy, dz) in m or a Mesh") from err
    if len(cell) != 3:
        raise ValueError(f"cell = {cell!r} must be a 3-tuple (dx, dy, dz) in m or a Mesh")
    out = []
    for axis, d in zip("xyz", cell):
        try:
            d = float(d)
        except (TypeError, ValueError) as err:
            raise ValueError(f"cell size d{axis} = {d!r} must be a number in m") from err
        if not (math.isfinite(d) and d > 0.0):
            raise ValueError(f"cell size d{axis} = {d!r} m must be finite and > 0")
        out.append(d)
    return tuple(out)


def _tcl_word(s):
    s = str(s)
    return "{" + s + "}" if (not s or re.search(r"\s", s)) else s


def write_ovf(path, array, cell, *, fmt="binary8", title="", valueunit="A/m",
              valuelabels=("m_x", "m_y", "m_z"), origin=(0.0, 0.0, 0.0)):
    """Write a (3, nx, ny, nz) vector field to `path` as an OVF 2.0 file.

    **Arguments:**

    - `path`: file path (str or path-like).
    - `array`: array shaped (3, nx, ny, nz) (numpy or JAX), e.g. a magnetization in A/m or a unit
      vector field.
    - `cell`: (dx, dy, dz) cell sizes in m, or a `Mesh`.
    - `fmt`: "binary8" (float64, exact), "binary4" (float32) or "text" (%.17g, exact on re-read).
    - `title`: the `# Title:` line.
    - `valueunit`: unit of every component, e.g. "A/m", "T"; "" (dimensionless) is written as "1"
      (as mumax3 does), so it reads back as "1".
    - `valuelabels`: three component labels (labels with spaces are braced, Tcl style).
    - `origin`: (xmin, ymin, zmin) of the mesh's lower corner, in m.

    Returns the path.
    """
    if fmt not in _FMT:
        raise ValueError(f"fmt = {fmt!r} is unknown; use one of {sorted(_FMT)}")
    a = np.asarray(array)
    if a.ndim != 4 or a.shape[0] != 3 or min(a.shape) < 1:
        raise ValueError(f"array has shape {a.shape}; it must be (3, nx, ny, nz) with nx, ny, "
                         f"nz >= 1")
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"array has dtype {a.dtype}; it must be real")
    dx, dy, dz = _cell_of(cell)
    try:
        origin = tuple(float(o) for o in origin)
    except (TypeError, ValueError) as err:
        raise ValueError(f"origin = {origin!r} must be 3 numbers in m") from err
    if len(origin) != 3 or not all(math.isfinite(o) for o in origin):
        raise ValueError(f"origin = {origin!r} must be 3 finite numbers in m")
    valuelabels = tuple(valuelabels)
    if len(valuelabels) != 3:
        raise ValueError(f"valuelabels = {valuelabels!r} must hold 3 labels")
    title = str(title)
    if "\n" in title or "\r" in title:
        raise ValueError("title must be a single line")
    unit = _tcl_word(valueunit if str(valueunit) else "1")

    _, nx, ny, nz = a.shape
    cell = (dx, dy, dz)
    n = (nx, ny, nz)
    lines = ["# OOMMF OVF 2.0", "# Segment count: 1", "# Begin: Segment", "# Begin: Header",
             f"# Title: {title}", "# meshtype: rectangular", "# meshunit: m"]
    for ax, o in zip("xyz", origin):
        lines.append(f"# {ax}min: {o!r}")
    for ax, o, ni, d in zip("xyz", origin, n, cell):
        lines.append(f"# {ax}max: {o + ni * d!r}")
    lines += ["# valuedim: 3",
              "# valuelabels: " + " ".join(_tcl_word(s) for s in valuelabels),
              "# valueunits: " + " ".join([unit] * 3)]
    for ax, o, d in zip("xyz", origin, cell):
        lines.append(f"# {ax}base: {o + d / 2!r}")
    for ax, ni in zip("xyz", n):
        lines.append(f"# {ax}nodes: {ni}")
    for ax, d in zip("xyz", cell):
        lines.append(f"# {ax}stepsize: {d!r}")
    lines += ["# End: Header", f"# Begin: Data {_FMT[fmt]}"]
    head = ("\n".join(lines) + "\n").encode("utf-8")

    flat = a.transpose(3, 2, 1, 0).reshape(-1)  # z outer, y, x inner, 3 components per node
    if fmt == "text":
        body = "".join("%.17g %.17g %.17g\n" % tuple(row)
                       for row in flat.astype(np.float64).reshape(-1, 3).tolist()).encode()
    else:
        size = 8 if fmt == "binary8" else 4
        dt = np.dtype("<f8" if size == 8 else "<f4")
        body = np.concatenate([np.array([_CHECK[size]], dt), flat.astype(dt)]).tobytes() + b"\n"
    tail = f"# End: Data {_FMT[fmt]}\n# End: Segment\n".encode()
    with open(path, "wb") as f:
        f.write(head + body + tail)
    return path


def _split_words(value):
    return [w[1:-1] if w.startswith("{") else w for w in re.findall(r"\{[^}]*\}|\S+", value)]


def read_ovf(path):
    """Read an OVF 2.0 (or 1.0) rectangular-mesh file.

    Returns `(array, info)`: `array` is float64 shaped (valuedim, nx, ny, nz) (valuedim 3 for a
    vector field, 1 for a scalar field); `info` is a dict with `cell` (dx, dy, dz) [m], `origin`
    (xmin, ymin, zmin) [m], `shape` (nx, ny, nz), `title`, `valueunit` (the first component's
    unit), `valueunits`, `valuelabels`, `version` ("2.0" or "1.0") and `format` ("binary8",
    "binary4" or "text"). OVF 1.0 values are multiplied by `valuemultiplier`.

    Raises ValueError for: not an OVF file, unsupported version or meshtype, valuedim not 1 or 3,
    missing header keys, a wrong binary check value, or truncated data.
    """
    with open(path, "rb") as f:
        raw = f.read()
    name = os.fspath(path)
    first_nl = raw.find(b"\n")
    first = raw[:first_nl if first_nl >= 0 else len(raw)].decode("latin-1").strip()
    m2 = re.fullmatch(r"#\s*OOMMF\s+OVF\s+(\S+)", first, re.IGNORECASE)
    m1 = re.fullmatch(r"#\s*OOMMF\s*:\s*rectangular\s+mesh\s+v(\S+)", first, re.IGNORECASE)
    m1irr = re.fullmatch(r"#\s*OOMMF\s*:\s*irregular\s+mesh\s+v(\S+)", first, re.IGNORECASE)
    if m2:
        version = m2.group(1)
        if version != "2.0":
            raise ValueError(f"{name}: OVF version {version} is not supported (only 2.0 and 1.0)")
    elif m1:
        version = m1.group(1)
        if version != "1.0":
            raise ValueError(f"{name}: OVF version {version} is not supported (only 2.0 and 1.0)")
    elif m1irr:
        raise ValueError(f"{name}: meshtype 'irregular' is not supported (only rectangular)")
    else:
        raise ValueError(f"{name}: not an OVF file (first line is {first[:60]!r}, expected "
                         f"'# OOMMF OVF 2.0' or '# OOMMF: rectangular mesh v1.0')")

    # Header: "# key: value" lines up to "# Begin: Data <kind>".
    header = {}
    pos = first_nl + 1
    data_kind = None
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        end = len(raw) if nl < 0 else nl
        line = raw[pos:end].decode("latin-1").strip()
        pos = end + 1
        if not line or line.startswith("##"):
            continue
        if not line.startswith("#"):
            raise ValueError(f"{name}: unexpected non-comment line {line[:60]!r} in the header")
        line = line[1:].split("##", 1)[0]
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        key = re.sub(r"\s+", "", key).lower()
        value = value.strip()
        if key == "begin" and value.lower().startswith("data"):
            data_kind = re.sub(r"\s+", " ", value[4:].strip()).lower()
            break
        if key in ("begin", "end", "segmentcount"):
            if key == "segmentcount" and value.strip() not in ("1",):
                raise ValueError(f"{name}: segment count {value} is not supported (only 1)")
            continue
        header[key] = value
    if data_kind is None:
        raise ValueError(f"{name}: no '# Begin: Data ...' line found (header incomplete)")
    if data_kind not in ("binary 8", "binary 4", "text"):
        raise ValueError(f"{name}: data format {data_kind!r} is not supported (Binary 8, "
                         f"Binary 4 or Text)")

    def need(key):
        if key not in header:
            raise ValueError(f"{name}: header key '{key}' is missing")
        return header[key]

    def num(key, kind=float):
        v = need(key)
        try:
            x = float(v)
            if kind is int:
                if not x.is_integer():
                    raise ValueError(v)
                return int(x)
            return x
        except ValueError as err:
            raise ValueError(f"{name}: header key '{key}' = {v!r} is not a valid "
                             f"{'integer' if kind is int else 'number'}") from err

    meshtype = need("meshtype").lower()
    if meshtype != "rectangular":
        raise ValueError(f"{name}: meshtype {meshtype!r} is not supported (only rectangular)")
    unit = header.get("meshunit", "m").strip()
    if unit not in _MESHUNITS:
        raise ValueError(f"{name}: meshunit {unit!r} is not supported ({sorted(_MESHUNITS)})")
    scale = _MESHUNITS[unit]
    shape = tuple(num(f"{ax}nodes", int) for ax in "xyz")
    if min(shape) < 1:
        raise ValueError(f"{name}: node counts {shape} must be >= 1")
    cell = tuple(num(f"{ax}stepsize") * scale for ax in "xyz")
    if not all(math.isfinite(d) and d > 0 for d in cell):
        raise ValueError(f"{name}: step sizes {cell} must be finite and > 0")
    if all(f"{ax}min" in header for ax in "xyz"):
        origin = tuple(num(f"{ax}min") * scale for ax in "xyz")
    else:
        origin = tuple(num(f"{ax}base") * scale - d / 2 for ax, d in zip("xyz", cell))

    if version == "2.0":
        dim = num("valuedim", int)
        if dim not in (1, 3):
            raise ValueError(f"{name}: valuedim {dim} is not supported (only 1 or 3)")
        units = _split_words(header.get("valueunits", ""))
        labels = _split_words(header.get("valuelabels", ""))
        multiplier = 1.0
        order = "<"
    else:
        dim = 3
        units = [header.get("valueunit", "")] * 3
        labels = []
        multiplier = num("valuemultiplier") if "valuemultiplier" in header else 1.0
        order = ">"

    count = shape[0] * shape[1] * shape[2] * dim
    if data_kind == "text":
        values = []
        while pos < len(raw) and len(values) < count:
            nl = raw.find(b"\n", pos)
            end = len(raw) if nl < 0 else nl
            line = raw[pos:end].decode("latin-1").strip()
            if line.startswith("#"):  # "# End: Data Text"
                break
            pos = end + 1
            values.extend(line.split())
        if len(values) < count:
            raise ValueError(f"{name}: truncated data: {len(values)} values found, "
                             f"{count} expected (xnodes*ynodes*znodes*valuedim)")
        try:
            flat = np.array(values[:count], dtype=np.float64)
        except ValueError as err:
            raise ValueError(f"{name}: text data holds a value that is not a number") from err
    else:
        size = 8 if data_kind == "binary 8" else 4
        dt = np.dtype(f"{order}f{size}")
        nbytes = size * (count + 1)
        if len(raw) - pos < size:
            raise ValueError(f"{name}: truncated data: no binary check value")
        check = float(np.frombuffer(raw, dt, 1, pos)[0])
        if check != _CHECK[size]:
            endian = "little" if order == "<" else "big"
            raise ValueError(f"{name}: wrong binary check value {check!r} (expected "
                             f"{_CHECK[size]!r} for Binary {size}, {endian}-endian in OVF "
                             f"{version})")
        if len(raw) - pos < nbytes:
            got = (len(raw) - pos) // size - 1
            raise ValueError(f"{name}: truncated data: {got} values found, {count} expected "
                             f"(xnodes*ynodes*znodes*valuedim)")
        flat = np.frombuffer(raw, dt, count, pos + size).astype(np.float64)

    flat = flat * multiplier if multiplier != 1.0 else flat
    nx, ny, nz = shape
    array = flat.reshape(nz, ny, nx, dim).transpose(3, 2, 1, 0).copy()
    info = {"cell": cell, "origin": origin, "shape": shape,
            "title": header.get("title", ""),
            "valueunit": units[0] if units else "",
            "valueunits": tuple(units), "valuelabels": tuple(labels),
            "version": version,
            "format": {"binary 8": "binary8", "binary 4": "binary4", "text": "text"}[data_kind]}
    return array, info
