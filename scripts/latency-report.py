#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""latency-report.py RAW_DIR RESULTS_DIR

Turns the raw output of scripts/compare-latency.sh (RAW_DIR/raw: meta,
WORKLOAD.CONFIG.ROUND.hist latency histograms "US COUNT",
WORKLOAD.CONFIG.ROUND.ms completion times (the workload's own, its scheduler
in place; .total_ms with the scheduler's start-up and teardown), and
WORKLOAD.CONFIG.ROUND.gh.log,
ghost_hybrid's output) into
  RESULTS_DIR/latency.json  every figure, per workload and configuration,
                            with ratios to the default scheduler;
  RESULTS_DIR/latency.md    the table a person reads, the targets and the
                            findings (bench/latency/FINDINGS.md);
  RESULTS_DIR/latency.png   latency CDFs per workload (log x) and the
                            completion-time ratios;
and, when RESULTS_DIR is bench/results, the ratio table of README.md.
A configuration's latency percentiles are the median over rounds of each
round's percentile, and its completion time the median over rounds; the
CDFs in the plot merge the rounds' histograms. For ghost_hybrid's
configurations, txn_failed_share is the share of failed transactions, from
the final summary line of each run (summed over the runs).
"""
import collections
import datetime
import json
import os
import re
import statistics
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CONFIGS = ["default", "agent", "bpf", "scx_simple", "scx_central", "scx_userland"]
GHOST_HYBRID = ["agent", "bpf"]
LABELS = {"default": "default (EEVDF)", "agent": "ghost_hybrid (agent only)",
          "bpf": "ghost_hybrid --bpf-pick", "scx_simple": "scx_simple (sched_ext example)",
          "scx_central": "scx_central (sched_ext example)",
          "scx_userland": "scx_userland (sched_ext example)"}
SHORT = {"default": "default (EEVDF)", "agent": "agent only", "bpf": "--bpf-pick",
         "scx_simple": "scx_simple", "scx_central": "scx_central", "scx_userland": "scx_userland"}
COLORS = {"default": "tab:blue", "agent": "tab:orange", "bpf": "tab:green",
          "scx_simple": "tab:purple", "scx_central": "tab:brown", "scx_userland": "tab:gray"}
TXN_LINE = re.compile(r"txn ok=(\d+) failed=(\d+)")
AGENT_CPU = re.compile(r"agent_cpu=([0-9.]+)s \(summary\)")
LATENCY = ["cyclictest", "wakebench"]
THROUGHPUT = ["hackbench", "compress"]
DESCRIPTION = {
    "cyclictest": "timer wakeup latency, one thread per CPU (rt-tests)",
    "wakebench": "wake-to-run latency, futex ping-pong pairs (bench/latency)",
    "hackbench": "pipe messaging, completion time (rt-tests)",
    "compress": "2 gzip per CPU of a 4 MB file, completion time",
}
# Issue 11's acceptance lines, as (workload, configuration, metric, limit,
# against): the configuration's ratio to the default scheduler, divided by
# the ratio of `against` when that is a peer, must be <= limit.
TARGETS = [(w, "bpf", m, 1.10, "scx_simple") for w in LATENCY for m in ("p50", "p99", "p999")] + \
          [(w, "bpf", "completion_ms", 1.10, "scx_simple") for w in THROUGHPUT] + \
          [(w, "bpf", "completion_ms", 1.05, "default") for w in THROUGHPUT] + \
          [(w, "agent", "completion_ms", 1.25, "default") for w in THROUGHPUT] + \
          [(w, "agent", "completion_ms", 1.25, "scx_userland") for w in THROUGHPUT] + \
          [(w, "agent", "p99", 3.0, "default") for w in LATENCY]


def read_meta(raw):
    meta = {}
    with open(os.path.join(raw, "meta")) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            meta[key] = value
    return meta


def host_cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def runs_of(raw, workload, config, suffix):
    prefix = "%s.%s." % (workload, config)
    return sorted(os.path.join(raw, n) for n in os.listdir(raw)
                  if n.startswith(prefix) and n.endswith(suffix))


def merged_histogram(paths):
    hist = collections.Counter()
    for path in paths:
        with open(path) as f:
            for line in f:
                us, count = line.split()
                hist[int(us)] += int(count)
    return sorted(hist.items())


def percentile(hist, p):
    total = sum(c for _, c in hist)
    rank = p * (total - 1)
    seen = 0
    for us, count in hist:
        seen += count
        if seen > rank:
            return us
    return hist[-1][0]


def ratio(value, base):
    return round(value / base, 3) if base else None


def txn_counts(raw, workload, config):
    """(ok, failed) summed over the runs: each run's last summary line."""
    ok = failed = 0
    for path in runs_of(raw, workload, config, ".gh.log"):
        last = None
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("ghost_hybrid:"):
                    last = TXN_LINE.search(line) or last
        if last:
            ok += int(last.group(1))
            failed += int(last.group(2))
    return ok, failed


def failed_share(ok, failed):
    return round(failed / (ok + failed), 4) if ok + failed else None


def agent_cpu_seconds(raw, workload, config):
    """The agent threads' CPU time per run (the summary line's agent_cpu),
    the mean over the runs; None without any."""
    seconds = []
    for path in runs_of(raw, workload, config, ".gh.log"):
        with open(path, errors="replace") as f:
            found = [float(m.group(1)) for m in map(AGENT_CPU.search, f) if m]
        if found:
            seconds.append(found[-1])
    return round(sum(seconds) / len(seconds), 3) if seconds else None


def add_txn_shares(raw, workload, configs):
    for config, e in configs.items():
        e["txn_failed_share"] = (failed_share(*txn_counts(raw, workload, config))
                                 if config in GHOST_HYBRID else None)
        e["agent_cpu_s"] = agent_cpu_seconds(raw, workload, config) if config in GHOST_HYBRID else None


def latency_entry(raw, workload):
    """Each configuration's p50/p99/p99.9: the median over rounds of each
    round's own percentile, so that every round weighs the same and one bad
    round (which also yields fewer samples) moves the result least."""
    configs = {}
    for config in CONFIGS:
        paths = runs_of(raw, workload, config, ".hist")
        rounds = [h for h in (merged_histogram([p]) for p in paths) if h]
        if not rounds:
            continue
        e = {"samples": sum(c for h in rounds for _, c in h),
             "max": max(h[-1][0] for h in rounds), "runs": len(rounds)}
        for metric, p in (("p50", 0.50), ("p99", 0.99), ("p999", 0.999)):
            per_round = [percentile(h, p) for h in rounds]
            e[metric] = statistics.median(per_round)
            e["runs_" + metric] = per_round
        configs[config] = e
    base = configs.get("default")
    for config, e in configs.items():
        if base:
            e["ratio_to_default"] = {m: ratio(e[m], base[m]) for m in ("p50", "p99", "p999")}
    add_txn_shares(raw, workload, configs)
    return {"kind": "latency", "unit": "us", "what": DESCRIPTION[workload], "configs": configs}


def throughput_entry(raw, workload):
    configs = {}
    for config in CONFIGS:
        times = []
        for path in runs_of(raw, workload, config, ".ms"):
            with open(path) as f:
                times.append(int(f.read().strip()))
        if times:
            configs[config] = {"completion_ms": statistics.median(times), "runs_ms": times}
            # With the scheduler's loading and unloading around it.
            totals = [int(open(t).read().strip())
                      for t in runs_of(raw, workload, config, ".total_ms")]
            if totals:
                configs[config]["with_startup_ms"] = statistics.median(totals)
    base = configs.get("default")
    for config, e in configs.items():
        if base:
            e["ratio_to_default"] = {"completion_ms": ratio(e["completion_ms"],
                                                            base["completion_ms"])}
    add_txn_shares(raw, workload, configs)
    return {"kind": "throughput", "unit": "ms", "what": DESCRIPTION[workload], "configs": configs}


def evaluate_targets(workloads):
    out = []
    for workload, config, metric, limit, against in TARGETS:
        configs = workloads.get(workload, {}).get("configs", {})
        r = configs.get(config, {}).get("ratio_to_default", {}).get(metric)
        if against != "default" and r is not None:
            base = configs.get(against, {}).get("ratio_to_default", {}).get(metric)
            r = r / base if base else None
        out.append({"workload": workload, "config": config, "metric": metric, "limit": limit,
                    "against": against, "ratio": r, "met": r is not None and r <= limit})
    return out


def ratio_table(report):
    """The README's summary: each figure's ratio to the default scheduler."""
    others = [c for c in report["configs"] if c != "default"]
    lines = ["| workload | metric | " + " | ".join(SHORT[c] for c in others) + " |",
             "|---|---|" + "---:|" * len(others)]
    for name, w in report["workloads"].items():
        metrics = ["p50", "p99", "p999"] if w["kind"] == "latency" else ["completion_ms"]
        for metric in metrics:
            row = [name if metric == metrics[0] else "",
                   metric.replace("p999", "p99.9").replace("completion_ms", "completion time")]
            for config in others:
                r = w["configs"].get(config, {}).get("ratio_to_default", {}).get(metric)
                row.append("-" if r is None else "%.2fx" % r)
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def update_readme(path, report):
    """Replaces the table between the bench-table markers of @path."""
    begin, end = "<!-- bench-table: scripts/latency-report.py -->", "<!-- /bench-table -->"
    if not os.path.exists(path):
        return
    text = open(path).read()
    if begin not in text or end not in text:
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    caption = ("Ratios to the kernel's default scheduler (lower is better), %s, %s rounds of "
               "%s s, guest with %s vCPUs, guest clock: %s:"
               % (report["date"][:10], report["rounds"], report["duration_s"],
                  report["machine"]["guest_vcpus"],
                  report["machine"].get("guest_clock", "host time")))
    if any(c.startswith("scx_") for c in report["configs"]):
        caption = caption[:-1] + "; scx_* are the kernel's own sched_ext example schedulers:"
    with open(path, "w") as f:
        f.write(head + begin + "\n" + caption + "\n\n" + ratio_table(report) + "\n" + end + tail)


def agent_cpu_text(name, workload):
    """'NAME: agent only 3.39 s, --bpf-pick 0.30 s' for one workload."""
    parts = []
    for c in GHOST_HYBRID:
        if c in workload["configs"]:
            s = workload["configs"][c].get("agent_cpu_s")
            parts.append("%s %s" % (SHORT[c], "-" if s is None else "%.2f s" % s))
    return "%s: %s" % (name, ", ".join(parts))


def write_markdown(path, report, findings):
    m = report["machine"]
    others = [c for c in report["configs"] if c != "default"]
    lines = [
        "# Latency and throughput: ghost_hybrid vs the kernel's default scheduler "
        "and its sched_ext examples",
        "",
        "Generated by `make bench` (scripts/compare-latency.sh in one guest boot, then "
        "scripts/latency-report.py) on %s." % report["date"],
        "Guest: %s vCPUs (QEMU TCG), kernel %s, workloads on CPUs %s; guest clock: %s; "
        "host CPU: %s. %s rounds of %s s per workload and configuration, the configurations "
        "interleaved."
        % (m["guest_vcpus"], m["guest_kernel"], m["cpus"], m.get("guest_clock", "host time"),
           m["host_cpu_model"], report["rounds"], report["duration_s"]),
        "Absolute times in a TCG guest are inflated; the ratios to the default scheduler, "
        "measured side by side, are the result. scx_simple, scx_central and scx_userland "
        "are the kernel's own sched_ext example schedulers (bench/README.md, \"Peers\").",
        "",
        "| workload | metric | default (EEVDF) | "
        + " | ".join("%s | ratio" % SHORT[c] for c in others) + " |",
        "|---|---|---:|" + "---:|---:|" * len(others),
    ]
    for name, w in report["workloads"].items():
        metrics = ["p50", "p99", "p999"] if w["kind"] == "latency" else ["completion_ms"]
        for metric in metrics:
            row = ["%s" % name if metric == metrics[0] else "",
                   metric.replace("p999", "p99.9").replace("_ms", "") + " (%s)" % w["unit"]]
            for config in ["default"] + others:
                e = w["configs"].get(config)
                if e is None:
                    row += ["-"] if config == "default" else ["-", "-"]
                    continue
                row.append("%g" % e[metric])
                if config != "default":
                    r = e.get("ratio_to_default", {}).get(metric)
                    row.append("%.2fx" % r if r is not None else "-")
            lines.append("| " + " | ".join(row) + " |")
    shares = ["%s %s" % (SHORT[c], "-" if report["txn_failed_share"].get(c) is None
                         else "%.1f%%" % (100 * report["txn_failed_share"][c]))
              for c in GHOST_HYBRID if c in report["configs"]]
    lines += ["", "Workloads: " + "; ".join("%s: %s" % (n, w["what"])
                                           for n, w in report["workloads"].items()) + ".",
              "", "Failed transactions (ghost_hybrid's final summary lines, all workloads): "
              + (", ".join(shares) or "-") + ".",
              "", "The agent threads' CPU time per run (mean; `agent_cpu` of the summary line): "
              + ("; ".join(agent_cpu_text(n, w) for n, w in report["workloads"].items()) or "-")
              + ".",
              "", "## Targets", "",
              "| target | measured | |", "|---|---:|---|"]
    for t in report["targets"]:
        what = "%s %s %s <= %gx %s" % (
            t["workload"], "--bpf-pick" if t["config"] == "bpf" else "agent only",
            t["metric"].replace("_ms", "").replace("p999", "p99.9"), t["limit"],
            "default" if t["against"] == "default" else t["against"] + "'s ratio")
        if t["ratio"] is None:
            lines.append("| %s | - | not measured |" % what)
        elif t["met"]:
            lines.append("| %s | %.2fx | met |" % (what, t["ratio"]))
        else:
            lines.append("| %s | %.2fx | missed by %.0f%% |"
                         % (what, t["ratio"], 100 * (t["ratio"] / t["limit"] - 1)))
    lines += ["", "![latency CDFs](latency.png)", ""]
    if findings:
        lines += [findings.strip(), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def write_plot(path, raw, report):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, workload in zip(axes, LATENCY):
        for config in report["configs"]:
            hist = merged_histogram(runs_of(raw, workload, config, ".hist"))
            if not hist:
                continue
            total = sum(c for _, c in hist)
            xs, ys, seen = [], [], 0
            for us, count in hist:
                seen += count
                xs.append(max(us, 1))
                ys.append(seen / total)
            ax.step(xs, ys, where="post", label=LABELS[config], color=COLORS[config])
        ax.set_xscale("log")
        ax.set_xlabel("latency (us, log scale)")
        ax.set_ylabel("fraction of wakeups")
        ax.set_title("%s: %s" % (workload, DESCRIPTION[workload].split(",")[0]))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
    ax = axes[2]
    names = [w for w in THROUGHPUT if w in report["workloads"]]
    others = [c for c in report["configs"] if c != "default"]
    width = 0.8 / max(len(others), 1)
    for i, config in enumerate(others):
        values = [report["workloads"][w]["configs"].get(config, {})
                  .get("ratio_to_default", {}).get("completion_ms") or 0 for w in names]
        ax.bar([j + width * i for j in range(len(names))], values, width=width,
               label=LABELS[config], color=COLORS[config])
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylim(top=ax.get_ylim()[1] * 1.4)  # room for the legend
    ax.set_xticks([j + width * (len(others) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels(names)
    ax.set_ylabel("completion time / default's")
    ax.set_title("throughput jobs (lower is better)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: latency-report.py RAW_DIR RESULTS_DIR")
    raw = os.path.join(sys.argv[1], "raw")
    results = sys.argv[2]
    meta = read_meta(raw)
    workloads = {}
    for name in LATENCY + THROUGHPUT:
        entry = latency_entry(raw, name) if name in LATENCY else throughput_entry(raw, name)
        if entry["configs"]:
            workloads[name] = entry
    if not workloads:
        sys.exit("latency-report.py: no results under %s" % raw)
    report = {
        "date": meta.get("date") or datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"guest_vcpus": int(meta.get("nproc", 0)), "guest_kernel": meta.get("kernel"),
                    "cpus": meta.get("cpus"), "host_cpu_model": host_cpu_model(),
                    "guest_clock": meta.get("guest_clock", "host time")},
        "duration_s": int(meta.get("duration_s", 0)), "rounds": int(meta.get("rounds", 0)),
        "configs": {c: LABELS[c] for c in CONFIGS
                    if any(c in w["configs"] for w in workloads.values())},
        "workloads": workloads,
    }
    report["txn_failed_share"] = {
        c: failed_share(*[sum(x) for x in zip(*(txn_counts(raw, w, c) for w in workloads))])
        if c in GHOST_HYBRID else None for c in report["configs"]}
    report["targets"] = evaluate_targets(workloads)
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "latency.json"), "w") as f:
        json.dump(report, f, indent=2)
    findings_path = os.path.join(ROOT, "bench", "latency", "FINDINGS.md")
    findings = open(findings_path).read() if os.path.exists(findings_path) else ""
    write_markdown(os.path.join(results, "latency.md"), report, findings)
    write_plot(os.path.join(results, "latency.png"), raw, report)
    if os.path.abspath(results) == os.path.abspath(os.path.join(ROOT, "bench", "results")):
        update_readme(os.path.join(ROOT, "README.md"), report)
    for t in report["targets"]:
        print("target %-10s %-5s %-13s <= %-4g x %-12s: %s" % (
            t["workload"], t["config"], t["metric"], t["limit"], t["against"],
            "n/a" if t["ratio"] is None else
            "%.2fx %s" % (t["ratio"], "met" if t["met"] else "MISSED")))


if __name__ == "__main__":
    main()
