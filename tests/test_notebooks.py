"""Every example notebook has a test that runs it (tests/test_notebook_<name>.py)."""

from pathlib import Path

HERE = Path(__file__).parent


def test_every_notebook_is_executed_by_a_test():
    notebooks = sorted((HERE.parent / "notebooks").glob("*.ipynb"))
    assert notebooks
    missing = [p.name for p in notebooks
               if not (HERE / f"test_notebook_{p.stem}.py").exists()]
    assert not missing, f"notebooks without tests/test_notebook_<name>.py: {missing}"
