"""The unit registry of rule expressions under concurrent use."""

from __future__ import annotations


def test_rule_sets_load_in_parallel_threads() -> None:
    """The web server loads a rule set per starting session in worker threads: the unit registry
    is built once, so quantities from one thread never meet another registry's (a race once
    failed two sessions started together with "'*' needs numbers, got <Quantity(1, 'year')>")."""
    import subprocess
    import sys

    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from addiction_index.prescriptions import load_rule_set\n"
        "with ThreadPoolExecutor(6) as pool:\n"
        "    list(pool.map(lambda _: load_rule_set(), range(6)))\n"
    )
    # a fresh process: the registry must be built for the first time by the racing threads
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
