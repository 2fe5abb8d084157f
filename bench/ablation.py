"""The lever ablation: the `cpu` preset with one lever switched off at a time, three training seeds, FG-ARI at the step
counts that the preset reaches in 2, 5 and 10 minutes on two cores.

Usage (from the repository root, with the venv active):

    python bench/ablation.py --levers preset no_clip --seeds 0 1 2 --threads 1 --out A.jsonl   # one lane
    python bench/ablation.py --levers dot_logits six_slots --threads 1 --out B.jsonl          # a second, beside it
    python bench/ablation.py --table A.jsonl B.jsonl                                         # the Markdown table
    python bench/ablation.py --list                                                          # the levers

Matched by steps, not by minutes, so that two lanes can run side by side on one thread each without their numbers
depending on the load: `--at` defaults to 504, 1,275 and 2,470 steps, the mean step counts of the preset's 10-minute
benchmark (`bench/learning_speed.py --seeds 0 1 2 --at 2 5 10 --threads 2`, `bench/learning_speed_cpu.json`). A lever
that changes the cost of a step is listed with its cost ratio (measured separately with `bench/ab_config.py`), which
converts its steps into minutes. Each run trains in segments (`train(..., stop_after=...)` with the final step count as
`num_train_steps`, so the learning-rate schedule is the full run's); resuming continues bit-identically.

`bench/ablation/lane*.jsonl` ran on the preset before distance logits (commit `c94e81f`: learned slot queries,
dot-product logits), where `gaussian_init` was the lever it names; today's preset starts from the shared Gaussian, so
that lever is gone and its old rows print under their overrides.

Data: ColoredMdSprites generated once into `--data` (10,000 training images with seed 0, 320 held-out test images with
seed 10000: the benchmark's, the tables' and the demo's sets). At each step count every run is scored as the preset
evaluates (FG-ARI and mBO ×100; evaluation seed 0 for learned queries, which draw no noise, else seeds 0, 1 and 2) and
the preset's runs again with the evaluation-only levers off: the training iterations at evaluation
(`fg_ari_train_iters`) and no merging of duplicate slots (`fg_ari_unmerged`). Each line of `--out` is one JSON object: lever, overrides, seed, step, scores,
training seconds, load average, commit.
"""
from __future__ import annotations
import argparse, dataclasses, json, os, tempfile, time
from pathlib import Path
import numpy as np
import torch

from slotnb.training import train, build_dataset
from slotnb.evaluation import evaluate, load_model, distinct_seeds
from cpu_budget import preset_config
from benchlog import git_commit

# name → (overrides of the `cpu` preset, what switching it off means); 'preset' is the reference row
LEVERS = {
    'preset': ({}, 'the `cpu` preset as it is'),
    'no_clip': ({'grad_clip': -1.0}, 'no gradient clipping (`grad_clip=-1`; the preset clips the global norm to 0.05)'),
    'dot_logits': ({'attn_logits': 'dot'}, "dot-product logits (`attn_logits=dot`, the original's) instead of distance"),
    'learned_queries': ({'slot_init': 'learned', 'eval_slots': 0},
                        'learned slot queries (`slot_init=learned`, ten slots at evaluation) instead of the shared Gaussian'),
    'six_slots': ({'num_slots': 6}, 'six slots (`num_slots=6`) instead of ten'),
    'no_color_balance': ({'loss_color_balance': 0.0}, 'plain MSE over pixels (`loss_color_balance=0`)'),
    'no_edge_weight': ({'loss_edge_weight': 0.0}, 'no extra weight on colour edges (`loss_edge_weight=0`)'),
    'no_attention_alpha': ({'decoder_attention_alpha': 0.0}, 'masks from the slot alone (`decoder_attention_alpha=0`)'),
    'no_rgb_tokens': ({'encoder_rgb': False}, 'tokens without the input colour (`encoder_rgb=False`)'),
    'full_backprop': ({'implicit_grad': False}, 'the gradient through all five iterations (`implicit_grad=False`)'),
    'rgb_decoder': ({'decoder_flat_color': False}, 'a colour per pixel (`decoder_flat_color=False`)'),
}
DEFAULT_AT = (504, 1275, 2470)          # the preset's mean steps at 2 / 5 / 10 minutes (bench/learning_speed_cpu.json)


# the evaluation-only levers: name → (the module holding the setting, the attribute, its value when off)
EVAL_ONLY = {'train_iters': ('slot_attention', 'eval_iters', None),      # the training iterations at evaluation
             'train_slots': ('slot_attention', 'eval_slots', None),      # the training number of slots
             'unmerged': ('', 'merge_threshold', 0.0)}                   # no merging of duplicate slots


def eval_levers_off(model, test_ds, seeds, levers=tuple(EVAL_ONLY)) -> dict:
    "{lever: `evaluate` result} with each evaluation-only lever the model has switched off on its own, then restored."
    out = {}
    for name in levers:
        part, attr, off = EVAL_ONLY[name]
        holder = getattr(model, part) if part else model
        on = getattr(holder, attr)
        if not on: continue                                          # not configured: nothing to switch off
        setattr(holder, attr, off)
        try: out[name] = evaluate(model, test_ds, seeds=seeds, progress=False)
        finally: setattr(holder, attr, on)
    return out


def score(model, cfg, test_ds, extras: bool = True) -> dict:
    """FG-ARI / mBO (×100) as configured; with `extras`, again with the training iterations, with the training number of
    slots and with no merging at evaluation (the evaluation-only levers, each off on its own)."""
    seeds = distinct_seeds(cfg, (0, 1, 2))                       # learned queries draw no noise: seed 0 only
    ev = evaluate(model, test_ds, seeds=seeds, progress=False)
    out = {'fg_ari': round(100 * ev['fg_ari'], 2), 'mbo': round(100 * ev['mbo'], 2)}
    if extras:
        out.update({f'fg_ari_{name}': round(100 * e['fg_ari'], 2) for name, e in eval_levers_off(model, test_ds, seeds).items()})
    return out


def probe_data(path: str) -> tuple:
    "(train, test) ColoredMdSprites of the probes in `path`, made on first use: training seed 0, test seed 10000."
    cfg = preset_config('cpu', {}, base=True, dataset_path=path, seed=0)
    return build_dataset(cfg, 'train', progress=False), build_dataset(cfg, 'test', progress=False)


def train_segments(cfg, at: list[int], train_ds, done: int = 0):
    """Train `cfg` on from step `done` to each step count of `at` beyond it (resuming bit-identically), yielding
    (step, training seconds so far, the model of that checkpoint)."""
    spent = 0.0
    for n in sorted(s for s in at if s > done):
        t0 = time.perf_counter()
        res = train(dataclasses.replace(cfg, resume=done > 0), dataset=train_ds, progress=False, stop_after=n - done)
        spent += time.perf_counter() - t0
        done = res['step']
        yield done, spent, load_model(res['checkpoint'])[0]


def emit(row: dict, out_path) -> None:
    "Print a result line and append it to `out_path` (if given)."
    print(json.dumps(row), flush=True)
    if out_path:
        with Path(out_path).open('a') as f: f.write(json.dumps(row) + '\n')


def run(lever: str, seed: int, at: list[int], data: str, run_dir: Path, train_ds, test_ds, out_path: Path | None):
    "Train one lever and seed to each step count of `at`, score each checkpoint, append a line per step count."
    overrides, _ = LEVERS[lever]
    cfg = preset_config('cpu', overrides, base=True, dataset_path=data, seed=seed, num_train_steps=max(at),
                        store_freq=10 ** 9, store_minutes=0.0, vis_freq=0, model_dir=str(run_dir / f'{lever}_seed{seed}'))
    for done, spent, model in train_segments(cfg, at, train_ds):
        emit({'lever': lever, 'overrides': overrides, 'seed': seed, 'step': done, 'train_s': round(spent, 1),
              **score(model, cfg, test_ds, extras=lever == 'preset'), 'loadavg': round(os.getloadavg()[0], 2),
              **git_commit()}, out_path)


def table(paths: list[str], cost: dict[str, float]) -> str:
    "Markdown: a row per lever, mean ± std over training seeds at each step count, and the change at the last one."
    rows = [json.loads(l) for p in paths for l in Path(p).read_text().splitlines() if l.strip()]
    rows = list({(r['lever'], r['seed'], r['step']): r for r in rows}.values())     # a rerun's line replaces the first
    steps = sorted({r['step'] for r in rows})
    by = {}
    for r in rows: by.setdefault(r['lever'], {}).setdefault(r['step'], []).append(r)
    def stat(rs, key='fg_ari'):
        v = np.array([r[key] for r in rs])
        return f'{v.mean():.1f} ± {v.std(ddof=1):.1f}' if len(v) > 1 else f'{v.mean():.1f}'
    ref = by.get('preset', {}).get(steps[-1])
    ref_mean = np.mean([r['fg_ari'] for r in ref]) if ref else None
    head = ('| switched off | ' + ' | '.join(f'{s:,} steps' for s in steps) + f' | seeds at {steps[-1]:,} | '
            f'change at {steps[-1]:,} | mBO at {steps[-1]:,} | step cost |')
    lines = [head, '|' + '---|' * (len(steps) + 5)]
    order = [k for k in LEVERS if k in by] + sorted(k for k in by if k not in LEVERS)
    for lever in order:
        last = by[lever].get(steps[-1], [])
        seeds = ' / '.join(f"{r['fg_ari']:.1f}" for r in sorted(last, key=lambda r: r['seed']))
        change = f"{np.mean([r['fg_ari'] for r in last]) - ref_mean:+.1f}" if (ref_mean is not None and last and lever != 'preset') else ''
        cells = [stat(by[lever][s]) if s in by[lever] else '' for s in steps]
        name = ('**none: the preset**' if lever == 'preset' else LEVERS[lever][1] if lever in LEVERS
                else f"`{lever}` ({', '.join(f'{k}={v}' for k, v in by[lever][steps[-1]][0]['overrides'].items())})")
        n = len({r['seed'] for v in by[lever].values() for r in v})
        if len(last) < n or n < len({r['seed'] for r in rows}):    # a row stopped early says how far it got
            name += ' (seeds: ' + ' / '.join(str(len(by[lever].get(s, []))) for s in steps) + ')'
        lines.append(f'| {name} | ' + ' | '.join(cells) + f' | {seeds} | {change} | {stat(last, "mbo") if last else ""} | '
                     f'{cost.get(lever, "")} |')
    if ref:
        for key, what in (('fg_ari_train_iters', 'five iterations at evaluation (`eval_iterations=0`)'),
                          ('fg_ari_train_slots', 'ten slots at evaluation (`eval_slots=0`)'),
                          ('fg_ari_unmerged', 'no merging at evaluation (`merge_slots=0`)')):
            rs = {s: by['preset'][s] for s in steps if s in by['preset']}
            if all(key in r for v in rs.values() for r in v):
                last = rs[steps[-1]]
                seeds = ' / '.join(f"{r[key]:.1f}" for r in sorted(last, key=lambda r: r['seed']))
                change = f"{np.mean([r[key] for r in last]) - ref_mean:+.1f}"
                lines.append(f'| {what} | ' + ' | '.join(stat(rs[s], key) for s in steps) + f' | {seeds} | {change} | | 1 |')
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--levers', nargs='+', default=['preset'], help=f'rows to run, of {list(LEVERS)}')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='training seeds')
    p.add_argument('--at', type=int, nargs='+', default=list(DEFAULT_AT), help='step counts at which to score')
    p.add_argument('--threads', type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument('--data', default=str(Path(tempfile.gettempdir()) / 'slotnb_probe_data'),
                   help='generated ColoredMdSprites (made on first use)')
    p.add_argument('--run_dir', default=None, help='the checkpoints (default: a folder under the temporary directory)')
    p.add_argument('--out', default=None, help='append one JSON line per lever, seed and step count here')
    p.add_argument('--table', nargs='+', default=None, metavar='JSONL', help='train nothing: print the table of these files')
    p.add_argument('--cost', nargs='*', default=[], metavar='LEVER=RATIO', help='with --table: step-cost ratios to list')
    p.add_argument('--list', action='store_true', help='list the levers and exit')
    a = p.parse_args(argv)
    if a.list:
        for k, (o, what) in LEVERS.items(): print(f'{k:20s} {what}')
        return
    if a.table:
        print(table(a.table, dict(kv.split('=', 1) for kv in a.cost)))
        return
    bad = [l for l in a.levers if l not in LEVERS]
    if bad: p.error(f'unknown lever(s) {bad}: one of {list(LEVERS)}')
    if a.threads: torch.set_num_threads(a.threads)
    run_dir = Path(a.run_dir or Path(tempfile.gettempdir()) / 'slotnb_ablation')
    train_ds, test_ds = probe_data(a.data)
    for lever in a.levers:
        for s in a.seeds:
            run(lever, s, a.at, a.data, run_dir, train_ds, test_ds, Path(a.out) if a.out else None)


if __name__ == '__main__':
    main()
