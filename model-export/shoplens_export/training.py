"""What every ShopLens fine-tuning loop shares: AdamW with linear warm-up then cosine decay to 10%
of the learning rate, and one clipped optimisation step. ``finetune`` (captions and answers) and
``finetune_retrieval`` (ITC + ITM) train different heads with the same recipe."""
import math

import torch


def optimizer_and_schedule(params, lr, weight_decay, total_steps, warmup_steps):
    """AdamW over ``params`` and its scheduler: linear warm-up for ``min(warmup_steps, 10% of
    total_steps)`` steps (at least 1), then cosine from ``lr`` to ``0.1 * lr`` at ``total_steps``.

    Returns ``(optimizer, scheduler, warmup)``, ``warmup`` being the steps actually used."""
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    warmup = min(warmup_steps, max(1, total_steps // 10))

    def schedule(step):
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, total_steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule), warmup


def step(loss, params, optimizer, scheduler, max_norm=1.0):
    """One update: gradients of ``loss`` clipped to ``max_norm`` (global L2), then the optimizer's
    and the schedule's step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    scheduler.step()
