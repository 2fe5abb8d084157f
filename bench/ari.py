"""FG-ARI benchmark: `slotnb.metrics.fg_ari` (batched torch) against a per-image `sklearn.metrics.adjusted_rand_score` loop.

Usage (from the repository root, with the venv active):

    python bench/ari.py                      # 1000 images of 64x64, 5 GT masks (background + 4 objects), 5 slots
    python bench/ari.py --images 200 --repeats 3 --threads 1
    python bench/ari.py --device cuda        # time the torch path on a GPU (sklearn stays on the CPU)

On a CPU shared with other busy processes, prefer --threads 1: torch's OpenMP threads then wait on each other at
every op, and a 2-thread run can be many times slower than a 1-thread one (the 1-minute load average is printed).

Data: random rectangles (1-4 objects per image, painted in order so later ones occlude earlier ones) give the
ground truth, stored as boolean masks (B, 5, 64, 64) with the background in channel 0. Predictions are soft
float32 masks (B, 5, 64, 64): the one-hot of the true labels under a random slot permutation (sometimes two objects
share a slot), plus spatially smooth Gaussian noise of a random strength per image, softmaxed over the slots.

Both sides get the same tensors and do the whole job per image: drop the background, take the argmax over slots
and score the foreground pixels. The sklearn side is a plain numpy loop (argmax, foreground mask,
adjusted_rand_score); ours is one `fg_ari(..., degenerate='one')` call (the policy under which our values equal
sklearn's on every non-empty image). Times are medians over --repeats runs after one warm-up call.

Memory: tracemalloc cannot see torch's allocations, so the extra memory of the torch path is measured twice:
  * peak_tensor_mb: every tensor allocated by a torch op during the call is recorded with its storage size and
    released when it is garbage collected (a TorchDispatchMode); the peak of the live total is the memory the
    call itself needs beyond its inputs (exact for CPU tensors, allocator overhead excluded).
  * peak_rss_mb: in a fresh subprocess that loads the same data, the kernel's resident-set high-water mark is
    reset (/proc/self/clear_refs = 5), the call runs, and the rise of VmHWM over the RSS before the call is
    reported: what the OS saw, allocator caching and fragmentation included (Linux only; None elsewhere).
For contrast, `dense_onehot_mb` is the size of the float64 (B, N, K) one-hot that a plain bmm contingency builds.

The last line printed is one JSON object: ours_s, sklearn_s, speedup, max_abs_diff (plus context fields).
Exit status 1 if max_abs_diff > 1e-10.
"""
from __future__ import annotations
import argparse, os, re, statistics, subprocess, sys, tempfile, time, weakref
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_rand_score
from torch.utils._python_dispatch import TorchDispatchMode
from benchlog import started, print_result
from torch.utils._pytree import tree_flatten

from slotnb.metrics import fg_ari


def make_data(images: int, size: int, objects: int, slots: int, seed: int = 0):
    "GT masks (B, 1+objects, size, size) bool, background first; soft predictions (B, slots, size, size) float32."
    g = torch.Generator().manual_seed(seed)
    labels = torch.zeros(images, size, size, dtype=torch.long)                  # 0 = background
    n_obj = torch.randint(1, objects + 1, (images, 1, 1), generator=g)
    yy, xx = torch.arange(size).view(1, -1, 1), torch.arange(size).view(1, 1, -1)
    for j in range(1, objects + 1):
        top, left = torch.randint(0, size - size // 8, (2, images, 1, 1), generator=g)
        h, w = torch.randint(size // 8, size // 2, (2, images, 1, 1), generator=g)
        inside = (yy >= top) & (yy < top + h) & (xx >= left) & (xx < left + w) & (j <= n_obj)
        labels[inside] = j
    true = torch.stack([labels == j for j in range(objects + 1)], 1)            # (B, 1+objects, H, W)
    slot_of = torch.argsort(torch.rand(images, slots, generator=g), 1)[:, :objects + 1]   # label -> slot
    merge = torch.rand(images, generator=g) < 0.3                               # some images: object 2 -> object 1's slot
    slot_of[merge, 2] = slot_of[merge, 1]
    slot_map = torch.gather(slot_of, 1, labels.flatten(1)).view_as(labels)      # (B, H, W)
    logits = 3.0 * F.one_hot(slot_map, slots).permute(0, 3, 1, 2).float()       # (B, K, H, W)
    noise = F.avg_pool2d(torch.randn(logits.shape, generator=g), 5, stride=1, padding=2) * 5
    strength = 3.0 * torch.rand(images, 1, 1, 1, generator=g)
    pred = (logits + strength * noise).softmax(1).contiguous()
    return true.contiguous(), pred


def sklearn_loop(true: np.ndarray, pred: np.ndarray, bg: int = 0) -> np.ndarray:
    "Per image: foreground = not background; GT id = argmax over object masks; slot = argmax over slots."
    out = np.empty(len(true))
    for i, (t, p) in enumerate(zip(true, pred)):
        objs = np.delete(t, bg, axis=0)                                          # (G, H, W)
        fg = objs.any(0)
        out[i] = adjusted_rand_score(objs.argmax(0)[fg], p.argmax(0)[fg]) if fg.any() else np.nan
    return out


class PeakTensorBytes(TorchDispatchMode):
    "Peak bytes of live tensor storage allocated by torch ops inside the `with` block (views of inputs excluded)."
    def __init__(self):
        super().__init__(); self.cur = self.peak = 0; self.seen = set()
    def _free(self, key, nbytes):
        self.seen.discard(key); self.cur -= nbytes
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        inputs = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)}
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor): continue
            s = t.untyped_storage(); key = s.data_ptr()
            if key in inputs or key in self.seen or s.nbytes() == 0: continue
            self.seen.add(key); self.cur += s.nbytes(); self.peak = max(self.peak, self.cur)
            weakref.finalize(t, self._free, key, s.nbytes())
        return out


def _status_kb(field: str) -> int:
    return int(re.search(rf'{field}:\s+(\d+) kB', open('/proc/self/status').read()).group(1))


def rss_child(path: str):
    "Subprocess body: load the data, reset the RSS high-water mark, run fg_ari, print the rise in bytes."
    true, pred = torch.load(path)
    fg_ari(true[:2], pred[:2])                                    # import-time and first-call costs out of the way
    before = _status_kb('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')  # VmHWM := current RSS
    fg_ari(true, pred, degenerate='one')
    print((_status_kb('VmHWM') - before) * 1024)


def peak_rss_bytes(true, pred, threads: int) -> int | None:
    if not os.path.exists('/proc/self/clear_refs'): return None
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'data.pt')
        torch.save((true, pred), path)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        try:
            out = subprocess.run([sys.executable, __file__, '--rss-child', path, '--threads', str(threads)],
                                 capture_output=True, text=True, check=True, env=env)
            return int(out.stdout.strip().splitlines()[-1])
        except (subprocess.CalledProcessError, ValueError, OSError) as e:
            print(f'RSS measurement failed: {e}', file=sys.stderr)
            return None


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description='FG-ARI: slotnb (torch, batched) vs sklearn (per-image loop)')
    p.add_argument('--images', type=int, default=1000)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--objects', type=int, default=4, help='objects per image at most (GT masks = objects + background)')
    p.add_argument('--slots', type=int, default=5)
    p.add_argument('--repeats', type=int, default=5, help='timed runs of the torch path (median); sklearn gets 3')
    p.add_argument('--threads', type=int, default=torch.get_num_threads(), help='torch CPU threads')
    p.add_argument('--device', default='cpu')
    p.add_argument('--rss-child', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.rss_child: return rss_child(a.rss_child)

    start = started()
    true, pred = make_data(a.images, a.size, a.objects, a.slots)
    print(f'data: GT {tuple(true.shape)} {true.dtype}, pred {tuple(pred.shape)} {pred.dtype}; '
          f'torch {torch.__version__}, {a.threads} thread(s), device {a.device}, {os.cpu_count()} CPUs, '
          f'load average {os.getloadavg()[0]:.2f}')
    t_dev, p_dev = true.to(a.device), pred.to(a.device)
    sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)

    def ours():
        v = fg_ari(t_dev, p_dev, degenerate='one'); sync(); return v
    values = ours().cpu()                                                         # warm-up, and the values
    ours_s = timed(ours, a.repeats)
    true_np, pred_np = true.numpy(), pred.numpy()
    ref = sklearn_loop(true_np, pred_np)                                          # warm-up, and the reference
    sklearn_s = timed(lambda: sklearn_loop(true_np, pred_np), 3)

    vals = values.numpy()
    assert np.array_equal(np.isnan(vals), np.isnan(ref)), 'NaN pattern differs from sklearn'
    ok = ~np.isnan(ref)
    max_abs_diff = float(np.abs(vals[ok] - ref[ok]).max()) if ok.any() else 0.0

    with PeakTensorBytes() as mem: fg_ari(true, pred, degenerate='one')         # CPU tensors: exact accounting
    rss = peak_rss_bytes(true, pred, a.threads) if a.device == 'cpu' else None
    B, K, N = pred.shape[0], pred.shape[1], pred.shape[2] * pred.shape[3]
    MB = 2**20
    print(f'ours (fg_ari, batched):   {ours_s * 1e3:9.2f} ms   ({ours_s / B * 1e6:.1f} us/image)')
    print(f'sklearn (per-image loop): {sklearn_s * 1e3:9.2f} ms   ({sklearn_s / B * 1e6:.1f} us/image)')
    print(f'speedup: {sklearn_s / ours_s:.1f}x   max |ours - sklearn|: {max_abs_diff:.3g}   mean FG-ARI: {np.nanmean(vals):.4f}')
    print(f'inputs: {(true.nbytes + pred.nbytes) / MB:.1f} MB; extra memory of the torch path: '
          f'peak live tensors {mem.peak / MB:.1f} MB, peak RSS rise '
          f'{"n/a" if rss is None else f"{rss / MB:.1f} MB"}; a dense float64 (B, N, K) one-hot alone: {B * N * K * 8 / MB:.1f} MB')
    result = dict(ours_s=round(ours_s, 6), sklearn_s=round(sklearn_s, 6), speedup=round(sklearn_s / ours_s, 1),
                  max_abs_diff=max_abs_diff, images=B, size=a.size, gt_masks=true.shape[1], slots=K,
                  device=a.device, peak_tensor_mb=round(mem.peak / MB, 2),
                  peak_rss_mb=None if rss is None else round(rss / MB, 2), dense_onehot_mb=round(B * N * K * 8 / MB, 1))
    print_result(result, start)
    sys.exit(0 if max_abs_diff <= 1e-10 else 1)


if __name__ == '__main__':
    main()
