"""FG-ARI against training steps for several configs, from the JSON lines of the step-matched benchmarks
(`bench/ablation.py --out`, `bench/continue_probe.py --out`): each seed a dot, the mean over seeds a line, with the
one-slot floor and the k-means reference of the test set drawn across.

Usage (from the repository root):

    python bench/steps_figure.py --out bench/distance_logits.png \\
        --series 'the preset before=bench/ablation/laneA.jsonl:lever=preset:fg_ari' \\
        --series 'distance logits=bench/distance/steps.jsonl:name=gdist,lr_anneal=0.5:fg_ari_k20' ...

A series is `LABEL=FILE[,FILE...]:FILTER:KEY`: the rows of the files whose fields match every `field=value` of FILTER
(comma-separated; empty: all rows), scored by KEY (`a|b`: the first of the two a row has). A (seed, step) pair seen twice keeps the later row. `--minutes S`
adds a top axis in minutes at S seconds a step.
"""
from __future__ import annotations
import argparse, json
from pathlib import Path
import numpy as np


def series_rows(spec: str) -> tuple[str, dict]:
    "`LABEL=FILES:FILTER:KEY` → (label, {step: [score per seed]})."
    label, _, rest = spec.partition('=')
    files, filt, key = rest.split(':')
    want = dict(kv.split('=', 1) for kv in filt.split(',') if kv)
    keys, keep = key.split('|'), {}
    for f in files.split(','):
        for line in Path(f).read_text().splitlines():
            if not line.strip(): continue
            r = json.loads(line)
            k = next((k for k in keys if k in r), None)
            if k and all(str(r.get(field)) == v for field, v in want.items()): keep[(r['seed'], r['step'])] = r[k]
    by_step = {}
    for (_, step), v in sorted(keep.items(), key=lambda kv: kv[0][1]): by_step.setdefault(step, []).append(v)
    if not by_step: raise SystemExit(f'--series {spec!r}: no rows match')
    return label, by_step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--series', action='append', required=True, metavar='LABEL=FILES:FILTER:KEY')
    p.add_argument('--floor', type=float, default=22.8, help='FG-ARI ×100 of every pixel in one slot')
    p.add_argument('--kmeans', type=float, default=100.0, help='FG-ARI ×100 of per-image k-means on the colours')
    p.add_argument('--minutes', type=float, default=None, help='seconds a step, for a top axis in minutes')
    p.add_argument('--title', default='FG-ARI against training steps (step-matched, 1 thread)')
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, spec in enumerate(a.series):
        label, by_step = series_rows(spec)
        steps = sorted(by_step)
        color = f'C{i}'
        for s in steps: ax.plot([s] * len(by_step[s]), by_step[s], 'o', color=color, alpha=0.35, ms=4)
        ax.plot(steps, [np.mean(by_step[s]) for s in steps], '-', color=color, lw=2,
                label=f"{label} ({'–'.join(sorted({str(len(v)) for v in by_step.values()}))} seeds)")
    ax.axhline(a.kmeans, color='k', ls='--', lw=1, label=f'per-image k-means on colours ({a.kmeans:.1f})')
    ax.axhline(a.floor, color='gray', ls=':', lw=1, label=f'every pixel in one slot ({a.floor:.1f})')
    ax.set_xlabel('training steps (batch 8)')
    ax.set_ylabel('FG-ARI ×100 (320 held-out images)')
    ax.set_ylim(max(0, a.floor - 5), 101)
    ax.set_title(a.title, fontsize=10, pad=30 if a.minutes else 6)
    ax.legend(fontsize=7, loc='lower right')
    ax.grid(alpha=0.3)
    if a.minutes:
        top = ax.secondary_xaxis('top', functions=(lambda s: s * a.minutes / 60, lambda m: m * 60 / a.minutes))
        top.set_xlabel(f'minutes on 2 cores at {a.minutes:.3f} s a step', fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    print(a.out)


if __name__ == '__main__':
    main()
