"""Continue a training run step by step with `resume`, scoring FG-ARI after each stretch: a learning curve of one run.

Usage (from the repository root, with the venv active):

    python bench/resume_curve.py runs/b32long 9000 11000 13000 15000

The run folder must hold a slotnb checkpoint (`checkpoint.pt`, e.g. the one `bench/cpu_budget.py --run_dir runs/X` kept in
`runs/X/run/`, copied so that the budget run itself stays as it was) and, for `dataset='synthetic'`, its generated data
(`data/` beside the checkpoint). For each target step the run is resumed with `num_train_steps=target` (checkpoint every
500 steps), then evaluated on the test split with slot-initialisation seeds 0, 1, 2. Training is a pure function of
(seed, step) and resuming continues to bit-identical losses (tested in nbs/07_training), so the numbers are those of one
uninterrupted run of the same config; the CLI equivalent is `slotnb_train ... --resume --steps TARGET` then `slotnb_eval`.
One JSON line per target: step, train_s (this stretch), fg_ari, fg_ari_std, mbo, one_slot_fg_ari.
"""
from __future__ import annotations
import argparse, dataclasses, json, time
import torch

from slotnb.config import SlotConfig
from slotnb.training import train, build_dataset
from slotnb.runs import load_checkpoint
from slotnb.evaluation import evaluate, load_model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('run', help='folder holding checkpoint.pt')
    p.add_argument('targets', type=int, nargs='+', help='steps to train to, increasing')
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    ckpt = f'{a.run}/checkpoint.pt'
    cfg = dataclasses.replace(SlotConfig.from_dict(load_checkpoint(ckpt)['config']), model_dir=a.run, resume=True, store_freq=500)
    test = build_dataset(cfg, 'test', progress=False)
    for target in a.targets:
        t = time.time()
        train(dataclasses.replace(cfg, num_train_steps=target), progress=False)
        dt = time.time() - t
        model, _ = load_model(ckpt)
        r = evaluate(model, test, seeds=(0, 1, 2), progress=False)
        print(json.dumps({'step': load_checkpoint(ckpt)['step'], 'train_s': round(dt), 'fg_ari': r['fg_ari'], 'fg_ari_std': r['fg_ari_std'],
                          'mbo': r['mbo'], 'one_slot_fg_ari': r['one_slot_fg_ari']}), flush=True)


if __name__ == '__main__':
    main()
