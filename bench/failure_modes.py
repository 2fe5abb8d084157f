"""Where a trained image model loses FG-ARI: scores by number of objects, what happens to one-object images, and how alike
the two slots are that share a split object.

Usage (from the repository root, with the venv active):

    python bench/failure_modes.py RUN/checkpoint.pt --data /tmp/slotnb_probe_data
    python bench/failure_modes.py RUN/checkpoint.pt --data /tmp/slotnb_probe_data --merge_slots 0.95   # duplicates merged

`--data`: the generated ColoredMdSprites of the run (the folder with `test/`; `bench/step_probe.py --data`,
`bench/learning_speed.py` keep theirs). Evaluation seed 0, the 320 held-out images, the checkpoint's own settings
except where `--merge_slots` (`SlotConfig.merge_slots`, chapter 06) or `--eval_iterations` replace them.

Printed, FG-ARI ×100 over the images with 1, 2, 3 and 4 objects, for the decoder's masks (what `slotnb_eval` scores),
Slot Attention's own attention maps (32×32 → 64×64, bilinear) and their product (renormalised over slots). Then, for the
one-object images (FG-ARI is 1 only if every object pixel falls into one slot, else 0): how many are perfect, how many
lose pixels only to the background's slot, only to other slots, or to both, and in how many the background's slot
takes most of the object. For the split ones: the relative distance ‖s_A − s_B‖ / ‖s_A‖ and the cosine of the slot
that holds most of the object (A) and the one that holds the next most (B), and their mean attention over the object.
Then, over all images, what happened to their objects (by the argmax of the decoder's masks): an object is *split* when
no slot holds 90 % of its pixels, and two objects are *merged* when one slot holds most of both; the images counted as
clean / merged / split / both; the object pairs that share a slot and their RGB distance; and the mean colour of the
objects (and background) that each slot holds most of — with learned slot queries each slot owns a region of colours.

The last line printed is one JSON object with these numbers.
"""
from __future__ import annotations
import argparse, json
import numpy as np
import torch
import torch.nn.functional as F

from slotnb.evaluation import load_model
from slotnb.training import build_dataset
from slotnb.metrics import fg_ari
from benchlog import started, provenance


def by_count(gt, masks, nobj) -> dict:
    "FG-ARI ×100: all images and per number of objects."
    s = fg_ari(gt, masks)
    return {'all': round(100 * float(s.nanmean()), 1),
            **{str(n): round(100 * float(s[nobj == n].nanmean()), 1) for n in range(1, int(nobj.max()) + 1)}}


def one_object_cases(gt, out, nobj, K: int, grid: tuple[int, int]) -> dict:
    "What happens to the pixels of the images with one object."
    pred = out.masks.argmax(1)                                           # (B, H, W)
    kinds = dict(perfect=0, lost_to_background_slot=0, lost_to_other_slots=0, lost_to_both=0, taken_by_background_slot=0)
    pairs = []
    for i in torch.where(nobj == 1)[0].tolist():
        obj = gt[i].argmax(0) > 0
        cnt = torch.bincount(pred[i][obj], minlength=K)
        order = cnt.argsort(descending=True)
        A, B = int(order[0]), int(order[1])
        bg = int(torch.bincount(pred[i][~obj], minlength=K).argmax())
        if A == bg:
            kinds['taken_by_background_slot'] += 1
            continue
        lost = set(torch.where(cnt > 0)[0].tolist()) - {A}
        kinds['perfect' if not lost else 'lost_to_background_slot' if lost == {bg}
              else 'lost_to_other_slots' if bg not in lost else 'lost_to_both'] += 1
        if lost and B != bg:
            tokens = F.adaptive_avg_pool2d(obj[None].float(), grid)[0].flatten() > 0.5
            att = out.attn[i][:, tokens].mean(1)
            sA, sB = out.slots[i, A], out.slots[i, B]
            pairs.append((float((sA - sB).norm() / sA.norm()), float(F.cosine_similarity(sA, sB, 0)),
                          float(att[A]), float(att[B])))
    p = np.array(pairs) if pairs else np.zeros((0, 4))
    med = np.median(p, 0) if len(p) else [float('nan')] * 4
    return {'images': int((nobj == 1).sum()), **kinds, 'split_between_slots': len(p),
            'median_relative_distance': round(float(med[0]), 3), 'median_cosine': round(float(med[1]), 4),
            'median_attention_A': round(float(med[2]), 3), 'median_attention_B': round(float(med[3]), 3)}


def slot_owners(g, pred, K: int) -> dict:
    "{ground-truth id: (its pixels in each slot (K,), the slot that holds most of them)} for one image; g, pred (H, W)."
    counts = {o: torch.bincount(pred[g == o], minlength=K) for o in g.unique().tolist()}
    return {o: (c, int(c.argmax())) for o, c in counts.items()}


def object_outcomes(gt, out, images) -> dict:
    "Clean / merged / split images, merged object pairs and their RGB distance, and the mean colour each slot holds."
    pred, K = out.masks.argmax(1), out.masks.shape[1]                    # (B, H, W)
    kinds, merged, apart, held = dict(clean=0, merged=0, split=0, both=0), [], [], [[] for _ in range(K)]
    for i in range(len(gt)):
        g = gt[i].argmax(0)                                              # (H, W) ground-truth ids, 0 the background
        owners = slot_owners(g, pred[i], K)
        ids, owner = list(owners), {o: slot for o, (_, slot) in owners.items()}
        colour, split = {}, False
        for o, (cnt, slot) in owners.items():
            colour[o] = images[i][:, g == o].mean(1)                     # mean RGB of the ground-truth region
            held[slot].append(colour[o])
            split |= o > 0 and float(cnt.max() / cnt.sum()) < 0.9
        objs = [o for o in ids if o > 0]
        m = False                                                        # some pair of objects shares a slot
        for j, a in enumerate(objs):
            for b in objs[j + 1:]:
                same = owner[a] == owner[b]
                (merged if same else apart).append(float((colour[a] - colour[b]).norm()))
                m |= same
        kinds['both' if m and split else 'merged' if m else 'split' if split else 'clean'] += 1
    md, ad = np.array(merged), np.array(apart)
    return {**kinds, 'object_pairs': len(md) + len(ad), 'merged_pairs': len(md),
            'median_rgb_distance_merged': round(float(np.median(md)), 3) if len(md) else None,
            'merged_share_closer_than': {t: round(float((md < t).sum() / max(1, (md < t).sum() + (ad < t).sum())), 2)
                                         for t in (0.3, 0.5)},
            'slot_colours': [{'slot': k, 'regions': len(c), 'mean_rgb': [round(float(v), 2) for v in torch.stack(c).mean(0)]}
                             for k, c in enumerate(held) if c]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoint')
    p.add_argument('--data', required=True, help='the generated ColoredMdSprites (the folder holding test/)')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--merge_slots', type=float, default=None, help="merge duplicate slots above this cosine (0: none)")
    p.add_argument('--eval_iterations', type=int, default=None, help='Slot Attention iterations at evaluation')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    start = started()
    model, cfg = load_model(a.checkpoint)
    cfg.dataset_path = a.data
    if a.merge_slots is not None: model.merge_threshold = a.merge_slots
    if a.eval_iterations is not None: model.slot_attention.eval_iters = a.eval_iterations
    ds = build_dataset(cfg, 'test', progress=False)
    batch = torch.utils.data.default_collate([ds[i] for i in range(len(ds))])
    with torch.no_grad(): out = model(batch['image'], generator=torch.Generator().manual_seed(0))
    gt = batch['masks']
    nobj = (gt[:, 1:].flatten(2).sum(-1) > 0).sum(1)
    grid = model.decoder.token_grid
    attn = F.interpolate(out.attn.unflatten(-1, grid), size=gt.shape[-2:], mode='bilinear', align_corners=False)
    product = out.masks * attn
    res = {'checkpoint': a.checkpoint, 'merge_slots': model.merge_threshold,
           'eval_iterations': model.slot_attention.eval_iters or model.slot_attention.iters, 'images_by_objects': {str(n): int((nobj == n).sum()) for n in range(1, 5)},
           'fg_ari_decoder': by_count(gt, out.masks, nobj), 'fg_ari_attention': by_count(gt, attn, nobj),
           'fg_ari_product': by_count(gt, product / product.sum(1, keepdim=True), nobj),
           'one_object': one_object_cases(gt, out, nobj, cfg.num_slots, grid),
           'objects': object_outcomes(gt, out, batch['image'])}
    for k in ('fg_ari_decoder', 'fg_ari_attention', 'fg_ari_product'): print(k, res[k])
    print('one-object images', res['one_object'])
    print('objects', {k: v for k, v in res['objects'].items() if k != 'slot_colours'})
    for row in res['objects']['slot_colours']: print('  slot {slot}: {regions} regions held, mean RGB {mean_rgb}'.format(**row))
    print(json.dumps({**res, **provenance(start)}))


if __name__ == '__main__':
    main()
