"""Run every notebook's tests with nbdev and close with one line `N passed, N failed`.

nbdev_test prints only `Success.` and passes when no notebook matches; this wrapper never passes vacuously.
Usage: python .ci/nbtest.py [--path nbs/03_regularizers.ipynb] [--flags slow] [--n_workers 2]
"""
import argparse, os, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')
from fastcore.parallel import parallel
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import test_nb

p = argparse.ArgumentParser(description=__doc__)
p.add_argument('--path', default=None, help='a notebook or folder (default: every notebook under nbs/)')
p.add_argument('--flags', default='', help='tst_flags to run anyway, e.g. "slow"')
p.add_argument('--n_workers', type=int, default=2)
a = p.parse_args()
cfg = get_config()
files = [f.absolute() for f in sorted(nbglob(a.path, as_path=True)) if not (f.parent/'.notest').exists()]
if not files: sys.exit(f'no notebooks found under {a.path or cfg.nbs_path}')
t0 = time.time()
res = parallel(test_nb, files, skip_flags=cfg.tst_flags.split(), force_flags=a.flags.split(),
               n_workers=a.n_workers, basepath=cfg.config_path, pause=0.01)
for f, (ok, t) in zip(files, res): print(f"{'PASS' if ok else 'FAIL'} {t:6.1f}s {f.relative_to(cfg.nbs_path)}")
npass = sum(ok for ok, _ in res)
print(f"wall: {time.time() - t0:.1f}s")
print(f"{npass} passed, {len(res) - npass} failed")
sys.exit(0 if npass == len(res) else 1)
