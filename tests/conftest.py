import os

# Two host devices, so the sharding tests can compare 1 and 2 devices in one process.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


import pytest  # noqa: E402


@pytest.fixture
def run_notebook(monkeypatch):
    """Execute notebooks/<name> end to end at small size (SPINJAX_SMALL=1); fail on any
    error output. Each notebook has its own test file so that pytest-xdist (--dist
    loadfile) spreads them over the workers."""
    from pathlib import Path

    def run(name):
        nbformat = pytest.importorskip("nbformat")
        nbclient = pytest.importorskip("nbclient")
        monkeypatch.setenv("SPINJAX_SMALL", "1")
        monkeypatch.delenv("XLA_FLAGS", raising=False)
        monkeypatch.setenv("MPLBACKEND", "Agg")
        path = Path(__file__).parent.parent / "notebooks" / name
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors
    return run


# pytest-xdist (--dist loadfile --no-loadscope-reorder) hands out test files in collection
# order, so the run ends when the last long file does. The longest files go first (measured
# on the 2-core CI box: ~50-125 s each), and the many short ones fill the gaps at the end.
# (xdist's default reorder would put the one-test notebook files last.)
_LONG_FILES = ("test_notebook_device_tuning.py", "test_notebook_devices.py",
               "test_devices_sot_neuron.py", "test_notebook_crossbar_cooptimization.py",
               "test_gradients.py", "test_devices_volatile_synapse.py",
               "test_sweep_physics.py", "test_notebook_snn_stdp.py", "test_snn.py",
               "test_solver.py", "test_sweeps.py", "test_tuning.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(_LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
