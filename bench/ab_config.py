"""Step time of a preset against the same preset with FIELD=VALUE changes, the two alternating in one process.

Usage (from the repository root, with the venv active):

    python bench/ab_config.py --set encoder_strides=2,1,1,1                 # the `cpu` preset with 32×32 tokens
    python bench/ab_config.py --set batch_size=16 --rounds 6 --threads 2

What is timed: a training step (forward, `slotnb.objective.compute_losses`, zero_grad, backward, Adam) on one fixed batch
of random images of each side's size and batch size; `--steps` steps per turn, the two configs taking turns for
`--rounds` rounds after one untimed warm-up round. Alternating in one process keeps other work on the machine from
favouring one side; the ratio is the figure to read, the seconds depend on the machine and its load (printed).

The last line printed is one JSON object: mean seconds a step of each side, their ratio (changed / preset), the
overrides, and the provenance keys of `benchlog`.
"""
from __future__ import annotations
import argparse, json, time
import torch

from slotnb.models import build_model
from slotnb.objective import compute_losses
from cpu_budget import config_overrides, preset_config
from benchlog import started, provenance


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--preset', default='cpu')
    p.add_argument('--set', nargs='+', required=True, metavar='FIELD=VALUE', help='SlotConfig fields to change')
    p.add_argument('--rounds', type=int, default=4, help='timed rounds (each side once a round)')
    p.add_argument('--steps', type=int, default=5, help='steps per side per round')
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    start = started()
    cfgs = {'preset': preset_config(a.preset, {}, base=True),
            'changed': preset_config(a.preset, config_overrides(a.set), base=True)}
    torch.manual_seed(0)
    models = {k: build_model(c) for k, c in cfgs.items()}
    opts = {k: torch.optim.Adam(m.parameters()) for k, m in models.items()}
    # each side its own batch size and resolution (a `--set batch_size=…` changes what a step processes)
    batches = {k: {'image': torch.rand(c.batch_size, 3, c.resolution, c.resolution)} for k, c in cfgs.items()}
    gen = torch.Generator().manual_seed(0)
    times = {k: [] for k in cfgs}
    for r in range(a.rounds + 1):                                   # round 0: warm-up, not timed
        for k in cfgs:
            t0 = time.perf_counter()
            for _ in range(a.steps):
                terms, _ = compute_losses(models[k], None, batches[k], 1, cfgs[k], gen)
                opts[k].zero_grad()
                terms['loss'].backward()
                opts[k].step()
            if r: times[k].append((time.perf_counter() - t0) / a.steps)
    mean = {k: round(sum(t) / len(t), 4) for k, t in times.items()}
    print(f"s/step: preset {mean['preset']}, changed {mean['changed']}, ratio {mean['changed'] / mean['preset']:.2f}")
    print(json.dumps({'s_per_step': mean, 'ratio': round(mean['changed'] / mean['preset'], 3), 'set': a.set,
                      'rounds': a.rounds, 'steps': a.steps, **provenance(start)}))


if __name__ == '__main__':
    main()
