"""What a preset (default `cpu-broadcast`) reaches in a fixed wall-clock budget: train on generated ColoredMdSprites, then FG-ARI.

Usage (from the repository root, with the venv active):

    python bench/cpu_budget.py                      # 30 minutes of training, then FG-ARI on 320 held-out images, seeds 0,1,2
    python bench/cpu_budget.py --minutes 1          # a smoke run
    python bench/cpu_budget.py --minutes 30 --threads 2 --run_dir runs/cpu_budget --seed 0

The model is `slotnb.config.PRESETS['cpu-broadcast']` (or `--preset`) (applied with `apply_preset`; `base=True`, i.e. no slot regulariser, unless
`--no-base`), trained by `slotnb.training.train` on
`dataset='synthetic'`: 10,000 generated training images (seed = --seed) and 320 held-out test images (seed + 10000),
generated before the clock starts. One `train` call runs with `num_train_steps` so high that the learning-rate schedule
never reaches its end; the training set is wrapped so that fetching a batch after the deadline ends the call, and the
last checkpoint (written every `--store_every` steps) is the model that is scored. The budget counts the `train` call
(model building and checkpoint writes included); `train_s` is when the kept checkpoint was written. Data generation
and evaluation are timed separately. Run it on a quiet machine: with other processes on the cores, `--threads 1` is
often faster than 2 (OpenMP threads wait for each other).

Evaluation: `slotnb.evaluation.evaluate` on the 320 test images with slot-initialisation seeds 0, 1, 2 (FG-ARI mean and
std over seeds, and mBO), and `one_slot_fg_ari`: what putting every pixel into one slot scores on the same images (the share
of single-object images; a model separates objects only where it scores clearly above it). The last line printed is one
JSON object: fg_ari, fg_ari_std, mbo, one_slot_fg_ari, steps, train_s, ...
"""
from __future__ import annotations
import argparse, csv, dataclasses, os, shutil, tempfile, time
import torch

from slotnb.config import SlotConfig, apply_preset
from slotnb.training import train, build_dataset, run_paths
from slotnb.runs import load_checkpoint
from slotnb.evaluation import evaluate, load_model
from benchlog import started, print_result


class BudgetExhausted(Exception):
    "The wall-clock budget is over."

class Deadline(torch.utils.data.Dataset):
    "Wraps a dataset; fetching an item after `deadline` (a time.perf_counter value) raises BudgetExhausted (ends train())."
    def __init__(self, dataset, deadline: float): self.dataset, self.deadline = dataset, deadline
    def __len__(self): return len(self.dataset)
    def __getitem__(self, i):
        if time.perf_counter() > self.deadline: raise BudgetExhausted()
        return self.dataset[i]


def config_overrides(pairs) -> dict:
    """FIELD=VALUE pairs -> SlotConfig overrides, typed by `slotnb.cli.config_parser` (the parser of slotnb_train's flags).
    encoder_strides takes 4 comma-separated ints (2,1,1,1); booleans take True/False."""
    from slotnb.cli import config_parser
    fields = {f.name: f for f in dataclasses.fields(SlotConfig)}
    argv, off = [], {}
    for kv in pairs:
        k, sep, v = kv.partition('=')
        if not sep or k not in fields: raise SystemExit(f'--set {kv}: expected FIELD=VALUE with FIELD a SlotConfig field')
        if isinstance(fields[k].default, bool):
            if v.lower() not in ('true', 'false'): raise SystemExit(f'--set {kv}: {k} takes True or False')
            if v.lower() == 'true': argv.append(f'--{k}')
            else: off[k] = False
        else: argv += [f'--{k}', *(v.split(',') if k == 'encoder_strides' else [v])]
    try: given = vars(config_parser('cpu_budget.py --set').parse_args(argv))
    except SystemExit: raise SystemExit(f'--set {" ".join(pairs)}: a value has the wrong type (see the message above)') from None
    if 'encoder_strides' in given: given['encoder_strides'] = tuple(given['encoder_strides'])
    return {**given, **off}


def preset_config(preset: str, overrides: dict, **settings) -> SlotConfig:
    "`preset` with a script's own `settings`, then the `--set` `overrides` (`config_overrides`), which win over both."
    return apply_preset(SlotConfig(), preset, **{**settings, **overrides})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--preset', default='cpu-broadcast', help="SlotConfig preset (default cpu-broadcast, the spatial-broadcast model; "
                   "learning_speed.py measures the `cpu` preset)")
    p.add_argument('--minutes', type=float, default=30.0, help='wall-clock training budget')
    p.add_argument('--run_dir', default=None, help='where the run (checkpoint, logs, generated data) goes; default: a temporary folder, deleted at the end')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch\'s choice)')
    p.add_argument('--eval_seeds', default='0,1,2', help='slot-initialisation seeds for FG-ARI, comma-separated')
    p.add_argument('--eval_batch_size', type=int, default=32)
    p.add_argument('--base', action=argparse.BooleanOptionalAction, default=True,
                   help='plain Slot Attention, no slot regulariser (default); --no-base keeps the config default (CovLoss)')
    p.add_argument('--store_every', type=int, default=10, help='checkpoint every N steps: the steps after the last one are not kept')
    p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE',
                   help='override SlotConfig fields of the preset, e.g. --set learning_rate=1e-3 batch_size=8 (for tuning the preset)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    tmp = None
    if a.run_dir is None: tmp = tempfile.mkdtemp(prefix='cpu_budget_'); run_dir = tmp
    else: run_dir = a.run_dir
    start = started()
    overrides = config_overrides(a.set)
    cfg = preset_config(a.preset, overrides, model_dir=os.path.join(run_dir, 'run'), seed=a.seed, num_train_steps=10 ** 9,
                        store_freq=a.store_every, vis_freq=0, base=a.base)
    try:
        t0 = time.perf_counter()
        train_ds, test_ds = build_dataset(cfg, 'train', progress=False), build_dataset(cfg, 'test', progress=False)
        gen_s = time.perf_counter() - t0
        print(f'data: {len(train_ds)} train / {len(test_ds)} test images generated in {gen_s:.1f}s', flush=True)
        _, ckpt = run_paths(cfg)
        if ckpt.exists(): raise SystemExit(f'{ckpt} exists: choose a fresh --run_dir (a budget run starts from scratch)')
        t_start, t_start_epoch = time.perf_counter(), time.time()
        timed = Deadline(train_ds, t_start + a.minutes * 60)
        try:
            train(cfg, dataset=timed, progress=False)
        except BudgetExhausted: pass
        wall = time.perf_counter() - t_start
        if not ckpt.exists(): raise SystemExit(f'the budget ended before the first checkpoint (step {cfg.store_freq}): raise --minutes or lower --store_every')
        ck = load_checkpoint(ckpt)
        step = ck['step']
        spent = ckpt.stat().st_mtime - t_start_epoch                     # when the kept checkpoint was written
        print(f'  {step} steps kept (checkpoint at {spent:.0f}s of a {wall:.0f}s run)', flush=True)
        budget = a.minutes * 60
        last = None
        log = run_paths(cfg)[0] / 'scalars.csv'
        if log.exists():
            with open(log) as f: rows = [r for r in csv.DictReader(f) if int(r['step']) <= step]
            if rows: last = float(rows[-1]['loss'])

        t = time.perf_counter()
        model, _ = load_model(ckpt)
        seeds = tuple(int(s) for s in a.eval_seeds.split(','))
        ev = evaluate(model, test_ds, seeds=seeds, batch_size=a.eval_batch_size, progress=False)
        eval_s = time.perf_counter() - t
        out = {'fg_ari': ev['fg_ari'], 'fg_ari_std': ev['fg_ari_std'], 'mbo': ev['mbo'], 'one_slot_fg_ari': ev['one_slot_fg_ari'], 'per_seed': ev['per_seed'],
               'n_test_images': ev['n_images'], 'steps': step, 'train_s': round(spent, 1), 'budget_s': budget,
               'img_per_s': step * cfg.batch_size / spent, 'final_loss': last, 'data_gen_s': round(gen_s, 1), 'eval_s': round(eval_s, 1),
                'train_wall_s': round(wall, 1), 'preset': a.preset, 'seed': a.seed,
               'run_dir': None if tmp else str(run_dir),
               'config': {k: v for k, v in cfg.to_dict().items() if k in ('image_size', 'num_slots', 'hid_dim', 'encoder_strides', 'decoder_type', 'conv_init',
                          'decoder_init_size', 'decoder_channels', 'batch_size', 'learning_rate', 'warmup_steps', 'decay_steps', 'base', 'num_train_steps')},
               'overrides': overrides}
    finally:
        if tmp: shutil.rmtree(tmp, ignore_errors=True)
    return print_result(out, start)


if __name__ == '__main__':
    main()
