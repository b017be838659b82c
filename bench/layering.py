#!/usr/bin/env python3
"""Benchmark: how evenly download_model.plan_groups packs a synthetic 200-file model into layers.

Prints, per scenario, the number of groups, the largest group against the ideal (total / groups)
and the planning time. Target: largest <= 1.25 x ideal when no single file dominates.
Usage: python3 bench/layering.py [--seed N]
"""

import argparse
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # keep docker/ (the build context) free of caches
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "docker"))
import download_model  # noqa: E402

GIB = 1024**3
MIB = 1024**2


def synthetic_model(rng: random.Random, files: int, shards: int, shard_bytes: int) -> dict:
    """`shards` weight files near `shard_bytes` (+-30%) and small config/tokenizer files for the rest."""
    sizes = {}
    for i in range(shards):
        sizes[f"model-{i + 1:05d}-of-{shards:05d}.safetensors"] = int(shard_bytes * rng.uniform(0.7, 1.3))
    for i in range(files - shards):
        sizes[f"extra/file-{i:03d}.json"] = rng.randint(200, 4 * MIB)
    return sizes


def measure(name: str, sizes: dict, cap: int) -> dict:
    start = time.perf_counter()
    groups = download_model.plan_groups(sizes, cap)
    ms = (time.perf_counter() - start) * 1000
    loads = [sum(sizes[p] for p in g) for g in groups]
    total = sum(sizes.values())
    ideal = total / len(groups)
    largest_file = max(sizes.values())
    return {
        "name": name,
        "files": len(sizes),
        "total_gib": total / GIB,
        "groups": len(groups),
        "largest_gib": max(loads) / GIB,
        "ideal_gib": ideal / GIB,
        "ratio": max(loads) / ideal,
        "dominates": largest_file > ideal,
        "ms": ms,
        "placed": sum(len(g) for g in groups),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    seed = ap.parse_args().seed
    rng = random.Random(seed)
    cap = download_model.DEFAULT_MAX_LAYER_BYTES
    scenarios = [
        ("8B model, 4 shards of ~4 GiB", synthetic_model(rng, 200, 4, 4 * GIB), cap),
        ("70B model, 30 shards of ~4.6 GiB", synthetic_model(rng, 200, 30, int(4.6 * GIB)), 14 * GIB),
        ("mixed: 60 shards of ~1 GiB", synthetic_model(rng, 200, 60, GIB), cap),
        ("one 20 GiB file dominates", {**synthetic_model(rng, 199, 10, GIB), "big.bin": 20 * GIB}, cap),
    ]
    print(f"seed {seed}; cap {cap / GIB:.0f} GiB unless noted; groups fill at most {download_model.GROUP_SLOTS} layer slots")
    print(f"{'scenario':36} {'files':>5} {'total GiB':>9} {'groups':>6} {'largest':>8} {'ideal':>7} {'ratio':>6} {'ms':>6}")
    worst = 0.0
    for name, sizes, c in scenarios:
        r = measure(name, sizes, c)
        assert r["placed"] == r["files"], "a file was lost or duplicated"
        note = " (a single file is larger than the ideal)" if r["dominates"] else ""
        print(
            f"{r['name']:36} {r['files']:>5} {r['total_gib']:>9.1f} {r['groups']:>6} "
            f"{r['largest_gib']:>8.2f} {r['ideal_gib']:>7.2f} {r['ratio']:>6.3f} {r['ms']:>6.1f}{note}"
        )
        if not r["dominates"]:
            worst = max(worst, r["ratio"])
    verdict = "ok" if worst <= 1.25 else "OVER TARGET"
    print(f"worst largest/ideal where no file dominates: {worst:.3f} (target <= 1.25): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
