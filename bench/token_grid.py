"""How much of the colour cue survives the token grid: per-image k-means on the colours, with the true number of groups,
at the pixel grid and at coarser grids, scored by FG-ARI on the held-out images.

Usage (from the repository root, with the venv active):

    python bench/token_grid.py --data /tmp/slotnb_probe_data            # grids 64 and 32
    python bench/token_grid.py --data DATA --grids 64 32 16

`--data`: the generated ColoredMdSprites of `bench/step_probe.py --data` (made there if missing; the folder with
`test/`). For each image, k-means (`slotnb.evaluation.kmeans_onehot`: scikit-learn, 3 restarts, seed 0) clusters the
colours of the grid's cells (the mean colour of each cell: `adaptive_avg_pool2d`, what `CNNEncoder`'s `rgb_skip` adds
to the tokens) into as many groups as the image has entities (objects + background: an oracle, so this is not a model
and not `kmeans_masks`' fixed K); the groups are upsampled to the pixels (nearest) and scored with FG-ARI ×100 against
the ground truth.

Why: the `cpu` preset's encoder once started with a stride-2 convolution, so Slot Attention grouped 32×32 tokens (it
now keeps the 64×64 pixel grid, `encoder_strides=(1, 1, 1, 1)`, for this reason). At the pixels the colours separate
every object; at the coarser grid the 2×2 cells on an object's edge average two colours and form a group of their own
before two objects of similar colour are told apart.

The last line printed is one JSON object: FG-ARI per grid, the number of images, and the provenance keys of `benchlog`.
"""
from __future__ import annotations
import argparse, json
import torch
import torch.nn.functional as F

from slotnb.config import SlotConfig, apply_preset
from slotnb.training import build_dataset
from slotnb.metrics import fg_ari
from slotnb.evaluation import kmeans_onehot
from benchlog import started, provenance


def oracle_kmeans_fg_ari(images, masks, grid: int) -> float:
    "FG-ARI ×100 of per-image colour k-means at `grid`×`grid` cells with K = the image's number of entities."
    B, _, H, W = images.shape
    cells = F.adaptive_avg_pool2d(images, grid).flatten(2).transpose(1, 2)          # (B, grid², 3) mean colours
    groups = (masks.flatten(2).sum(-1) > 0).sum(1)                                  # (B,) entities present
    K = masks.shape[1]
    onehot = torch.cat([F.pad(kmeans_onehot(c[None], int(k)), (0, 0, 0, K - int(k)))       # (1, K, grid²) each
                        for c, k in zip(cells, groups)]).unflatten(-1, (grid, grid))    # (B, K, grid, grid)
    return round(100 * float(fg_ari(masks, F.interpolate(onehot, size=(H, W), mode='nearest')).nanmean()), 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', required=True, help='generated data folder (with test/); made if missing')
    p.add_argument('--grids', type=int, nargs='+', default=[64, 32], help='cell grids to cluster at')
    a = p.parse_args(argv)
    start = started()
    cfg = apply_preset(SlotConfig(), 'cpu', dataset_path=a.data)
    test = build_dataset(cfg, 'test', progress=False)
    batch = torch.utils.data.default_collate([test[i] for i in range(len(test))])
    scores = {}
    for g in a.grids:
        scores[str(g)] = oracle_kmeans_fg_ari(batch['image'], batch['masks'], g)
        print(f'grid {g}×{g}: FG-ARI {scores[str(g)]}', flush=True)
    print(json.dumps({'fg_ari_oracle_kmeans': scores, 'n_images': len(test), **provenance(start)}))


if __name__ == '__main__':
    main()
