"""Benchmark (not a test): ViT feature-cache throughput vs a pure backbone forward on the same batches.

The cache run is `slotnb.features.embed_split` end to end (JPEG decode + protocol resize in DataLoader workers, the
frozen ViT, fp16 cast, memory-mapped write, flush and progress record after every batch, final verification). The
reference is the same extractor's forward on the same batches, already decoded and in memory. Target: the cache
loop reaches >= 95% of the pure forward's images/s. Prints a final JSON line.

On a shared CPU the wall-clock ratios are noisy (each cache run is compared with the pure runs just before and after
it); `cache_vs_pure_cpu_bound` compares CPU-seconds per image instead (this process + its DataLoader workers), which is
the throughput ratio a CPU-bound run would see on an otherwise idle machine.

    python bench/embed_speed.py                      # small ViT on the CPU, 48 real val2017 images
    python bench/embed_speed.py --model vit_base_patch16_224.dino --images 32 --device cuda
"""
import argparse, json, resource, tempfile, time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchlog import started, print_result


def synthetic_coco(root: Path, n: int, seed: int = 0) -> Path:
    "n random 640x480 JPEGs with one polygon instance each, in the official layout (when no shared data is present)."
    rng = np.random.default_rng(seed)
    (root / 'annotations').mkdir(parents=True); (root / 'val2017').mkdir()
    images, anns = [], []
    for i in range(1, n + 1):
        arr = (rng.random((480, 640, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(root / 'val2017' / f'{i:012d}.jpg', quality=90)
        images.append({'id': i, 'file_name': f'{i:012d}.jpg', 'height': 480, 'width': 640})
        anns.append({'id': i, 'image_id': i, 'category_id': 1, 'iscrowd': 0, 'area': 10000.0, 'bbox': [0, 0, 1, 1],
                     'segmentation': [[100, 100, 200, 100, 200, 200, 100, 200]]})
    (root / 'annotations' / 'instances_val2017.json').write_text(json.dumps({'images': images, 'annotations': anns, 'categories': [{'id': 1, 'name': 'x'}]}))
    return root


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='vit_small_patch16_224.dino', help='timm model name (default: a small ViT for the CPU)')
    p.add_argument('--weights', default='random', help="'random', 'hub' or a checkpoint path")
    p.add_argument('--images', type=int, default=48)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--num-workers', type=int, default=2)
    p.add_argument('--dataset-path', default=None, help='COCO root (default: the shared val2017 subset, else synthetic images)')
    p.add_argument('--protocol', default='original', choices=['original', 'dinosaur'])
    p.add_argument('--dtype', default='float16', choices=['float16', 'float32'])
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeats', type=int, default=3, help='cache runs, each between two pure-forward runs')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    from slotnb.coco import COCOSegmentation
    from slotnb.data import shared_data_dir
    from slotnb.encoders import ViTFeatureExtractor
    from slotnb.features import embed_split, FeatureStore, TokenPipeline

    start = started()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = a.dataset_path
        if root is None:
            shared = shared_data_dir()
            root = shared / 'coco/val2017_tiny_zzowenzz' if shared is not None else synthetic_coco(tmp / 'coco', a.images)
        torch.manual_seed(0)
        ext = ViTFeatureExtractor(a.model, weights=a.weights).to(a.device).eval()
        sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)

        # the same batches, decoded once and kept in memory
        seg = COCOSegmentation(root, 'val', a.protocol, image=False, masks=False, vit_input=True)
        ids = seg.image_ids[:a.images]
        n = len(ids)
        t = time.time()
        batches = [torch.stack([seg.sample(i)['vit_input'] for i in ids[j:j + a.batch_size]]) for j in range(0, n, a.batch_size)]
        decode_s = time.time() - t

        def cpu_s():
            "CPU seconds used so far by this process and its finished children (the DataLoader workers)."
            c = resource.getrusage(resource.RUSAGE_CHILDREN)
            return time.process_time() + c.ru_utime + c.ru_stime

        pure_cpu = []
        def pure():
            with torch.no_grad():
                ext(batches[0].to(a.device).float() / 255); sync()            # warm-up
                t, c = time.time(), cpu_s()
                for b in batches: ext(b.to(a.device).float() / 255).float().cpu()
                sync()
                pure_cpu.append((cpu_s() - c) / n)
                return n / (time.time() - t)

        # alternate pure / cache runs; each cache run is compared with the mean of the pure runs around it
        # (other processes come and go on a shared CPU, so only neighbouring runs are comparable)
        pure_ips, cache_ips, e2e_ips, cache_cpu = [pure()], [], [], []
        for r in range(a.repeats):
            t, c = time.time(), cpu_s()
            res = embed_split(root, 'val', tmp / f'store{r}', TokenPipeline(dtype=a.dtype, protocol=a.protocol, extractor=ext),
                              batch_size=a.batch_size, num_workers=a.num_workers, device=a.device, progress=False, limit=n)
            e2e_ips.append(n / (time.time() - t)); cache_ips.append(res['images_per_s']); cache_cpu.append((cpu_s() - c) / n)
            pure_ips.append(pure())
        ratios = [c / ((pure_ips[i] + pure_ips[i + 1]) / 2) for i, c in enumerate(cache_ips)]
        ratios_e2e = [c / ((pure_ips[i] + pure_ips[i + 1]) / 2) for i, c in enumerate(e2e_ips)]
        store = FeatureStore(tmp / 'store0')
        out = {'model': a.model, 'device': a.device, 'images': n, 'batch_size': a.batch_size, 'num_workers': a.num_workers,
               'protocol': a.protocol, 'dtype': a.dtype, 'tokens': list(store.features.shape[1:]),
               'repeats': a.repeats, 'pure_forward_img_s': [round(x, 2) for x in pure_ips],
               'cache_loop_img_s': [round(x, 2) for x in cache_ips], 'cache_end_to_end_img_s': [round(x, 2) for x in e2e_ips],
               'cache_vs_pure_loop_median': round(float(np.median(ratios)), 3), 'cache_vs_pure_loop': [round(x, 3) for x in ratios],
               'cache_vs_pure_end_to_end_median': round(float(np.median(ratios_e2e)), 3),
               'store_bytes_per_image': round(res['bytes_per_image']), 'decode_resize_ms_per_image_1proc': round(1000 * decode_s / n, 1),
               'pure_cpu_s_per_image': round(float(np.median(pure_cpu)), 4), 'cache_cpu_s_per_image': round(float(np.median(cache_cpu)), 4),
               # on a CPU the forward saturates, throughput ~ 1 / CPU-seconds per image: a load-independent estimate
               'cache_vs_pure_cpu_bound': round(float(np.median(pure_cpu) / np.median(cache_cpu)), 3)}
        return print_result(out, start)


if __name__ == '__main__':
    main()
