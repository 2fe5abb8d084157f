"""Has a run left the first plateau? Train a preset a few hundred steps and print its reconstruction loss per 100 steps
and FG-ARI on the first test images.

Usage (from the repository root, with the venv active):

    python bench/plateau_probe.py --steps 400 --seed 1                          # the `cpu` preset
    python bench/plateau_probe.py --steps 400 --seed 1 --threads 1 --set grad_clip=-1   # the same without clipping

The first plateau of Slot Attention is one slot painting every pixel: FG-ARI at the one-slot floor (22.8 on the test
set), mBO near 5, a reconstruction loss that stops falling. Whether a training seed leaves it in the first few hundred
steps decides most of what it scores after minutes, so a short probe per seed compares levers for it at a fraction of a
benchmark's time (`bench/learning_speed.py` measures the minutes). Matched by steps: two probes can run side by side on
one thread each. Data: ColoredMdSprites generated once into `--data` (the set of `bench/step_probe.py`). Scores: FG-ARI
and mBO (×100, evaluation seed 0) on the first `--test_images` of the 320 held-out images.

The last line printed is one JSON object: the reconstruction loss averaged over each 100 steps, the scores, the
overrides and the provenance keys of `benchlog`.
"""
from __future__ import annotations
import argparse, csv, dataclasses, json, tempfile
from pathlib import Path
import torch

from slotnb.training import train, build_dataset
from slotnb.evaluation import evaluate, load_model
from cpu_budget import config_overrides, preset_config
from benchlog import started, provenance


def loss_per_100(scalars: Path) -> list[float]:
    "Mean of the logged `recon_loss` over steps 1–100, 101–200, ... of a run's `scalars.csv`."
    windows = {}
    for row in csv.DictReader(open(scalars)):
        windows.setdefault((int(row['step']) - 1) // 100, []).append(float(row['recon_loss']))
    return [round(sum(v) / len(v), 4) for _, v in sorted(windows.items())]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--preset', default='cpu')
    p.add_argument('--steps', type=int, default=400)
    p.add_argument('--seed', type=int, default=0, help='training seed')
    p.add_argument('--threads', type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help='override SlotConfig fields of the preset')
    p.add_argument('--test_images', type=int, default=96, help='score on the first this many test images')
    p.add_argument('--data', default=str(Path(tempfile.gettempdir()) / 'slotnb_probe_data'),
                   help='generated data folder (made on first use, shared with step_probe.py)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    start = started()
    overrides = config_overrides(a.set)
    with tempfile.TemporaryDirectory(prefix='plateau_probe_') as run_dir:
        cfg = preset_config(a.preset, overrides, base=True, dataset_path=a.data, seed=a.seed, num_train_steps=a.steps,
                            store_freq=a.steps, vis_freq=0, model_dir=run_dir)
        data_cfg = dataclasses.replace(cfg, seed=0)                        # train: seed 0, test: seed 10000
        train_ds, test_ds = build_dataset(data_cfg, 'train', progress=False), build_dataset(data_cfg, 'test', progress=False)
        res = train(cfg, dataset=train_ds, progress=False)
        model, _ = load_model(res['checkpoint'])
        ev = evaluate(model, torch.utils.data.Subset(test_ds, range(min(a.test_images, len(test_ds)))), seeds=(0,),
                      progress=False)
        losses = loss_per_100(Path(run_dir) / 'scalars.csv')
    out = {'seed': a.seed, 'steps': res['step'], 'loss_per_100': losses, 'fg_ari': round(100 * ev['fg_ari'], 2),
           'mbo': round(100 * ev['mbo'], 2), 'one_slot_fg_ari': round(100 * ev['one_slot_fg_ari'], 2),
           'test_images': a.test_images, 'overrides': overrides, **provenance(start)}
    print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
