#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compares the ratios of two `make bench` results directories.

    scripts/bench-reproducibility.py OLD_DIR NEW_DIR

Each directory holds latency.json, micro.json and sim.json (bench/results/
or a copy of it). Prints a Markdown table of every ratio both runs report
(latency and throughput to the default scheduler, the group-commit ratio,
the simulator's 256/8 ratio) with the change from OLD to NEW, marks those
that moved by more than the benchmark issue's +-20%, and ends with a
count. Exits 1 if any ratio moved by more.
"""
import json
import os
import sys

TOLERANCE = 0.20


def load(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f)


def ratios(directory):
    """Returns {(workload, metric, config): ratio} for every ratio in DIR."""
    out = {}
    latency = load(directory, "latency.json")
    for workload, entry in latency["workloads"].items():
        for config, figures in entry["configs"].items():
            if config == "default":
                continue
            for metric, value in figures.get("ratio_to_default", {}).items():
                if value is not None:
                    out[(workload, metric, latency["configs"][config])] = value
    sim = load(directory, "sim.json")["targets"]
    out[("sim", "decisions/s at 256 CPUs / at 8", "-")] = sim["scaling_256_vs_8"]["measured"]
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench-reproducibility.py OLD_DIR NEW_DIR")
    old, new = ratios(sys.argv[1]), ratios(sys.argv[2])
    print("| workload | metric | config | first run | second run | change |")
    print("|---|---|---|---:|---:|---:|")
    outside = 0
    keys = [k for k in old if k in new]
    for key in keys:
        change = (new[key] - old[key]) / old[key]
        mark = ""
        if abs(change) > TOLERANCE:
            outside += 1
            mark = " (outside +-20%)"
        print("| %s | %s | %s | %.2fx | %.2fx | %+.0f%%%s |"
              % (key[0], key[1], key[2], old[key], new[key], 100 * change, mark))
    print()
    print("%d of %d ratios moved by more than 20%%." % (outside, len(keys)))
    sys.exit(1 if outside else 0)


if __name__ == "__main__":
    main()
