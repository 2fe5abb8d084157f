"""Render the book's chapters to standalone HTML pages with nbconvert, for a quick look in a browser without Quarto.

Usage, from the repository root in the project's venv:

    python .ci/render_html.py                                  # every chapter -> _html/, and _html/index.html
    python .ci/render_html.py --out /tmp/book                  # the same, somewhere else
    python .ci/render_html.py nbs/05c_pictures.ipynb --execute # one chapter, run first: outputs and figures

The chapters are nbs/*.ipynb in name order (nbs/index.ipynb first, once it exists), then nbs/experiments/*.ipynb;
nbs/05c_pictures.ipynb becomes <out>/05c_pictures.html, nbs/experiments/table1.ipynb <out>/experiments/table1.html,
and the front page nbs/index.ipynb <out>/home.html. Each page stands alone: figures and the pictures that the prose
links to are embedded in it; only the maths needs the network (MathJax comes from a CDN).

The committed notebooks carry no outputs, so a page shows prose and code only, unless the notebook was executed.
`--execute` runs each chapter first, with a python3 kernel whose working folder is the notebook's folder (as
`nbdev_test` does), on a copy held in memory: the .ipynb file is never written. The cells nbdev leaves out of its
website (`#| hide`, `#| default_exp`) are left out here too, after running, and `#|` lines are dropped;
`--all-cells` keeps both. `index.html` links, in book order, every chapter that has a page in the output folder,
so rendering one chapter later keeps the others' links.
"""
import argparse
import html
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

HIDDEN = {'hide', 'default_exp'}  # nbdev directives whose cells its website leaves out


def book_chapters(nbs: Path) -> list[Path]:
    "The chapters in book order: index.ipynb first, the other nbs/*.ipynb by name, then nbs/experiments/*.ipynb."
    top = sorted(nbs.glob('*.ipynb'), key=lambda p: (p.name != 'index.ipynb', p.name))
    return top + sorted((nbs / 'experiments').glob('*.ipynb'))


def page_path(nb_path: Path, nbs: Path, out: Path) -> Path:
    "Where the page of `nb_path` goes: its path under `nbs` (else its name) below `out`, as .html; index -> home."
    nb_path, nbs = nb_path.resolve(), nbs.resolve()
    rel = nb_path.relative_to(nbs) if nb_path.is_relative_to(nbs) else Path(nb_path.name)
    if rel == Path('index.ipynb'): rel = Path('home.ipynb')  # the book's front page; index.html lists the chapters
    return out / rel.with_suffix('.html')


def directives(source: str) -> set[str]:
    "The nbdev directives (`#| name ...`) at the top of a cell's source."
    names = set()
    for line in source.splitlines():
        if not line.startswith('#|'): break
        names.add(line[2:].strip().split(' ')[0].rstrip(':'))
    return names


def drop_directive_lines(source: str) -> str:
    "`source` without its leading `#|` lines."
    lines = source.splitlines()
    while lines and lines[0].startswith('#|'): lines.pop(0)
    return '\n'.join(lines)


def as_in_the_book(nb):
    "Leave out the cells nbdev hides from its website and drop the `#|` lines of the others, in place."
    nb.cells = [c for c in nb.cells if c.cell_type != 'code' or not directives(c.source) & HIDDEN]
    for cell in nb.cells:
        if cell.cell_type == 'code': cell.source = drop_directive_lines(cell.source)
    return nb


def execute(nb, cwd: Path, timeout: int):
    "Run `nb` (in memory) in a python3 kernel started in `cwd`; figures come inline whatever MPLBACKEND says."
    ep = ExecutePreprocessor(timeout=timeout, kernel_name='python3', extra_arguments=['--matplotlib=inline'])
    ep.preprocess(nb, {'metadata': {'path': str(cwd)}})
    return nb


def chapter_title(nb, fallback: str) -> str:
    "The chapter's title: the first `# ` heading of its markdown, else `fallback`."
    for cell in nb.cells:
        if cell.cell_type != 'markdown': continue
        for line in cell.source.splitlines():
            if line.startswith('# '): return line[2:].strip()
    return fallback


def has_outputs(nb) -> bool:
    "Whether any code cell of `nb` has an output."
    return any(c.get('outputs') for c in nb.cells if c.cell_type == 'code')


def render(nb, nb_path: Path, title: str) -> str:
    "A standalone HTML page of `nb`: nbconvert's lab template, markdown pictures embedded (paths from `nb_path`)."
    exporter = HTMLExporter(template_name='lab', embed_images=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)          # no In [n]: hidden cells would leave gaps
    body, _ = exporter.from_notebook_node(nb, {'metadata': {'name': title, 'path': str(nb_path.parent)}})
    return body


def render_chapter(nb_path: Path, page: Path, run: bool, timeout: int, all_cells: bool) -> bool:
    "Write the page of one chapter; run it first when `run`. Returns whether the page shows outputs."
    nb = nbformat.read(nb_path, as_version=4)
    if run: execute(nb, nb_path.parent, timeout)
    title = chapter_title(nb, nb_path.stem)
    if not all_cells: as_in_the_book(nb)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render(nb, nb_path, f'{nb_path.stem}: {title}'), encoding='utf-8')
    return has_outputs(nb)


def index_html(entries: list[tuple[str, str, str]], title: str) -> str:
    "The index page: one list item per (href, chapter name, chapter title), in the order given."
    items = '\n'.join(f'  <li><a href="{html.escape(href)}"><code>{html.escape(name)}</code></a> '
                      f'{html.escape(text)}</li>' for href, name, text in entries)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            '<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto;line-height:1.6}</style></head>\n'
            f'<body>\n<h1>{html.escape(title)}</h1>\n<ol>\n{items}\n</ol>\n</body>\n</html>\n')


def write_index(nbs: Path, out: Path, title: str) -> Path:
    "Write `out/index.html` linking every chapter that has a page in `out`, in book order."
    entries = []
    for nb_path in book_chapters(nbs):
        page = page_path(nb_path, nbs, out)
        if not page.exists(): continue
        nb = nbformat.read(nb_path, as_version=4)
        name = str(page.relative_to(out).with_suffix(''))
        entries.append((page.relative_to(out).as_posix(), name, chapter_title(nb, name)))
    index = out / 'index.html'
    index.write_text(index_html(entries, title), encoding='utf-8')
    return index


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('notebooks', nargs='*', type=Path, help='chapters to render (default: the whole book)')
    p.add_argument('--out', type=Path, default=Path('_html'), help='output folder (default: _html/)')
    p.add_argument('--nbs', type=Path, default=Path('nbs'), help='the notebooks folder (default: nbs/)')
    p.add_argument('--execute', action='store_true', help='run each chapter (a copy in memory) before rendering')
    p.add_argument('--timeout', type=int, default=1800, help='seconds a cell may run with --execute (default 1800)')
    p.add_argument('--all-cells', action='store_true', help='keep hidden cells and `#|` lines')
    p.add_argument('--title', default='slotnb', help='title of index.html (default: slotnb)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    chapters = args.notebooks or book_chapters(args.nbs)
    failed = 0
    for nb_path in chapters:
        page = page_path(nb_path, args.nbs, args.out)
        try:
            shown = render_chapter(nb_path, page, args.execute, args.timeout, args.all_cells)
        except Exception as e:                           # one broken chapter must not hide the others
            failed += 1
            print(f'FAIL {nb_path}: {type(e).__name__}: {e}', file=sys.stderr)
            continue
        print(f'{nb_path} -> {page}' + (' (with outputs)' if shown else ''))
    print(f'index: {write_index(args.nbs, args.out, args.title)}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
