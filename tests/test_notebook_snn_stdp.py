"""notebooks/snn_stdp.ipynb runs end to end at small size (SPINJAX_SMALL=1)."""


def test_snn_stdp_notebook_executes(run_notebook):
    run_notebook("snn_stdp.ipynb")
