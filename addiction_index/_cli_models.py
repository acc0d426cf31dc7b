"""``addiction-index train``, ``evaluate`` and ``models list/show/promote``.

Wire into ``cli.py``::

    from addiction_index._cli_models import evaluate_command, models_app, train_command
    app.command("train")(train_command)
    app.command("evaluate")(evaluate_command)
    app.add_typer(models_app, name="models")

Tables come from a dataset through the batch extraction (imported lazily, so this module imports
without it). ``--data-dir`` is the data folder holding ``datasets/`` and ``models/`` (default
``$ADDICTION_INDEX_DATA_DIR`` or the user data folder); ``--models-dir`` overrides the models
folder alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index._cli_common import JsonOption
from addiction_index._cli_common import dump_json as _dump
from addiction_index._cli_common import fail as _fail
from addiction_index.errors import AddictionIndexError, InputError

__all__ = ["evaluate_command", "load_tables", "models_app", "train_command"]

models_app = typer.Typer(help="Trained models: list, show, promote.", no_args_is_help=True)

ModelsDirOption = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Model registry folder (default: <data dir>/models)."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data folder with datasets/ (default: $ADDICTION_INDEX_DATA_DIR)."
    ),
]
BootstrapOption = Annotated[
    int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples of subjects for the CIs.")
]


def _models_dir(models_dir: Path | None, data_dir: Path | None) -> Path | None:
    if models_dir is not None:
        return models_dir
    return data_dir / "models" if data_dir is not None else None


_OK = ("computed", "cached")


def load_tables(
    dataset: str, data_dir: Path | None, task: str, progress: bool = True
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The task's table of ``dataset`` (extracting features first) and its provenance."""
    from addiction_index.datasets._extract import extract_dataset
    from addiction_index.datasets._manifest import MANIFEST, DatasetCatalog, file_sha256
    from addiction_index.datasets._tables import block_table, session_table

    catalog = DatasetCatalog.in_data_dir(data_dir)
    catalog.load(dataset)  # a clear error when the dataset does not exist
    extracted = extract_dataset(catalog, dataset, workers=1, progress=progress)
    left_out = [f"{o.id} ({o.status})" for o in extracted.outcomes if o.status not in _OK]
    if left_out:
        Console(stderr=True).print(f"[yellow]left out:[/] {', '.join(left_out)}", highlight=False)
    blocks = block_table(catalog, dataset, missing="skip")
    table = blocks if task == "craving" else session_table(blocks)
    return table, {
        "dataset": dataset,
        "manifest_hash": file_sha256(catalog.folder(dataset) / MANIFEST),
    }


def _metric_table(title: str, metrics: dict[str, Any], comparison: dict[str, str]) -> Table:
    from addiction_index.models._model_card import metric_rows

    table = Table(title=title)
    for header in ("metric", "trained [95% CI]", "default [95% CI]", "difference", "verdict"):
        table.add_column(header)
    for row in metric_rows(metrics, comparison):
        table.add_row(
            row["metric"], row["model"], row["default"], row["difference"], row["verdict"]
        )
    return table


def train_command(
    task: Annotated[str, typer.Argument(help="craving or index.")],
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    model: Annotated[
        str | None,
        typer.Option(help="ridge, random-forest, gbm (craving); logistic, gbm (index)."),
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Label to learn (default vas_craving / diagnosis).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Artifact name (default TASK-MODEL-vN).")] = None,
    models_dir: ModelsDirOption = None,
    data_dir: DataDirOption = None,
    outer_folds: Annotated[int, typer.Option(min=2, help="Outer subject-grouped folds.")] = 5,
    inner_folds: Annotated[int, typer.Option(min=2, help="Inner (tuning) folds.")] = 3,
    bootstrap: BootstrapOption = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Validate (nested, grouped by subject), then train on all rows and save an artifact."""
    from addiction_index.models._artifact import is_artifact_name, save_trained
    from addiction_index.models._registry import models_root, next_name
    from addiction_index.models._training import MODELS, TASKS, train_model
    from addiction_index.models._validation import validate

    console = Console(stderr=as_json)
    try:
        if task not in TASKS:
            raise InputError("TASK", task, " or ".join(TASKS))
        model = model or MODELS[task][0]
        if name is not None and not is_artifact_name(name):
            raise InputError("--name", name, "letters, digits, '.', '_' or '-'")
        folder = _models_dir(models_dir, data_dir)
        table, source = load_tables(dataset, data_dir, task, progress=not as_json)
        with console.status(f"validating {task} {model} on {dataset}…"):
            result = validate(
                table,
                task,
                model,
                label,
                outer_folds=outer_folds,
                inner_folds=inner_folds,
                n_bootstrap=bootstrap,
                seed=seed,
                **source,
            )
            trained = train_model(
                table, task, model, label, inner_folds=inner_folds, seed=seed, **source
            )
        name = name or next_name(task, model, folder)
        paths = save_trained(models_root(folder) / name, trained, result)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    summary = {
        "name": name,
        "task": task,
        "model": model,
        "label": trained.label,
        "paths": {k: str(v) for k, v in paths.items() if k != "name"},
        "best_params": trained.best_params,
        "data": trained.data,
        "validation": result.scheme,
        "metrics": result.metrics,
        "comparison": result.comparison,
        "statement": NOT_A_DIAGNOSIS,
    }
    if as_json:
        _dump(summary)
        return
    console.print(_metric_table(f"{name}: out-of-fold metrics", result.metrics, result.comparison))
    console.print(f"saved {paths['skops']} and its model card {paths['card']}")
    console.print(f"[dim]{NOT_A_DIAGNOSIS}[/]")


def evaluate_command(
    name: Annotated[str, typer.Argument(help="Artifact name in the registry.")],
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML report path.")] = None,
    models_dir: ModelsDirOption = None,
    data_dir: DataDirOption = None,
    outer_folds: Annotated[int, typer.Option(min=2, help="Outer subject-grouped folds.")] = 5,
    inner_folds: Annotated[int, typer.Option(min=2, help="Inner (tuning) folds.")] = 3,
    bootstrap: BootstrapOption = 1000,
    as_json: JsonOption = False,
) -> None:
    """Write an HTML evaluation report of a saved model on a dataset."""
    from addiction_index.models._artifact import artifact_paths, load_artifact
    from addiction_index.models._evaluation_report import write_report
    from addiction_index.models._explain import explain
    from addiction_index.models._registry import models_root
    from addiction_index.models._validation import evaluate_artifact

    console = Console(stderr=as_json)
    try:
        folder = models_root(_models_dir(models_dir, data_dir))
        artifact = load_artifact(folder / f"{name}.skops")
        table, source = load_tables(dataset, data_dir, artifact.task, progress=not as_json)
        with console.status(f"evaluating {name} on {dataset}…"):
            result, external = evaluate_artifact(
                artifact,
                table,
                outer_folds=outer_folds,
                inner_folds=inner_folds,
                n_bootstrap=bootstrap,
                **source,
            )
            why = explain(artifact.estimator, artifact.features(table), artifact.task, top_k=10)
        card = artifact_paths(artifact.path)["card"]
        target = write_report(
            out or Path(f"{name}.{dataset}.report.html"),
            result,
            meta=artifact.meta,
            card=card.read_text(encoding="utf-8") if card.is_file() else "",
            external=external,
            explanations=why,
        )
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump({"name": name, "report": str(target), **result.to_dict(), "external": external})
        return
    console.print(_metric_table(f"{name} on {dataset}", result.metrics, result.comparison))
    console.print(f"report: {target}")


@models_app.command("list")
def list_command(
    models_dir: ModelsDirOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """List trained model artifacts; * marks the live model of its task."""
    from addiction_index.models._registry import list_models, models_root

    models_dir = _models_dir(models_dir, data_dir)
    try:
        models = list_models(models_dir)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(models)
        return
    console = Console()
    if not models:
        console.print(f"no trained models in {models_root(models_dir)}; the default is used")
        return
    table = Table(title=f"models in {models_root(models_dir)}")
    for header in ("", "name", "task", "label", "subjects", "metrics", "created", "by"):
        table.add_column(header, no_wrap=header in ("", "name"))
    for m in models:
        metrics = ", ".join(f"{k} {v:.3g}" for k, v in m["metrics"].items() if v is not None)
        table.add_row(
            "*" if m["live"] else "",
            m["name"],
            m["task"],
            m["label"],
            str(m["n_subjects"]),
            metrics or "not validated",
            m["created"],
            m["trained_by"],
        )
    console.print(table)


@models_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Artifact name.")],
    models_dir: ModelsDirOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an artifact's metadata and model card."""
    from addiction_index.models._registry import show_model

    models_dir = _models_dir(models_dir, data_dir)
    try:
        info = show_model(name, models_dir)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(info)
        return
    console = Console()
    live = "live" if info["summary"]["live"] else "not live"
    console.print(f"[bold]{name}[/] ({live}) {info['path']}", highlight=False)
    console.print(info["card"] or "no model card", markup=False, highlight=False)


@models_app.command("promote")
def promote_command(
    name: Annotated[str, typer.Argument(help="Artifact name.")],
    by: Annotated[str | None, typer.Option(help="Who promotes (default: OS user).")] = None,
    task: Annotated[str | None, typer.Option(help="Task (default: the model's).")] = None,
    models_dir: ModelsDirOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a trained model the live model of its task (recorded with who and when)."""
    from addiction_index.models._registry import promote

    models_dir = _models_dir(models_dir, data_dir)
    try:
        entry = promote(name, task=task, by=by, models_dir=models_dir)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(entry)
        return
    Console().print(
        f"{name} is now the live {entry['task']} model (by {entry['by']} at {entry['at']}; "
        f"previous: {entry['previous'] or 'transparent default'})",
        highlight=False,
    )
