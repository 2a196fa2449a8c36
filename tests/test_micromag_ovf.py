"""OVF 2.0 / 1.0 read and write (spinjax.micromag.ovf)."""

import struct

import numpy as np
import pytest

from spinjax.micromag import Mesh
from spinjax.micromag.ovf import read_ovf, write_ovf

CELL = (2e-9, 3e-9, 5e-9)


def _field(shape=(5, 3, 2), seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(3, *shape)) * 8e5


def _write(tmp_path, name="m.ovf", shape=(5, 3, 2), **kw):
    path = tmp_path / name
    write_ovf(path, _field(shape), CELL, **kw)
    return path


# --- round trips ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 3, 2), (1, 1, 1), (4, 1, 1), (1, 4, 1), (1, 1, 4),
                                   (2, 7, 3)])
def test_roundtrip_binary8_exact(tmp_path, shape):
    a = _field(shape)
    write_ovf(tmp_path / "a.ovf", a, CELL, fmt="binary8", title="state", origin=(1e-9, 0, -2e-9))
    b, info = read_ovf(tmp_path / "a.ovf")
    assert b.dtype == np.float64 and b.shape == (3, *shape)
    np.testing.assert_array_equal(b, a)
    assert info["shape"] == shape
    assert info["cell"] == CELL
    np.testing.assert_allclose(info["origin"], (1e-9, 0, -2e-9), rtol=0, atol=1e-24)
    assert info["title"] == "state"
    assert info["valueunit"] == "A/m"
    assert info["valuelabels"] == ("m_x", "m_y", "m_z")
    assert info["version"] == "2.0" and info["format"] == "binary8"


def test_roundtrip_binary4_float32(tmp_path):
    a = _field()
    write_ovf(tmp_path / "a.ovf", a, CELL, fmt="binary4")
    b, info = read_ovf(tmp_path / "a.ovf")
    assert b.dtype == np.float64 and b.shape == a.shape
    np.testing.assert_array_equal(b, a.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(b, a, rtol=1e-7)
    assert info["format"] == "binary4"


def test_roundtrip_text(tmp_path):
    a = _field()
    write_ovf(tmp_path / "a.ovf", a, CELL, fmt="text", valueunit="", title="unit m")
    b, info = read_ovf(tmp_path / "a.ovf")
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=0)
    assert info["format"] == "text" and info["title"] == "unit m"
    assert info["valueunit"] == "1"  # "" is written as dimensionless "1", like mumax3


def test_accepts_mesh_and_jax_array(tmp_path):
    import jax.numpy as jnp
    mesh = Mesh((5, 3, 2), CELL)
    a = jnp.asarray(_field())
    write_ovf(tmp_path / "a.ovf", a, mesh)
    b, info = read_ovf(tmp_path / "a.ovf")
    np.testing.assert_array_equal(b, np.asarray(a))
    assert info["cell"] == mesh.cell and info["shape"] == mesh.shape


def test_axis_order_distinct_values(tmp_path):
    # a[c, i, j, k] encodes its own index, so any axis permutation shows up.
    shape = (5, 3, 2)
    c, i, j, k = np.indices((3, *shape))
    a = (1000 * c + 100 * i + 10 * j + k).astype(np.float64)
    for fmt in ("binary8", "binary4", "text"):
        write_ovf(tmp_path / f"{fmt}.ovf", a, CELL, fmt=fmt)
        np.testing.assert_array_equal(read_ovf(tmp_path / f"{fmt}.ovf")[0], a)


# --- file layout ---------------------------------------------------------------------------

def test_binary8_byte_layout(tmp_path):
    # nx=2, ny=1, nz=2 with values that name their (component, i, k).
    a = np.zeros((3, 2, 1, 2))
    for c in range(3):
        for i in range(2):
            for k in range(2):
                a[c, i, 0, k] = 100 * k + 10 * i + c
    path = tmp_path / "tiny.ovf"
    write_ovf(path, a, CELL)
    raw = path.read_bytes()
    marker = b"# Begin: Data Binary 8\n"
    start = raw.index(marker) + len(marker)
    n = 3 * 2 * 1 * 2
    vals = struct.unpack(f"<{n + 1}d", raw[start:start + 8 * (n + 1)])
    assert vals[0] == 123456789012345.0
    # z outermost, then y, then x innermost; 3 components per node
    expected = [100 * k + 10 * i + c for k in range(2) for i in range(2) for c in range(3)]
    assert list(vals[1:]) == expected
    rest = raw[start + 8 * (n + 1):].decode()
    assert rest == "\n# End: Data Binary 8\n# End: Segment\n"


def test_binary4_check_value(tmp_path):
    path = _write(tmp_path, fmt="binary4")
    raw = path.read_bytes()
    marker = b"# Begin: Data Binary 4\n"
    start = raw.index(marker) + len(marker)
    assert struct.unpack("<f", raw[start:start + 4])[0] == 1234567.0
    assert raw.endswith(b"# End: Data Binary 4\n# End: Segment\n")


def test_header_values(tmp_path):
    path = tmp_path / "h.ovf"
    write_ovf(path, _field(), CELL, title="hello world", origin=(1e-9, 2e-9, 3e-9))
    raw = path.read_bytes()
    head = raw[:raw.index(b"# Begin: Data")].decode().splitlines()
    assert head[:5] == ["# OOMMF OVF 2.0", "# Segment count: 1", "# Begin: Segment",
                        "# Begin: Header", "# Title: hello world"]
    assert head[-1] == "# End: Header"
    kv = {}
    for line in head:
        key, _, val = line[2:].partition(":")
        kv[key] = val.strip()
    assert kv["meshtype"] == "rectangular" and kv["meshunit"] == "m"
    assert kv["valuedim"] == "3"
    assert kv["valuelabels"] == "m_x m_y m_z"
    assert kv["valueunits"] == "A/m A/m A/m"
    assert (int(kv["xnodes"]), int(kv["ynodes"]), int(kv["znodes"])) == (5, 3, 2)
    assert (float(kv["xstepsize"]), float(kv["ystepsize"]), float(kv["zstepsize"])) == CELL
    np.testing.assert_allclose([float(kv[f"{a}base"]) for a in "xyz"],
                               [1e-9 + 1e-9, 2e-9 + 1.5e-9, 3e-9 + 2.5e-9], rtol=1e-15)
    np.testing.assert_allclose([float(kv[f"{a}min"]) for a in "xyz"], [1e-9, 2e-9, 3e-9])
    np.testing.assert_allclose([float(kv[f"{a}max"]) for a in "xyz"],
                               [1e-9 + 10e-9, 2e-9 + 9e-9, 3e-9 + 10e-9], rtol=1e-15)
    assert b"# Begin: Data Binary 8\n" in raw


def test_text_layout(tmp_path):
    a = np.arange(3 * 2 * 1 * 1, dtype=float).reshape(3, 2, 1, 1)
    path = tmp_path / "t.ovf"
    write_ovf(path, a, CELL, fmt="text")
    text = path.read_text()
    body = text.split("# Begin: Data Text\n")[1].split("# End: Data Text\n")[0]
    assert body.splitlines() == ["0 2 4", "1 3 5"]  # node (0,0,0) then node (1,0,0)
    assert text.endswith("# End: Data Text\n# End: Segment\n")


# --- foreign files -------------------------------------------------------------------------

def _ovf1(path, a, cell, binary=True, multiplier=1.0):
    _, nx, ny, nz = a.shape
    head = ["# OOMMF: rectangular mesh v1.0", "# Segment count: 1", "# Begin: Segment",
            "# Begin: Header", "# Title: v1", "# Desc: written by hand", "# meshtype: rectangular",
            "# meshunit: nm", "# xbase: 1", "# ybase: 1.5", "# zbase: 2.5",
            f"# xstepsize: {cell[0] * 1e9}", f"# ystepsize: {cell[1] * 1e9}",
            f"# zstepsize: {cell[2] * 1e9}", f"# xnodes: {nx}", f"# ynodes: {ny}",
            f"# znodes: {nz}", "# valueunit: A/m", f"# valuemultiplier: {multiplier}",
            "# End: Header"]
    flat = a.transpose(3, 2, 1, 0).reshape(-1) / multiplier
    if binary:
        head.append("# Begin: Data Binary 8")
        body = struct.pack(f">{flat.size + 1}d", 123456789012345.0, *flat) + b"\n"
        tail = "# End: Data Binary 8\n# End: Segment\n"
    else:
        head.append("# Begin: Data Text")
        body = "".join(f"{float(v)!r}\n" for v in flat).encode()  # one value per line is legal
        tail = "# End: Data Text\n# End: Segment\n"
    path.write_bytes(("\n".join(head) + "\n").encode() + body + tail.encode())


@pytest.mark.parametrize("binary", [True, False])
def test_read_ovf1(tmp_path, binary):
    a = _field()
    _ovf1(tmp_path / "v1.omf", a, CELL, binary=binary, multiplier=2.0)
    b, info = read_ovf(tmp_path / "v1.omf")
    np.testing.assert_allclose(b, a, rtol=1e-15)
    assert info["version"] == "1.0"
    np.testing.assert_allclose(info["cell"], CELL, rtol=1e-15)
    np.testing.assert_allclose(info["origin"], (0, 0, 0), atol=1e-24)
    assert info["valueunit"] == "A/m" and info["title"] == "v1"


def test_read_scalar_and_comments(tmp_path):
    # OVF 2.0 scalar field (valuedim 1), with ## comments and mixed-case keys, as OOMMF writes.
    vals = np.arange(6, dtype=float)
    head = ["# OOMMF OVF 2.0", "## a comment", "# Segment count: 1", "# Begin: Segment",
            "# Begin: Header", "# Title: energy density", "# Desc: any text",
            "# meshtype: rectangular", "# meshunit: m", "# xmin: 0", "# ymin: 0", "# zmin: 0",
            "# xmax: 6e-9", "# ymax: 2e-9", "# zmax: 1e-9", "# valuedim: 1  ## scalar",
            "# valuelabels: {energy density}", "# valueunits: J/m^3", "# xbase: 5e-10",
            "# ybase: 5e-10", "# zbase: 5e-10", "# XStepSize: 1e-9", "# ystepsize: 1e-9",
            "# zstepsize: 1e-9", "# xnodes: 3", "# ynodes: 2", "# znodes: 1", "# End: Header",
            "# Begin: Data Binary 4"]
    body = struct.pack("<7f", 1234567.0, *vals)
    (tmp_path / "s.ovf").write_bytes(("\n".join(head) + "\n").encode() + body
                                     + b"\n# End: Data Binary 4\n# End: Segment\n")
    b, info = read_ovf(tmp_path / "s.ovf")
    assert b.shape == (1, 3, 2, 1)
    np.testing.assert_array_equal(b[0, :, :, 0], vals.reshape(2, 3).T)
    assert info["valuelabels"] == ("energy density",) and info["valueunit"] == "J/m^3"
    assert info["cell"] == (1e-9, 1e-9, 1e-9)


def test_discretisedfield_reads_our_file(tmp_path):
    df = pytest.importorskip("discretisedfield")
    a = _field()
    path = tmp_path / "m.ovf"
    write_ovf(path, a, CELL)
    field = df.Field.from_file(str(path))
    np.testing.assert_allclose(np.moveaxis(np.asarray(field.array), -1, 0), a)


# --- errors --------------------------------------------------------------------------------

def _replace(path, old, new):
    raw = path.read_bytes()
    assert old in raw
    path.write_bytes(raw.replace(old, new, 1))


def test_error_not_ovf(tmp_path):
    p = tmp_path / "x.ovf"
    p.write_bytes(b"hello\nworld\n")
    with pytest.raises(ValueError, match="not an OVF file"):
        read_ovf(p)
    p.write_bytes(b"")
    with pytest.raises(ValueError, match="not an OVF file"):
        read_ovf(p)


def test_error_version(tmp_path):
    p = _write(tmp_path)
    _replace(p, b"# OOMMF OVF 2.0", b"# OOMMF OVF 3.0")
    with pytest.raises(ValueError, match="version 3.0 is not supported"):
        read_ovf(p)


def test_error_meshtype(tmp_path):
    p = _write(tmp_path)
    _replace(p, b"# meshtype: rectangular", b"# meshtype: irregular")
    with pytest.raises(ValueError, match="meshtype 'irregular' is not supported"):
        read_ovf(p)


def test_error_valuedim(tmp_path):
    p = _write(tmp_path)
    _replace(p, b"# valuedim: 3", b"# valuedim: 2")
    with pytest.raises(ValueError, match="valuedim 2 is not supported"):
        read_ovf(p)


@pytest.mark.parametrize("fmt,size", [("binary8", 8), ("binary4", 4)])
def test_error_check_value(tmp_path, fmt, size):
    p = _write(tmp_path, fmt=fmt)
    marker = f"# Begin: Data Binary {size}\n".encode()
    raw = bytearray(p.read_bytes())
    start = raw.index(marker) + len(marker)
    raw[start:start + size] = struct.pack("<d" if size == 8 else "<f", 42.0)
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="wrong binary check value"):
        read_ovf(p)


def test_error_big_endian_in_ovf2(tmp_path):
    # OVF 2.0 binary is little-endian; big-endian data (the OVF 1.0 convention) fails the check.
    p = _write(tmp_path)
    marker = b"# Begin: Data Binary 8\n"
    raw = bytearray(p.read_bytes())
    start = raw.index(marker) + len(marker)
    raw[start:start + 8] = struct.pack(">d", 123456789012345.0)
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="wrong binary check value"):
        read_ovf(p)


@pytest.mark.parametrize("fmt", ["binary8", "binary4", "text"])
def test_error_truncated(tmp_path, fmt):
    p = _write(tmp_path, fmt=fmt)
    raw = p.read_bytes()
    marker = b"# Begin: Data "
    start = raw.index(marker)
    start = raw.index(b"\n", start) + 1
    keep = {"binary8": 8 * 10, "binary4": 4 * 10, "text": 0}[fmt]
    if fmt == "text":
        keep = len(b"".join(raw[start:].splitlines(keepends=True)[:10]))
    p.write_bytes(raw[:start + keep])
    with pytest.raises(ValueError, match="truncated data"):
        read_ovf(p)


def test_error_truncated_header(tmp_path):
    p = _write(tmp_path)
    raw = p.read_bytes()
    p.write_bytes(raw[:raw.index(b"# End: Header")])
    with pytest.raises(ValueError, match="Begin: Data"):
        read_ovf(p)


@pytest.mark.parametrize("key", [b"xnodes", b"ystepsize", b"meshtype", b"valuedim"])
def test_error_missing_key(tmp_path, key):
    p = _write(tmp_path)
    raw = p.read_bytes()
    i = raw.index(b"# " + key + b":")
    j = raw.index(b"\n", i) + 1
    p.write_bytes(raw[:i] + raw[j:])
    with pytest.raises(ValueError, match=f"header key '{key.decode()}' is missing"):
        read_ovf(p)


def test_error_bad_header_number(tmp_path):
    p = _write(tmp_path)
    _replace(p, b"# xnodes: 5", b"# xnodes: 5.5")
    with pytest.raises(ValueError, match="'xnodes' = '5.5' is not a valid integer"):
        read_ovf(p)


@pytest.mark.parametrize("shape", [(5, 3, 2), (3, 5, 3), (2, 5, 3, 2), (3, 5, 3, 2, 1),
                                   (3, 0, 3, 2)])
def test_write_error_shape(tmp_path, shape):
    with pytest.raises(ValueError, match=r"must be \(3, nx, ny, nz\)"):
        write_ovf(tmp_path / "a.ovf", np.zeros(shape), CELL)


@pytest.mark.parametrize("cell", [(0, 1e-9, 1e-9), (1e-9, -1e-9, 1e-9),
                                  (1e-9, 1e-9, float("inf")), (1e-9, 1e-9)])
def test_write_error_cell(tmp_path, cell):
    with pytest.raises(ValueError, match="cell"):
        write_ovf(tmp_path / "a.ovf", _field(), cell)


def test_write_error_fmt(tmp_path):
    with pytest.raises(ValueError, match="fmt = 'binary2' is unknown"):
        write_ovf(tmp_path / "a.ovf", _field(), CELL, fmt="binary2")
    assert not (tmp_path / "a.ovf").exists()


def test_write_error_labels_and_origin(tmp_path):
    with pytest.raises(ValueError, match="valuelabels"):
        write_ovf(tmp_path / "a.ovf", _field(), CELL, valuelabels=("a", "b"))
    with pytest.raises(ValueError, match="origin"):
        write_ovf(tmp_path / "a.ovf", _field(), CELL, origin=(0, 0))
