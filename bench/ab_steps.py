"""Interleaved A/B timing of training-step variants in one process (fairer on a shared machine than separate runs).

    python bench/ab_steps.py --batch_size 8 --rounds 5 --threads 1 --variants reference,before,fast
    python bench/ab_steps.py --variants reference,fast --batch_size 64 --rounds 3 --threads 2
    python bench/ab_steps.py --preset cpu --variants plain,fast --batch_size 16 --rounds 7 --threads 1

Variants: reference (bench/train_speed.py --reference), before (slotnb with all decoder speed-ups undone: --plain
--no_as_conv --no_inplace --decoder_layout channels_last), plain (--plain), plain_cl, no_as_conv, no_inplace,
fast (slotnb as it is), fast_cl / fast_nchw (decoder layout forced), nchw (encoder and decoder in NCHW: slotnb before
the layout was chosen by the CPU), reference_cl / all_cl / channels_last (whole model channels-last), compile.
One untimed warm-up step each, then `--rounds` rounds in which every variant does one step, in a rotating order.
Prints per-variant medians of wall and CPU time per step and, last, one JSON line with them and the ratios to the first variant.
"""
from __future__ import annotations
import argparse, statistics, time
import torch
import train_speed as ts
from benchlog import started, print_result

FLAGS = {'reference': ['--reference'], 'reference_cl': ['--reference', '--channels_last'], 'before': ['--plain', '--no_as_conv', '--no_inplace', '--decoder_layout', 'channels_last'],
         'plain': ['--plain'], 'plain_cl': ['--plain', '--decoder_layout', 'channels_last'], 'fast_cl': ['--decoder_layout', 'channels_last'],
         'fast_nchw': ['--decoder_layout', 'nchw'],
         'no_as_conv': ['--no_as_conv'], 'no_inplace': ['--no_inplace'], 'fast': [], 'channels_last': ['--channels_last'],
         'compile': ['--compile'], 'all_cl': ['--channels_last', '--decoder_layout', 'channels_last'],
         'nchw': ['--decoder_layout', 'nchw', '--encoder_layout', 'nchw']}

def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--variants', default='reference,before,fast')
    p.add_argument('--batch_size', type=int, default=8)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--preset', choices=['paper', 'cpu'], default='paper')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    names = a.variants.split(',')
    steps = {}
    parser_args = lambda n: ts_parse(['--batch_size', str(a.batch_size), '--preset', a.preset] + FLAGS[n])
    for n in names:
        step, _, _ = ts.build(parser_args(n), torch.device('cpu'))
        step(0); steps[n] = step                              # warm-up
    wall, cpu = {n: [] for n in names}, {n: [] for n in names}
    start = started()
    for r in range(a.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            t, c = time.perf_counter(), time.process_time()
            steps[n](r + 1)
            wall[n].append(time.perf_counter() - t); cpu[n].append(time.process_time() - c)
        print(f'round {r}: ' + ', '.join(f'{n} {wall[n][-1]:.2f}s/{cpu[n][-1]:.2f}s' for n in names), flush=True)
    med = {n: {'wall_s': statistics.median(wall[n]), 'cpu_s': statistics.median(cpu[n])} for n in names}
    base = names[0]
    for n in names:
        med[n]['img_per_s'] = a.batch_size / med[n]['wall_s']
        med[n]['speedup_wall'] = med[base]['wall_s'] / med[n]['wall_s']; med[n]['speedup_cpu'] = med[base]['cpu_s'] / med[n]['cpu_s']
        print(f'{n:>14}: wall {med[n]["wall_s"]:.3f}s ({med[n]["speedup_wall"]:.2f}x)  cpu {med[n]["cpu_s"]:.3f}s ({med[n]["speedup_cpu"]:.2f}x)')
    print_result({'preset': a.preset, 'batch_size': a.batch_size, 'rounds': a.rounds, 'variants': med, 'wall_all': wall, 'cpu_all': cpu},
                 start)

def ts_parse(args):
    "train_speed's argument namespace for these flags."
    import argparse as ap
    ns = ap.Namespace(batch_size=8, steps=1, warmup=0, dtype='fp32', device='cpu', preset='paper', threads=None, reference=False,
                      plain=False, no_as_conv=False, no_inplace=False, decoder_layout='default', encoder_layout='default', channels_last=False, compile=False, verify=False, profile=False, seed=0)
    it = iter(args)
    for x in it:
        key = x.lstrip('-')
        if key == 'batch_size': ns.batch_size = int(next(it))
        elif key == 'preset': ns.preset = next(it)
        elif key == 'decoder_layout': ns.decoder_layout = next(it)
        elif key == 'encoder_layout': ns.encoder_layout = next(it)
        else: setattr(ns, key, True)
    return ns

if __name__ == '__main__':
    main()
