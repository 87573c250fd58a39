"""Training needs the `train` extra (scikit-learn, numpy, scipy); without it the failure is a
typed error naming the extra, and a trained model still loads (model.py needs none of them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from threadline.errors import MissingExtra
from threadline.triage.train import fit_head


def test_training_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    with pytest.raises(MissingExtra) as caught:
        fit_head(["refund please"], [[0.0]], ["complaint"])
    assert caught.value.code == "missing_extra"
    assert "threadline[train]" in caught.value.message


def test_runtime_triage_imports_no_training_package() -> None:
    code = ("import sys, threadline.triage, threadline.web.app; "
            "print(sorted({'numpy', 'scipy', 'sklearn'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
