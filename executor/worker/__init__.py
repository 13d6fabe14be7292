"""paraplan's Python worker: trains a GPT with the exact parallel plan the planner chose.

Run under torchrun: `python -m torch.distributed.run ... -m executor.worker --spec launch.json`.
Contract with the TypeScript launcher: executor/PROTOCOL.md. Files, one role each:
spec.py (launch spec), model.py (GPT), data.py (synthetic batches), parallel.py (mesh, TP, AC,
DP), pipeline.py (PP split and schedules), optim.py (AdamW / ZeRO-1), train.py (one step),
flops.py (FLOP counting), metrics.py (events, collectives, memory), main.py (entry).
"""
