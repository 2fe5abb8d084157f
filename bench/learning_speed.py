"""How fast a preset learns: FG-ARI after 2, 5 and 10 minutes of training, for several training seeds.

Usage (from the repository root, with the venv active; run it on a quiet machine):

    python bench/learning_speed.py                                   # the `cpu` preset, seeds 0 1 2, at 2 5 10 minutes
    python bench/learning_speed.py --seeds 0 --at 1 2 --threads 2    # a quick look
    python bench/learning_speed.py --set slot_init=gaussian          # one lever switched off (the ablation table)
    python bench/learning_speed.py --preset cpu-broadcast --figure curve.png
    python bench/learning_speed.py --seeds 0 --at 20 30 --after 10 --run_dir RUNS   # continue RUNS' 10-minute runs
    python bench/learning_speed.py --redraw run.json --key fg_ari_train_iters --figure curve.png   # draw a saved run
    python bench/learning_speed.py --redraw run.json --also run30.json --figure curve.png   # and other runs, as stars

Data: ColoredMdSprites generated once for all seeds (10,000 training images with seed 0, 320 held-out test images with
seed 10000, the tables' and the demo's sets). Each training seed changes the parameters, the data order and the slot
noise. Training runs in segments with `SlotConfig.minutes` (the wall-clock budget of `slotnb_train --minutes`): train to
the first time point, checkpoint, evaluate, resume to the next one, and so on. Resuming continues bit-identically, so
the segments are one run whose evaluation time is not counted. At each time point: FG-ARI (×100, mean over evaluation
seeds 0, 1, 2; a model with learned queries, whose evaluation draws no noise, is scored with the first seed only, as
every seed gives it the same value) and mBO on the 320 test images. Two reference points are computed once: `one_slot` (every pixel in one
slot) and `kmeans` (per-image k-means on the colours, `slotnb.evaluation.kmeans_masks`). A config with
`eval_iterations` is scored twice: as configured, and with its training iterations (`fg_ari_train_iters`), so one
run gives that lever's ablation. Likewise a config with `merge_slots` is scored again with no merging at evaluation
(`fg_ari_unmerged`, with the configured iterations; the script once left the training iterations switched on for it,
so the `fg_ari_unmerged` of `bench/learning_speed_cpu.json` is five iterations and no merging).

The last line printed is one JSON object: per seed and time point (steps, training seconds, FG-ARI, mBO), the mean and
standard deviation over training seeds at each time point, the references, the load averages, the config.
"""
from __future__ import annotations
import argparse, dataclasses, json, os, shutil, tempfile, time
from pathlib import Path
import numpy as np
import torch

from slotnb.config import SlotConfig
from slotnb.training import train, build_dataset
from slotnb.evaluation import evaluate, load_model, reference_fg_ari, distinct_seeds
from cpu_budget import config_overrides, preset_config
from benchlog import started, provenance
from ablation import eval_levers_off


def references(test_ds) -> dict:
    "One-slot floor and k-means FG-ARI (×100) of the test set (`slotnb.evaluation.reference_fg_ari`)."
    batch = torch.utils.data.default_collate([test_ds[i] for i in range(len(test_ds))])
    return {k: round(100 * float(v.double().nanmean()), 2) for k, v in reference_fg_ari(batch['masks'], batch['image']).items()}


def run_seed(base: SlotConfig, seed: int, at: list[float], run_dir: Path, test_ds, train_ds, eval_seeds,
             after: float = 0.0) -> list[dict]:
    "Train seed `seed` to each time point of `at` (minutes; from its checkpoint of `after` minutes if > 0) and score it."
    cfg = dataclasses.replace(base, seed=seed, model_dir=str(run_dir / f'seed{seed}'))
    rows, done = [], after
    eval_seeds = distinct_seeds(cfg, eval_seeds)            # learned queries draw no noise: the first seed only
    for t in at:
        seg = dataclasses.replace(cfg, minutes=t - done, resume=done > 0)
        t0 = time.perf_counter()
        res = train(seg, dataset=train_ds, progress=False)
        spent = time.perf_counter() - t0
        done = t
        model, _ = load_model(res['checkpoint'])
        ev = evaluate(model, test_ds, seeds=eval_seeds, progress=False)
        prev = rows[-1]['train_s'] if rows else 60.0 * after
        row = {'minutes': t, 'step': res['step'], 'train_s': round(prev + spent, 1), 'fg_ari': round(100 * ev['fg_ari'], 2),
               'fg_ari_std': round(100 * ev['fg_ari_std'], 2), 'mbo': round(100 * ev['mbo'], 2), 'loadavg': os.getloadavg()[0]}
        # the same model with its training iterations, and without merging duplicate slots, at evaluation
        for name, e in eval_levers_off(model, test_ds, eval_seeds, ('train_iters', 'unmerged')).items():
            row.update({f'fg_ari_{name}': round(100 * e['fg_ari'], 2), f'mbo_{name}': round(100 * e['mbo'], 2)})
        rows.append(row)
        print(json.dumps({'seed': seed, **row}), flush=True)
    return rows


def figure(summary: dict, refs: dict, path: str, title: str, key: str = 'fg_ari', also: dict | None = None,
           also_label: str = 'separate runs'):
    """FG-ARI (the runs' `key`: 'fg_ari' as configured, or 'fg_ari_train_iters' etc.) against minutes, with the references.
    `also`: the saved output of another call (e.g. runs trained in one segment to 30 minutes), drawn as stars in each
    training seed's colour, not joined to the lines: they are other runs, not the same runs trained on."""
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colour = {}
    for seed, rows in summary['runs'].items():
        line, = ax.plot([0] + [r['minutes'] for r in rows], [0] + [r[key] for r in rows], marker='o', label=f'training seed {seed}')
        colour[seed] = line.get_color()
    for i, (seed, rows) in enumerate((also or {}).get('runs', {}).items()):
        ax.plot([r['minutes'] for r in rows], [r[key] for r in rows], ls='none', marker='*', ms=10,
                color=colour.get(seed, 'C7'), label=also_label if i == 0 else None)
    ax.axhline(refs['one_slot'], color='grey', ls='--', label=f"every pixel in one slot ({refs['one_slot']:.1f})")
    ax.axhline(refs['kmeans'], color='black', ls=':', label=f"k-means on colours ({refs['kmeans']:.1f})")
    ax.set_xlabel('minutes of training (2 CPU cores)'); ax.set_ylabel('FG-ARI ×100 (320 test images)')
    ax.set_ylim(0, 102); ax.set_title(title, fontsize=9); ax.legend(fontsize=7, loc='lower right')
    fig.tight_layout(); fig.savefig(path, dpi=90); plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--preset', default='cpu')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='training seeds')
    p.add_argument('--at', type=float, nargs='+', default=[2, 5, 10], help='minutes of training at which to evaluate')
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch\'s choice)')
    p.add_argument('--eval_seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--run_dir', default=None, help='keep the runs here (default: a temporary folder, deleted)')
    p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help='override SlotConfig fields of the preset')
    p.add_argument('--after', type=float, default=0.0,
                   help='continue the runs of an earlier call in --run_dir, trained this many minutes (its last --at; '
                        'train_s counts them as that many minutes)')
    p.add_argument('--out', default=None, help='also write the final JSON here')
    p.add_argument('--figure', default=None, help='save FG-ARI against minutes here (PNG)')
    p.add_argument('--redraw', default=None, metavar='JSON', help='train nothing: draw --figure from this saved --out')
    p.add_argument('--key', default='fg_ari', help="with --redraw: the score to draw, e.g. fg_ari_train_iters")
    p.add_argument('--title', default=None, help='with --redraw: the figure\'s title')
    p.add_argument('--also', default=None, metavar='JSON',
                   help='with --redraw: also draw the runs of this saved --out (other runs, e.g. one 30-minute segment) as stars')
    p.add_argument('--also_label', default='separate runs', help='with --also: their legend entry')
    a = p.parse_args(argv)
    if a.redraw:
        out = json.loads(Path(a.redraw).read_text())
        have = set.intersection(*(set(r) for rows in out['runs'].values() for r in rows))
        if a.key not in have: p.error(f'--key {a.key!r} is not a score of every run in {a.redraw}: one of {sorted(have)}')
        also = json.loads(Path(a.also).read_text()) if a.also else None
        if also and also['references'] != out['references']:
            p.error(f'--also {a.also} was scored on other test images than {a.redraw} (their references differ)')
        figure(out, out['references'], a.figure, a.title or f"preset {out['preset']} ({a.key})", a.key, also, a.also_label)
        return out
    if a.after and a.run_dir is None: p.error('--after continues the runs in --run_dir: give --run_dir')
    if a.threads: torch.set_num_threads(a.threads)
    tmp = tempfile.mkdtemp(prefix='learning_speed_') if a.run_dir is None else None
    run_dir = Path(tmp or a.run_dir)
    overrides = config_overrides(a.set)
    base = preset_config(a.preset, overrides, base=True, dataset_path=str(run_dir / 'data'), num_train_steps=10 ** 9,
                         store_freq=10 ** 9, vis_freq=0)
    start = started()
    try:
        data_cfg = dataclasses.replace(base, seed=0)                       # train: seed 0, test: seed 10000
        train_ds, test_ds = build_dataset(data_cfg, 'train', progress=False), build_dataset(data_cfg, 'test', progress=False)
        refs = references(test_ds)
        print(json.dumps({'references': refs}), flush=True)
        runs = {s: run_seed(base, s, sorted(a.at), run_dir, test_ds, train_ds, tuple(a.eval_seeds), a.after) for s in a.seeds}
    finally:
        if tmp: shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for i, t in enumerate(sorted(a.at)):
        vals = np.array([runs[s][i]['fg_ari'] for s in a.seeds])
        mbos = np.array([runs[s][i]['mbo'] for s in a.seeds])
        summary[str(t)] = {'fg_ari_mean': round(float(vals.mean()), 2), 'fg_ari_std': round(float(vals.std(ddof=1)), 2) if len(vals) > 1 else 0.0,
                           'fg_ari_min': round(float(vals.min()), 2), 'mbo_mean': round(float(mbos.mean()), 2),
                           'steps_mean': round(float(np.mean([runs[s][i]['step'] for s in a.seeds])))}
        for key in ('fg_ari_train_iters', 'fg_ari_unmerged'):
            if key in runs[a.seeds[0]][i]:
                v = np.array([runs[s][i][key] for s in a.seeds])
                summary[str(t)].update({f'{key}_mean': round(float(v.mean()), 2),
                                        f'{key}_std': round(float(v.std(ddof=1)), 2) if len(v) > 1 else 0.0})
    out = {'preset': a.preset, 'overrides': overrides, 'seeds': a.seeds, 'at_minutes': sorted(a.at), 'summary': summary,
           'references': refs, 'runs': runs, 'n_test_images': len(test_ds),
           'config': {k: v for k, v in base.to_dict().items() if k not in ('model_dir', 'dataset_path')}, **provenance(start)}
    if a.figure:
        title = f"preset {a.preset}" + (f" with {' '.join(a.set)}" if a.set else '')
        figure(out, refs, a.figure, title)
    if a.out: Path(a.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
