"""Write README.md from the book's front page, nbs/index.ipynb: README is generated, the notebook is the source.

Usage, from any folder (plain Python 3, no packages needed):

    python .ci/readme.py                 # write README.md
    python .ci/readme.py --check         # exit 1 with a diff when README.md is not what it would write, else 0

README.md is the notebook's markdown cells in order, separated by one blank line; code cells (the hidden check at
the end of the notebook) are left out. Link and image targets are written from the notebook's folder (nbs/) and
rewritten from the repository root's: `images/x.png` -> `nbs/images/x.png`, `../bench/x.png` -> `bench/x.png`.
URLs, `#anchors`, root-absolute paths and anything inside code (fenced blocks, `inline`) are left as they are.
nbdev_readme does the same job with Quarto, which this project's machines cannot install. The last cell of
nbs/index.ipynb runs `--check`, so `python .ci/nbtest.py` fails when README.md and the notebook disagree.
"""
import argparse
import difflib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r'^```.*?^```[ \t]*$|`[^`]+`', re.M | re.S)  # fenced blocks, then inline code spans
LINK = re.compile(r'(\]\(\s*<?)([^)\s>]+)')  # the target of a markdown link or image: [text](target "title")
IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=["\'])([^"\']+)')  # the target of an HTML image
EXTERNAL = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*:|/|#)')  # a URL (http:, mailto:, ...), /root path or #anchor


def from_root(target: str, nbs: str = 'nbs') -> str:
    "`target`, relative to the folder `nbs`, made relative to the repository root; URLs and anchors unchanged."
    if EXTERNAL.match(target): return target
    path, hash_, anchor = target.partition('#')
    parts = []
    for part in f'{nbs}/{path}'.split('/'):
        if part in ('', '.'): continue
        if part == '..' and parts and parts[-1] != '..': parts.pop()
        else: parts.append(part)
    return '/'.join(parts) + hash_ + anchor


def rewrite_prose(text: str, nbs: str = 'nbs') -> str:
    "Markdown prose (no code in it) with every link and image target made relative to the root."
    repl = lambda m: m.group(1) + from_root(m.group(2), nbs)
    return IMG_SRC.sub(repl, LINK.sub(repl, text))


def rewrite_links(md: str, nbs: str = 'nbs') -> str:
    "A markdown cell with its link and image targets made relative to the root; code is left as it is."
    out, last = [], 0
    for m in CODE.finditer(md):
        out += [rewrite_prose(md[last:m.start()], nbs), m.group()]
        last = m.end()
    return ''.join(out + [rewrite_prose(md[last:], nbs)])


def markdown_cells(nb_path: Path) -> list[str]:
    "The sources of the markdown cells of the notebook at `nb_path`, in order."
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    cells = [c for c in nb['cells'] if c['cell_type'] == 'markdown']
    return [''.join(c['source']) if isinstance(c['source'], list) else c['source'] for c in cells]


def readme_text(nb_path: Path) -> str:
    "What README.md should hold: the markdown cells, links rewritten, one blank line between cells, a final newline."
    nbs = nb_path.resolve().parent.relative_to(ROOT).as_posix()
    cells = [rewrite_links(s.strip('\n'), nbs) for s in markdown_cells(nb_path)]
    return '\n\n'.join(s for s in cells if s.strip()) + '\n'


def check(want: str, readme: Path, max_lines: int = 40) -> int:
    "0 when `readme` holds `want`, else 1 after printing the first `max_lines` lines of a unified diff."
    have = readme.read_text(encoding='utf-8') if readme.exists() else ''
    if have == want: return 0
    diff = list(difflib.unified_diff(have.splitlines(keepends=True), want.splitlines(keepends=True),
                                     f'{readme.name} (checked in)', f'{readme.name} (from the notebook)'))
    print(''.join(diff[:max_lines]), end='')
    if len(diff) > max_lines: print(f'\n... {len(diff) - max_lines} more diff lines')
    print(f'\n{readme} is not what the notebook gives: edit the notebook and run `python .ci/readme.py`')
    return 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--nb', type=Path, default=ROOT / 'nbs' / 'index.ipynb', help='the front page notebook')
    p.add_argument('--out', type=Path, default=ROOT / 'README.md', help='the README to write or check')
    p.add_argument('--check', action='store_true', help='write nothing; exit 1 with a diff when out differs')
    a = p.parse_args(argv)
    want = readme_text(a.nb)
    if a.check: return check(want, a.out)
    a.out.write_text(want, encoding='utf-8', newline='\n')
    print(f'wrote {a.out} ({len(want.splitlines())} lines) from {a.nb}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
