"""Continue the step-matched runs of `bench/ablation.py` to more steps (the 20- and 30-minute points), optionally taking
the learning rate to 0 over the last part of the run, and score them with more slots at evaluation.

Usage (from the repository root, with the venv active; the ablation's run folder with its 2,470-step checkpoints):

    python bench/continue_probe.py --from RUNS --lever gaussian_init --seeds 0 1 2 --at 4940 7410 --lr_anneal 0.5 \
        --eval_slots 10 20 --threads 1 --out bench/ablation/thirty.jsonl
    python bench/continue_probe.py --from RUNS --name gdist --set slot_init=gaussian attn_logits=distance ...

Each `{lever}_seed{S}` folder of `--from` (`{name}_seed{S}` with `--name`, for runs of `bench/step_probe.py --run_dir` or
of another config given by `--set FIELD=VALUE ...` on top of the lever's) is copied to `--run_dir` (the ablation's own checkpoints stay as they were)
and trained on with `train(..., stop_after=...)`: resuming continues bit-identically, so the result is one run of
`max(--at)` steps. `--lr_anneal F` takes the learning rate linearly to 0 over the last fraction F of those steps
(`SlotConfig.lr_anneal`, chapter 07); before that fraction starts the schedule is the constant one the ablation trained
with, so the copied checkpoint is the same as one of a run with `lr_anneal=F` from the start, and the script writes
that setting into it (it refuses a checkpoint past the start of the anneal). `--eval_slots`: Slot Attention's number
of slots at evaluation (only with the shared Gaussian initialisation, whose slots are exchangeable; learned queries fix
K). Scores: FG-ARI and mBO ×100 on the 320 held-out images, evaluation seeds 0, 1, 2 (seed 0 only for learned queries,
which draw no noise), as the preset evaluates otherwise (seven iterations, duplicate slots merged). Each line of
`--out` is one JSON object: lever, seed, step, lr_anneal, scores per K, training seconds, load average, commit.
"""
from __future__ import annotations
import argparse, os, shutil, tempfile
from pathlib import Path
import torch

from slotnb.evaluation import evaluate, distinct_seeds
from slotnb.runs import load_checkpoint, save_checkpoint
from cpu_budget import preset_config, config_overrides
from ablation import LEVERS, probe_data, train_segments, emit
from benchlog import git_commit


def adopt(src: Path, dst: Path, lr_anneal: float, total: int) -> int:
    "Copy an ablation run to `dst` with `lr_anneal` in its saved config; the checkpoint's step."
    if not dst.exists(): shutil.copytree(src, dst)
    path = dst / 'checkpoint.pt'
    ck = load_checkpoint(path)
    if ck['config']['lr_anneal'] != lr_anneal:
        if ck['step'] > (1 - lr_anneal) * total:
            raise ValueError(f'{path} is at step {ck["step"]}, past the start of --lr_anneal {lr_anneal} of {total} '
                             'steps: its learning rate would have been annealed already')
        ck['config']['lr_anneal'] = lr_anneal
        save_checkpoint(path, **ck)
    return ck['step']


def score(model, cfg, test_ds, eval_slots: list[int]) -> dict:
    "FG-ARI / mBO (×100) for each number of slots at evaluation."
    seeds = distinct_seeds(cfg, (0, 1, 2))
    out = {}
    for k in eval_slots:
        if cfg.slot_init == 'learned' and k != cfg.num_slots: continue
        ev = evaluate(model, test_ds, seeds=seeds, progress=False, num_slots=k)
        out[f'fg_ari_k{k}'], out[f'mbo_k{k}'] = round(100 * ev['fg_ari'], 2), round(100 * ev['mbo'], 2)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--from', dest='src', required=True, help="the ablation's run folder (its --run_dir)")
    p.add_argument('--lever', default='preset', help=f'which runs, of {list(LEVERS)}')
    p.add_argument('--name', default=None, help="the runs' folder prefix in --from (default: the lever)")
    p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help="SlotConfig overrides on top of the lever's")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--at', type=int, nargs='+', default=[4940, 7410], help='step counts at which to score')
    p.add_argument('--lr_anneal', type=float, default=0.0)
    p.add_argument('--eval_slots', type=int, nargs='+', default=[10])
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--data', default=str(Path(tempfile.gettempdir()) / 'slotnb_probe_data'))
    p.add_argument('--run_dir', default=str(Path(tempfile.gettempdir()) / 'slotnb_continue_runs'))
    p.add_argument('--out', default=None, help='append one JSON line per seed and step count here')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    overrides = {**LEVERS[a.lever][0], **config_overrides(a.set), 'lr_anneal': a.lr_anneal}
    total = max(a.at)
    train_ds, test_ds = probe_data(a.data)
    for seed in a.seeds:
        name = f'{a.name or a.lever}_seed{seed}'
        cfg = preset_config('cpu', overrides, base=True, dataset_path=a.data, seed=seed, num_train_steps=total,
                            store_freq=10 ** 9, store_minutes=0.0, vis_freq=0, model_dir=str(Path(a.run_dir) / name))
        done = adopt(Path(a.src) / name, Path(cfg.model_dir), a.lr_anneal, total)
        for step, spent, model in train_segments(cfg, a.at, train_ds, done):
            emit({'lever': a.lever, 'name': a.name or a.lever, 'set': a.set, 'seed': seed, 'step': step,
                  'lr_anneal': a.lr_anneal, 'train_s': round(spent, 1), **score(model, cfg, test_ds, a.eval_slots),
                  'loadavg': round(os.getloadavg()[0], 2), **git_commit()}, a.out)

if __name__ == '__main__':
    main()
