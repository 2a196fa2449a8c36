"""notebooks/device_tuning.ipynb runs end to end at small size (SPINJAX_SMALL=1)."""


def test_device_tuning_notebook_executes(run_notebook):
    run_notebook("device_tuning.ipynb")
