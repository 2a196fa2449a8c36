"""notebooks/devices.ipynb runs end to end at small size (SPINJAX_SMALL=1)."""


def test_devices_notebook_executes(run_notebook):
    run_notebook("devices.ipynb")
