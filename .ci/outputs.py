"""The book's committed outputs: write them, check that they are clean, check that they reproduce.

The library chapters are committed executed, so that GitHub shows their pictures and numbers. Outputs are made the way
the tests run the chapters (execnb's shell, as `nbdev_test`; cells flagged `slow` or `eval: false` and the
`nbdev_export()` cell are not run and keep no outputs), with progress bars off and pictures as plain PNG.

    python .ci/outputs.py --write nbs/03_regularizers.ipynb ...   # execute and keep the outputs (default: every chapter)
    python .ci/outputs.py --lint                                   # every committed output is clean (the list below)
    python .ci/outputs.py --check nbs/05_metrics.ipynb             # re-execute: the text outputs equal the committed ones

Clean means: no absolute paths, progress bars, timings or memory addresses in any text output, no error outputs,
each picture under `MAX_PICTURE` bytes and the whole `nbs/` folder under `MAX_NBS`.
"""
import argparse, base64, json, os, re, sys
from pathlib import Path

os.environ.update(TQDM_DISABLE='1', MPLBACKEND='Agg', HF_HUB_OFFLINE='1', IN_TEST='1')

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
MAX_PICTURE = 150_000            # bytes of one PNG
MAX_NBS = 15_000_000             # bytes of everything under nbs/
DIRTY = {                        # what a reproducible output never holds
    'absolute path': re.compile(r'(?<![\w.])/(tmp|work|home|root|Users|private|var/folders)/'),
    'progress bar': re.compile(r'\d+(\.\d+)?(it/s|s/it)|\|[█▉▊▋▌▍▎▏ ]{3,}\||\r'),
    'timing': re.compile(r'\b(Wall time|CPU times|elapsed)\b|\b\d+\.\d+ ?(s|ms|sec|seconds)\b'),
    'memory address': re.compile(r'\bat 0x[0-9a-fA-F]{6,}'),
}


def chapters() -> list[Path]:
    "The library chapters and the front page (the table notebooks are papermill templates: committed without outputs)."
    return sorted(NBS.glob('*.ipynb'))


def _skipped(flags: set):
    "The cells `nbdev_test` does not run (its own rule in `nbdev.test.test_nb`)."
    def skip(cell) -> bool:
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return bool(flags & direc.keys())
    return skip


def execute(path: Path) -> list:
    "Run the chapter as the tests do; the outputs of each cell of the file, in order (None: not run)."
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.config import get_config
    from nbdev.processors import NBProcessor, FrontmatterProc
    cfg = get_config()
    if str(cfg.config_path) not in sys.path: sys.path.insert(0, str(cfg.config_path))
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb
    for cell in nb.cells:                          # a cell that prints nothing now must not keep its old outputs
        if cell.cell_type == 'code': cell.outputs = []
    shell = CaptureShell(path, mpl_format='png')
    outs = [None] * len(json.loads(path.read_text())['cells'])
    def keep(cell): outs[cell.idx_] = json.loads(json.dumps(cell.get('outputs') or []))
    with working_directory(path.parent):
        shell.run_all(nb, exc_stop=True, preproc=_skipped(set(cfg.tst_flags.split())), postproc=keep)
    return outs


def write(path: Path) -> None:
    "Execute `path` and store its outputs in the file (then `nbdev_clean` tidies the metadata)."
    outs = execute(path)
    nb = json.loads(path.read_text())
    for cell, out in zip(nb['cells'], outs):
        if cell['cell_type'] != 'code': continue
        cell['outputs'] = out or []
        cell['execution_count'] = None
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')


def texts(outputs) -> list[str]:
    "The text of each output: streams and every text/* representation (pictures are compared by their presence)."
    res = []
    for o in outputs or []:
        if o.get('output_type') == 'stream': res.append(f"{o['name']}: {''.join(o['text'])}")
        elif o.get('output_type') == 'error': res.append(f"error: {o.get('ename')}: {o.get('evalue')}")
        else:
            for mime, v in sorted(o.get('data', {}).items()):
                res.append(f'{mime}: ' + (''.join(v) if mime.startswith('text/') or mime.endswith('json') else '<picture>'))
    return res


def lint(paths) -> list[str]:
    "Every problem in the committed outputs of `paths`, as `file cell N: what`."
    problems = []
    for path in paths:
        for i, cell in enumerate(json.loads(path.read_text())['cells']):
            where = f'{path.relative_to(ROOT)} cell {i}'
            for o in cell.get('outputs', []):
                if o.get('output_type') == 'error': problems.append(f"{where}: an error output ({o.get('ename')})")
                for mime, v in o.get('data', {}).items():
                    if mime.startswith('image/') and mime != 'image/svg+xml':
                        size = len(base64.b64decode(''.join(v)))
                        if size > MAX_PICTURE: problems.append(f'{where}: a {size:,}-byte picture (limit {MAX_PICTURE:,})')
            for t in texts(cell.get('outputs', [])):
                for what, rx in DIRTY.items():
                    if m := rx.search(t): problems.append(f'{where}: {what} in its output: {m.group(0)!r}')
    total = sum(f.stat().st_size for f in NBS.rglob('*') if f.is_file())
    if total > MAX_NBS: problems.append(f'nbs/ holds {total:,} bytes (limit {MAX_NBS:,})')
    return problems


def check(path: Path) -> list[str]:
    "Re-execute `path`: where its text outputs differ from the committed ones."
    committed = [c.get('outputs') for c in json.loads(path.read_text())['cells']]
    problems = []
    for i, (old, new) in enumerate(zip(committed, execute(path))):
        if texts(old) != texts(new):
            problems.append(f'{path.relative_to(ROOT)} cell {i}: committed {texts(old)!r:.300}\n    re-executed {texts(new)!r:.300}')
    return problems


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--write', action='store_true', help='execute the notebooks and keep their outputs')
    g.add_argument('--lint', action='store_true', help='the committed outputs are clean')
    g.add_argument('--check', action='store_true', help='re-executing reproduces the committed text outputs')
    p.add_argument('paths', nargs='*', help='notebooks (default: every chapter and the front page)')
    a = p.parse_args(argv)
    paths = [Path(f).resolve() for f in a.paths] or chapters()
    if a.write:
        for f in paths:
            print(f'executing {f.relative_to(ROOT)}', flush=True)
            write(f)
        from nbdev.clean import nbdev_clean
        for f in paths: nbdev_clean(str(f))
        return
    problems = lint(paths) if a.lint else [q for f in paths for q in check(f)]
    for q in problems: print(q)
    what = 'committed outputs clean' if a.lint else 'outputs reproduced'
    print(f"{what}: {len(paths)} notebooks, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
