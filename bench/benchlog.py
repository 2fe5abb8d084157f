"""What every benchmark's last line carries besides its numbers: the commit, the machine, how busy it was.

Each script in `bench/` calls `started()` before its measurements and ends with `print_result(result, start)`, which
prints one JSON object: the script's own keys, then the same provenance keys in every script (`commit`, `dirty`,
`loadavg_before`, `loadavg_after` (1, 5 and 15 minutes), `cpu`, `cpu_capability`, `threads`, `torch`, `python`).
Run the scripts from the repository root (`python bench/<script>.py`): Python puts `bench/` on the path itself.
"""
from __future__ import annotations
import json, os, platform
from pathlib import Path
import torch
from slotnb import experiments

ROOT = Path(__file__).resolve().parents[1]


def loadavg() -> list[float]:
    "The 1-, 5- and 15-minute load averages, rounded (others' work on a shared machine shows here)."
    return [round(x, 2) for x in os.getloadavg()]


def git_commit() -> dict:
    "{'commit': short HEAD of the checkout, 'dirty': uncommitted changes to tracked files?} (None where unknown)."
    g = experiments.git_commit(ROOT)                     # the tables' provenance uses the same
    return {**g, 'commit': g['commit'] and g['commit'][:10]}


def started() -> dict:
    "Call before measuring: the load average then."
    return {'loadavg_before': loadavg()}


def provenance(start: dict) -> dict:
    "The keys every benchmark line ends with."
    return {**git_commit(), 'loadavg_before': start['loadavg_before'], 'loadavg_after': loadavg(),
            'cpu': f'{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs',
            'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'threads': torch.get_num_threads(),
            'torch': torch.__version__, 'python': platform.python_version()}


def print_result(result: dict, start: dict) -> dict:
    "Print `result` plus the provenance as the script's last line (one JSON object); return it."
    out = {**result, **provenance(start)}
    print(json.dumps(out), flush=True)
    return out
