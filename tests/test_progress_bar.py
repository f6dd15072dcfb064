"""The progress bar of fit / evaluate / predict (verbose=1): a widget in a Jupyter kernel that has
ipywidgets, the text bar everywhere else, and never tqdm's "IProgress not found" warning."""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from micrograd.training import loop

ROOT = Path(__file__).resolve().parent.parent
WIDGET = "application/vnd.jupyter.widget-view+json"


def test_outside_a_kernel_the_bar_is_text():
    from tqdm.std import tqdm as text_bar

    assert not loop.in_notebook_kernel()
    assert loop.bar_class() is text_bar


def test_a_kernel_without_ipywidgets_gets_the_text_bar_and_no_warning(monkeypatch):
    from tqdm.notebook import tqdm as widget_bar
    from tqdm.std import tqdm as text_bar

    monkeypatch.setattr(loop, "in_notebook_kernel", lambda: True)
    assert loop.bar_class() is widget_bar  # ipywidgets is installed here
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` now fails
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loop.bar_class() is text_bar


TRAIN = """\
from micrograd.datasets import make_moons
from micrograd.nn.sequential import Dense, Sequential
X, y = make_moons(8, noise=0.1, seed=0)
model = Sequential([Dense(1, activation="sigmoid")], input_dim=2, seed=0)
model.compile(loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=1, batch_size=4, verbose=1)
model.evaluate(X, y, batch_size=4, verbose=1)
_ = model.predict(X, batch_size=4, verbose=1)
"""


def test_in_a_real_kernel_fit_evaluate_and_predict_never_warn():
    cells = [
        'import sys, warnings\nwarnings.simplefilter("always")\nsys.modules["ipywidgets"] = None  # not installed',
        TRAIN,
        'del sys.modules["ipywidgets"]  # installed after all',
        TRAIN,
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(ROOT)}})
    asyncio.run(client.async_execute())
    without, with_widgets = nb.cells[1].outputs, nb.cells[3].outputs
    text = "".join(o.get("text", "") for o in without if o.output_type == "stream")
    assert "Warning" not in text, text
    assert "Epoch 1/1" in text and "evaluate" in text and "predict" in text  # three text bars
    assert not any(WIDGET in o.get("data", {}) for o in without)
    # With ipywidgets, a notebook still gets the widget bars, without a warning either.
    assert sum(WIDGET in o.get("data", {}) for o in with_widgets) == 3
    assert not any("Warning" in o.get("text", "") for o in with_widgets)
