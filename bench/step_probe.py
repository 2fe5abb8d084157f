"""Step-matched lever probes: train a preset for a fixed number of steps per training seed, with FIELD=VALUE changes,
and score FG-ARI and mBO on the 320 held-out images.

Usage (from the repository root, with the venv active):

    python bench/step_probe.py --steps 3000 --seeds 0 1                                  # the `cpu` preset as it is
    python bench/step_probe.py --steps 3000 --seeds 0 1 --set loss_color_balance=0       # one lever switched off
    python bench/step_probe.py --steps 3000 --seeds 0 --threads 1 --set implicit_grad=False num_iterations=3

Matched by steps, not by minutes: other work on the machine changes a probe's wall time, not its numbers, so two probes
can run side by side on one thread each (`bench/learning_speed.py` measures against the clock and needs a quiet
machine). Data: ColoredMdSprites generated once into `--data` (10,000 training images with seed 0, 320 held-out test
images with seed 10000: the set of `bench/learning_speed.py`, the tables and the demo). Each training seed changes the
parameters, the data order and the slot noise. Scores: FG-ARI and mBO (×100) with evaluation seed 0, and FG-ARI again
with the training iterations at evaluation (`fg_ari_train_iters`) and with two more iterations at evaluation than
configured (`fg_ari_iters_plus2`), and with duplicate slots merged at evaluation (`fg_ari_merged`: the config's
`merge_slots`, or 0.99 where it has none).

The last line printed is one JSON object: per seed (steps, training seconds, scores), the means, the overrides, the
config and the provenance keys of `benchlog`.
"""
from __future__ import annotations
import argparse, dataclasses, json, tempfile, time
from pathlib import Path
import numpy as np
import torch

from slotnb.config import SlotConfig
from slotnb.training import train, build_dataset
from slotnb.evaluation import evaluate, load_model
from cpu_budget import config_overrides, preset_config
from benchlog import started, provenance


def probe_seed(base: SlotConfig, seed: int, steps: int, run_dir: Path, train_ds, test_ds) -> dict:
    "Train `base` with `seed` for `steps` steps from scratch and score it; one row of results."
    cfg = dataclasses.replace(base, seed=seed, num_train_steps=steps, store_freq=steps,
                              model_dir=str(run_dir / f'seed{seed}'))
    t0 = time.perf_counter()
    res = train(cfg, dataset=train_ds, progress=False)
    train_s = time.perf_counter() - t0
    model, _ = load_model(res['checkpoint'])
    ev = evaluate(model, test_ds, seeds=(0,), progress=False)
    sa = model.slot_attention
    configured = sa.eval_iters
    sa.eval_iters = sa.iters                                       # the training iterations at evaluation
    same = evaluate(model, test_ds, seeds=(0,), progress=False)
    sa.eval_iters = (configured or sa.iters) + 2                   # two more than configured
    more = evaluate(model, test_ds, seeds=(0,), progress=False)
    sa.eval_iters = configured
    model.merge_threshold = model.merge_threshold or 0.99         # duplicate slots merged at evaluation
    merged = evaluate(model, test_ds, seeds=(0,), progress=False)
    return {'seed': seed, 'step': res['step'], 'train_s': round(train_s, 1), 'fg_ari': round(100 * ev['fg_ari'], 2),
            'mbo': round(100 * ev['mbo'], 2), 'fg_ari_train_iters': round(100 * same['fg_ari'], 2),
            'fg_ari_iters_plus2': round(100 * more['fg_ari'], 2), 'fg_ari_merged': round(100 * merged['fg_ari'], 2)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--preset', default='cpu')
    p.add_argument('--steps', type=int, default=3000, help='training steps per seed')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1], help='training seeds')
    p.add_argument('--threads', type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help='override SlotConfig fields of the preset')
    p.add_argument('--data', default=str(Path(tempfile.gettempdir()) / 'slotnb_probe_data'),
                   help='generated ColoredMdSprites (made on first use)')
    p.add_argument('--run_dir', default=None, help='keep the checkpoints here (default: a temporary folder, deleted)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    overrides = config_overrides(a.set)
    base = preset_config(a.preset, overrides, base=True, dataset_path=a.data, vis_freq=0)
    data_cfg = dataclasses.replace(base, seed=0)                        # train: seed 0, test: seed 10000
    train_ds, test_ds = build_dataset(data_cfg, 'train', progress=False), build_dataset(data_cfg, 'test', progress=False)
    start = started()
    with tempfile.TemporaryDirectory(prefix='step_probe_') as tmp:
        run_dir = Path(a.run_dir or tmp)
        rows = []
        for s in a.seeds:
            rows.append(probe_seed(base, s, a.steps, run_dir, train_ds, test_ds))
            print(json.dumps(rows[-1]), flush=True)
    means = {k: round(float(np.mean([r[k] for r in rows])), 2) for k in ('fg_ari', 'mbo', 'fg_ari_train_iters', 'fg_ari_iters_plus2',
                                                                  'fg_ari_merged')}
    out = {'preset': a.preset, 'overrides': overrides, 'steps': a.steps, 'seeds': a.seeds, 'mean': means, 'runs': rows,
           'n_test_images': len(test_ds),
           'config': {k: v for k, v in base.to_dict().items() if k not in ('model_dir', 'dataset_path')},
           **provenance(start)}
    print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
