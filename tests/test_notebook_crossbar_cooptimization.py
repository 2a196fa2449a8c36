"""notebooks/crossbar_cooptimization.ipynb runs end to end at small size (SPINJAX_SMALL=1)."""


def test_crossbar_cooptimization_notebook_executes(run_notebook):
    run_notebook("crossbar_cooptimization.ipynb")
