"""A picture of the objects one model merges and another separates: the first test images in which model A puts two
objects into one slot, each drawn as input, ground truth, and each model's reconstruction and slots (argmax of its
masks, one colour a slot).

Usage (from the repository root, with the venv active):

    python bench/merge_picture.py A/checkpoint.pt B/checkpoint.pt --data DATA --out merges.png --labels 'q·k' 'distance'

`--data`: the generated ColoredMdSprites of the runs (the folder with `test/`). Evaluation seed 0, each checkpoint's own
settings (its merging of duplicate slots, its iterations and slots at evaluation). Two objects are merged when one slot
holds the largest share of both (`bench/failure_modes.py` counts them over all images). Prints, per image drawn, the
merged pairs, the RGB distance of their mean colours and A's squared error on each.
"""
from __future__ import annotations
import argparse
import torch

from slotnb.evaluation import load_model
from slotnb.training import build_dataset
from failure_modes import slot_owners


def merged_pairs(gt, pred, K: int) -> list[tuple[int, int]]:
    "Pairs of ground-truth objects (ids ≥ 1) mostly in one slot (`failure_modes.slot_owners`); gt, pred (H, W)."
    owner = {o: slot for o, (_, slot) in slot_owners(gt, pred, K).items() if o > 0}
    return [(a, b) for i, a in enumerate(owner) for b in list(owner)[i + 1:] if owner[a] == owner[b]]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('a'); p.add_argument('b')
    p.add_argument('--data', required=True)
    p.add_argument('--labels', nargs=2, default=['A', 'B'])
    p.add_argument('--images', type=int, default=6, help='rows to draw')
    p.add_argument('--search', type=int, default=160, help='look for merges in the first this many test images')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    outs = []
    for path in (a.a, a.b):
        model, cfg = load_model(path)
        cfg.dataset_path = a.data
        ds = build_dataset(cfg, 'test', progress=False)
        batch = torch.utils.data.default_collate([ds[i] for i in range(min(a.search, len(ds)))])
        with torch.no_grad(): outs.append(model.eval()(batch['image'], generator=torch.Generator().manual_seed(0)))
    x, gt = batch['image'], batch['masks'].argmax(1)                                     # (B, 3, H, W), (B, H, W)
    preds = [o.masks.argmax(1) for o in outs]
    rows = []
    for i in range(len(x)):
        pairs = merged_pairs(gt[i], preds[0][i], outs[0].masks.shape[1])
        if pairs: rows.append(i)
        for o1, o2 in pairs:
            c1, c2 = x[i][:, gt[i] == o1].mean(1), x[i][:, gt[i] == o2].mean(1)
            err = ((outs[0].recon[i] - x[i]) ** 2).sum(0)
            print(f'image {i}: objects {o1} and {o2} in one slot of {a.labels[0]}, RGB distance {float((c1 - c2).norm()):.2f}, '
                  f'squared error {float(err[gt[i] == o1].mean()):.3f} / {float(err[gt[i] == o2].mean()):.3f} '
                  f'(image {float(err.mean()):.4f}); {a.labels[1]} merges them: '
                  f'{(o1, o2) in merged_pairs(gt[i], preds[1][i], outs[1].masks.shape[1])}')
    print(f'{a.labels[0]} merges objects in {len(rows)} of {len(x)} images; {a.labels[1]} in '
          f'{sum(bool(merged_pairs(gt[i], preds[1][i], outs[1].masks.shape[1])) for i in range(len(x)))}')
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = rows[:a.images]
    titles = ['input', 'ground truth', f'{a.labels[0]}: drawn', f'{a.labels[0]}: slots', f'{a.labels[1]}: drawn',
              f'{a.labels[1]}: slots']
    fig, axes = plt.subplots(len(rows), 6, figsize=(9, 1.6 * len(rows)), squeeze=False)
    for r, i in enumerate(rows):
        pics = [x[i].permute(1, 2, 0), gt[i], outs[0].recon[i].clamp(0, 1).permute(1, 2, 0), preds[0][i],
                outs[1].recon[i].clamp(0, 1).permute(1, 2, 0), preds[1][i]]
        for c, (ax, pic) in enumerate(zip(axes[r], pics)):
            ax.imshow(pic, cmap=None if pic.ndim == 3 else 'tab20', vmin=None if pic.ndim == 3 else 0,
                      vmax=None if pic.ndim == 3 else 19, interpolation='nearest')
            ax.set_xticks([]); ax.set_yticks([])
            if r == 0: ax.set_title(titles[c], fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out, dpi=80)
    print(a.out)


if __name__ == '__main__':
    main()
