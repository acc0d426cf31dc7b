"""The HTML evaluation report."""

from __future__ import annotations

import re

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.models._evaluation_report import render_report, write_report
from addiction_index.models._validation import validate

FAST = {"outer_folds": 3, "inner_folds": 2, "n_bootstrap": 100}


def test_craving_report_has_plots_metrics_and_statement(block_table, tmp_path):
    result = validate(block_table, "craving", "ridge", **FAST)
    path = write_report(tmp_path / "r.html", result, card="# Model card: x\n\n## Limits\nsmall")
    page = path.read_text()
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) == 2
    assert NOT_A_DIAGNOSIS in page and "not a diagnosis" in page
    assert "MAE" in page and "Spearman" in page
    mae = result.metrics["model"]["mae"]
    assert f"{mae['value']:.3g} [{mae['ci_low']:.3g}, {mae['ci_high']:.3g}]" in page
    assert "transparent default" in page
    assert "grouped by subject" in page
    assert "Model card: x" in page
    assert "LEAKY" not in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_index_report_has_roc_and_reliability(session_table):
    result = validate(session_table, "index", "logistic", **FAST)
    page = render_report(result)
    assert page.count("data:image/png;base64,") == 2
    assert "ROC" in page and "Reliability" in page and "ECE" in page and "AUC" in page
    assert "calibration" in page.lower()


def test_leaky_report_is_marked(block_table):
    result = validate(block_table, "craving", "ridge", leaky=True, **FAST)
    assert "LEAKY" in render_report(result)


def test_report_shows_what_drives_the_scores(block_table):
    from addiction_index.models._explain import explain
    from addiction_index.models._training import task_data, train_model

    trained = train_model(block_table, "craving", "ridge", inner_folds=2)
    X = task_data(block_table, "craving").X
    why = explain(trained.estimator, X, "craving", top_k=3)
    page = render_report(validate(block_table, "craving", "ridge", **FAST), explanations=why)
    assert "What drives the scores" in page and "linear" in page
    top = max(why, key=lambda e: e.score)
    assert f"{top.contributions[0]['contribution']:+.3g}" in page
    assert "No explanations" in render_report(validate(block_table, "craving", "ridge", **FAST))
