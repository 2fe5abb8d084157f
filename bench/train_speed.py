"""Speed and peak memory of one training step (forward, backward, Adam) of the Table 1 multi-dSprites model.

Usage (from the repository root, with the venv active):

    python bench/train_speed.py                              # slotnb, paper config (K=5, D=64, 64x64, 'fixed' decoder), batch 64
    python bench/train_speed.py --reference                  # the same step, written plainly (the original's way): the baseline
    python bench/train_speed.py --plain                      # slotnb with the decoder shortcut turned off (decoder.shortcut = None)
    python bench/train_speed.py --plain --no_as_conv --no_inplace --decoder_layout channels_last   # all decoder speed-ups undone
    python bench/train_speed.py --batch_size 16 --steps 5 --threads 2
    python bench/train_speed.py --verify                     # check that slotnb and the reference compute the same loss and gradients
    python bench/train_speed.py --device cuda --dtype bf16   # on a GPU (bf16 autocast)
    python bench/train_speed.py --preset cpu                 # the cheaper CPU preset of slotnb.config.PRESETS

What is timed: `--warmup` untimed steps, then `--steps` timed steps on one fixed batch of random images (data loading is
not part of it). Each step is: forward through the model, MSE reconstruction loss (`slotnb.objective.compute_losses`),
zero_grad, backward, Adam step. The per-step wall times are reported; `img_per_s` = batch size / median step time.

Memory: on the CPU `peak_mem_mb` is the process's peak resident set (`resource.getrusage`, so it includes Python, torch
and the model), and `step_peak_rss_mb` the rise of the resident-set high-water mark during the measured steps over the
resident set before them (the kernel's counter is reset through /proc/self/clear_refs; Linux only, else null).
On a GPU `peak_mem_mb` is `torch.cuda.max_memory_allocated` over the measured steps.

`--reference` builds a straightforward re-implementation of the original step (the original's `model.py`,
`SlotAttentionAutoEncoder` for multi-dSprites), written for this benchmark in the original's memory layout: NCHW images,
4 conv 5x5 + ReLU encoder, position embedding added on a channels-last permutation,
LayerNorm/MLP, Slot Attention with 3 iterations, slots repeated over a 64x64 grid (materialised) + position embedding,
three ConvTranspose 5x5 + ReLU and a ConvTranspose 3x3, alpha softmax over slots, MSE; no shortcuts. Its parameters are
created in the same order and with the same shapes as slotnb's model, so `--verify` can copy one into the other and
compare losses and gradients on the same batch and slot noise.

`cpu_s` is the median process CPU time (user + system, all threads) of a step. On a shared machine the wall time
depends on what else runs; with `--threads 1` the CPU time is close to the work itself and compares variants more
steadily (the wall time is still the number that counts).

The last line printed is one JSON object (img_per_s, peak_mem_mb, step_s, cpu_s, ... and the machine's load average
before/after, since the machines this runs on are often shared).
"""
from __future__ import annotations
import argparse, json, platform, resource, statistics, sys, time
import torch
import torch.nn.functional as F
from torch import nn

from slotnb.encoders import build_grid
from slotnb.config import SlotConfig, apply_preset
from slotnb.models import build_model
from slotnb.objective import compute_losses
from slotnb.decoders import SameConvTranspose2d
from benchlog import started, print_result


class ReferenceModel(nn.Module):
    "The original step's math, written plainly (see the module docstring). `forward(img) -> recon (B, 3, H, W)`."
    def __init__(self, num_slots: int = 5, dim: int = 64, resolution: int = 64, iters: int = 3, mlp_hidden: int = 128):
        super().__init__()
        D, self.K, self.D, self.iters, self.res = dim, num_slots, dim, iters, resolution
        self.enc, self.sa, self.dec = nn.Module(), nn.Module(), nn.Module()   # plain containers: parameters in slotnb's order
        enc, sa, dec = self.enc, self.sa, self.dec
        enc.convs = nn.ModuleList([nn.Conv2d(3, D, 5, padding=2)] + [nn.Conv2d(D, D, 5, padding=2) for _ in range(3)])
        enc.pos = nn.Linear(4, D)
        enc.norm, enc.fc1, enc.fc2 = nn.LayerNorm(D, eps=1e-3), nn.Linear(D, D), nn.Linear(D, D)
        sa.slots_mu = nn.Parameter(torch.randn(1, 1, D))
        sa.slots_log_sigma = nn.Parameter(torch.rand(1, 1, D))
        sa.to_q, sa.to_k, sa.to_v = (nn.Linear(D, D, bias=False) for _ in range(3))
        sa.gru = nn.GRUCell(D, D)
        sa.fc1, sa.fc2 = nn.Linear(D, max(D, mlp_hidden)), nn.Linear(max(D, mlp_hidden), D)
        sa.norm_inputs, sa.norm_slots, sa.norm_mlp = (nn.LayerNorm(D, eps=1e-3) for _ in range(3))
        dec.pos = nn.Linear(4, D)
        dec.convs = nn.ModuleList([nn.ConvTranspose2d(D, D, 5, padding=2) for _ in range(3)] + [nn.ConvTranspose2d(D, 4, 3, padding=1)])
        self.register_buffer('grid', build_grid(resolution, resolution)[None], persistent=False)   # (1, H, W, 4)

    def forward(self, img, generator=None):
        B, D, K, H = img.shape[0], self.D, self.K, self.res
        enc, sa, dec = self.enc, self.sa, self.dec
        x = img
        for conv in enc.convs: x = F.relu(conv(x))                             # (B, D, H, W)
        x = x.permute(0, 2, 3, 1) + enc.pos(self.grid)                          # (B, H, W, D)
        x = x.reshape(B, H * H, D)                                              # (B, N, D)
        x = enc.fc2(F.relu(enc.fc1(enc.norm(x))))
        noise = torch.randn(B, K, D, generator=generator, device=img.device, dtype=sa.slots_mu.dtype)
        slots = sa.slots_mu + sa.slots_log_sigma.exp() * noise                  # (B, K, D)
        x = sa.norm_inputs(x)
        k, v = sa.to_k(x), sa.to_v(x)
        for _ in range(self.iters):
            prev = slots
            q = sa.to_q(sa.norm_slots(slots))
            attn = torch.einsum('bid,bjd->bij', q, k).mul(D ** -0.5).softmax(dim=1) + 1e-8   # (B, K, N)
            attn = attn / attn.sum(dim=-1, keepdim=True)
            updates = torch.einsum('bjd,bij->bid', v, attn)
            slots = sa.gru(updates.reshape(-1, D), prev.reshape(-1, D)).reshape(B, K, D)
            slots = slots + sa.fc2(F.relu(sa.fc1(sa.norm_mlp(slots))))
        z = slots.reshape(B * K, 1, 1, D).repeat(1, H, H, 1)                    # (B·K, H, W, D), materialised
        z = (z + dec.pos(self.grid)).permute(0, 3, 1, 2)                        # (B·K, D, H, W)
        for conv in dec.convs[:-1]: z = F.relu(conv(z))
        z = dec.convs[-1](z).permute(0, 2, 3, 1).reshape(B, K, H, H, 4)         # (B, K, H, W, 4)
        values, alpha = z.split([3, 1], dim=-1)
        masks = alpha.softmax(dim=1)
        return (values * masks).sum(dim=1).permute(0, 3, 1, 2)                 # (B, 3, H, W)


def copy_parameters(src: nn.Module, dst: nn.Module):
    "Copy parameters in creation order; the shapes must match one to one."
    ps, pd = list(src.parameters()), list(dst.parameters())
    if len(ps) != len(pd) or any(a.shape != b.shape for a, b in zip(ps, pd)):
        raise ValueError('parameter lists differ: ' + str([(tuple(a.shape), tuple(b.shape)) for a, b in zip(ps, pd) if a.shape != b.shape][:5]))
    with torch.no_grad():
        for a, b in zip(ps, pd): b.copy_(a)


def make_config(args) -> SlotConfig:
    base = SlotConfig(dataset='multid', num_slots=5, decoder_type='fixed', base=True)
    cfg = apply_preset(base, args.preset, batch_size=args.batch_size, base=True, amp_bf16=args.dtype == 'bf16', device=args.device)
    return cfg


def build(args, device):
    "(step function, model) for the chosen mode."
    cfg = make_config(args)
    torch.manual_seed(args.seed)
    if args.reference:
        if args.preset != 'paper': raise SystemExit('--reference implements the paper configuration only (use --preset paper)')
        model = ReferenceModel(cfg.num_slots, cfg.hid_dim, cfg.resolution, cfg.num_iterations).to(device)
    else:
        model = build_model(cfg).to(device)
        if args.plain:
            if getattr(model.decoder, 'shortcut', None) is None: raise SystemExit('--plain: this decoder has no shortcut to turn off')
            model.decoder.shortcut = None
        if args.decoder_layout != 'default': model.decoder.channels_last = args.decoder_layout == 'channels_last'
        if args.encoder_layout != 'default': model.encoder[0].channels_last = args.encoder_layout == 'channels_last'
        for m in model.modules():      # ablations: undo one speed-up at a time (the parameters are the same either way)
            if args.no_as_conv and type(m) is SameConvTranspose2d: m.__class__ = nn.ConvTranspose2d
            if args.no_inplace and isinstance(m, nn.ReLU): m.inplace = False
    if args.channels_last: model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if args.compile else model
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    g = torch.Generator(device=device).manual_seed(args.seed)
    images = torch.rand(cfg.batch_size, 3, cfg.resolution, cfg.resolution, generator=g, device=device)
    if args.channels_last: images = images.contiguous(memory_format=torch.channels_last)
    batch = {'image': images}

    def step(i: int):
        gen = torch.Generator(device=device).manual_seed(args.seed * 1000 + i)
        if args.reference:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.dtype == 'bf16'):
                recon = net(images, generator=gen)
            loss = F.mse_loss(recon.float(), images)
        else:
            loss = compute_losses(net, None, batch, i + 1, cfg, gen)[0]['loss']
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss
    return step, model, cfg


def verify(device) -> dict:
    "slotnb's paper model and the reference with identical weights, batch and slot noise: loss and gradient differences."
    cfg = SlotConfig(dataset='multid', num_slots=5, decoder_type='fixed', base=True)
    torch.manual_seed(0)
    ours, ref = build_model(cfg).to(device), ReferenceModel().to(device)
    copy_parameters(ours, ref)
    img = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)).to(device)
    losses, grads = [], []
    for m, fwd in ((ours, lambda: compute_losses(ours, None, {'image': img}, 1, cfg, torch.Generator(device=device).manual_seed(7))[0]['loss']),
                   (ref, lambda: F.mse_loss(ref(img, generator=torch.Generator(device=device).manual_seed(7)), img))):
        loss = fwd(); loss.backward(); loss = loss.detach()
        losses.append(loss.item()); grads.append([p.grad for p in m.parameters()])
    rel = max(float((a - b).abs().max() / b.abs().max().clamp_min(1e-6)) for a, b in zip(*grads))   # (grads below 1e-6 count as 1e-6)
    return {'loss_slotnb': losses[0], 'loss_reference': losses[1], 'loss_abs_diff': abs(losses[0] - losses[1]), 'grad_max_rel_diff': rel}


def _rss_hwm_reset() -> float | None:
    "Reset the kernel's peak-RSS counter; return the current RSS in MB (None where unsupported)."
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
        return _proc_status('VmRSS')
    except OSError: return None

def _proc_status(key: str) -> float | None:
    try:
        for line in open('/proc/self/status'):
            if line.startswith(key + ':'): return int(line.split()[1]) / 1024
    except OSError: pass
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch_size', type=int, default=64)
    p.add_argument('--steps', type=int, default=3, help='timed steps')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    p.add_argument('--dtype', choices=['fp32', 'bf16'], default='fp32', help='bf16 = autocast (GPUs; this project\'s CPUs lack bf16 units)')
    p.add_argument('--device', default='cpu', help="cpu, cuda, cuda:1, or 'auto' (cuda when available)")
    p.add_argument('--preset', choices=['paper', 'cpu'], default='paper')
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch\'s choice)')
    p.add_argument('--reference', action='store_true', help='time the plain re-implementation of the original step')
    p.add_argument('--plain', action='store_true', help='slotnb with the decoder\'s broadcast shortcut off')
    p.add_argument('--no_as_conv', action='store_true', help='slotnb with stride-1 SameConvTranspose2d layers run as plain ConvTranspose2d')
    p.add_argument('--no_inplace', action='store_true', help='slotnb with out-of-place ReLUs')
    p.add_argument('--decoder_layout', choices=['default', 'nchw', 'channels_last'], default='default',
                   help="slotnb decoder's memory layout (default: the decoder's own choice; the original ran channels_last)")
    p.add_argument('--encoder_layout', choices=['default', 'nchw', 'channels_last'], default='default',
                   help="slotnb CNN encoder's memory layout (default: slotnb.encoders.prefers_channels_last(); the original ran NCHW)")
    p.add_argument('--channels_last', action='store_true', help='model and input in channels_last memory format')
    p.add_argument('--compile', action='store_true', help='torch.compile the model (compile time is in the warm-up)')
    p.add_argument('--verify', action='store_true', help='only check slotnb == reference (loss, gradients) and exit')
    p.add_argument('--profile', action='store_true', help='print a torch.profiler table of one extra step')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device('cuda' if a.device == 'auto' and torch.cuda.is_available() else 'cpu' if a.device == 'auto' else a.device)
    if device.type == 'cuda': torch.backends.cudnn.benchmark = True
    if a.verify:
        res = verify(device); ok = res['loss_abs_diff'] < 1e-5 and res['grad_max_rel_diff'] < 1e-4
        print(json.dumps({**res, 'ok': ok})); sys.exit(0 if ok else 1)

    start = started()
    step, model, cfg = build(a, device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == 'cuda' else (lambda: None)
    mode = 'reference' if a.reference else 'slotnb-plain' if a.plain else 'slotnb'
    mode += '-no_as_conv' * a.no_as_conv + '-no_inplace' * a.no_inplace + (f'-{a.decoder_layout}' if a.decoder_layout != 'default' else '')
    mode += f'-encoder_{a.encoder_layout}' if a.encoder_layout != 'default' else ''
    mode += '+channels_last' * a.channels_last + '+compile' * a.compile
    print(f'{mode}: preset {a.preset}, batch {cfg.batch_size}, {a.dtype}, {device}, threads {torch.get_num_threads()}, '
          f'{sum(p.numel() for p in model.parameters()):,} parameters', flush=True)
    t0 = time.perf_counter()
    for i in range(a.warmup):
        step(i); sync()
    warm_s = time.perf_counter() - t0
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
    rss0 = _rss_hwm_reset() if device.type == 'cpu' else None
    times, cpu_times, losses = [], [], []
    for i in range(a.warmup, a.warmup + a.steps):
        t, c = time.perf_counter(), time.process_time()
        loss = step(i); sync()
        times.append(time.perf_counter() - t); cpu_times.append(time.process_time() - c)
        losses.append(float(loss.detach()))
        print(f'  step {i}: {times[-1]:.3f}s wall, {cpu_times[-1]:.3f}s cpu  loss {losses[-1]:.5f}', flush=True)
    if device.type == 'cuda': peak = torch.cuda.max_memory_allocated(device) / 2 ** 20; step_peak = None
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        hwm = _proc_status('VmHWM'); step_peak = None if rss0 is None or hwm is None else hwm - rss0
    if a.profile:
        from torch.profiler import profile, ProfilerActivity
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
        with profile(activities=acts) as prof:
            step(a.warmup + a.steps); sync()
        print(prof.key_averages().table(sort_by='self_cuda_time_total' if device.type == 'cuda' else 'self_cpu_time_total', row_limit=20))
    med = statistics.median(times)
    res = {'mode': mode, 'preset': a.preset, 'batch_size': cfg.batch_size, 'dtype': a.dtype, 'device': str(device),
           'device_name': torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or platform.machine(),
           'steps': a.steps, 'warmup': a.warmup,
           'img_per_s': cfg.batch_size / med, 'step_s': med, 'step_s_all': [round(t, 4) for t in times],
           'cpu_s': statistics.median(cpu_times), 'cpu_s_all': [round(t, 4) for t in cpu_times], 'warmup_s': round(warm_s, 3),
           'peak_mem_mb': round(peak, 1), 'step_peak_rss_mb': None if step_peak is None else round(step_peak, 1),
           'loss_last': losses[-1]}
    return print_result(res, start)


if __name__ == '__main__':
    main()
