#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tail_hops.py TRACE...: where wakebench's slow hand-overs wait.

Reads a tracefs trace taken with trace_clock "mono" while `wakebench
--mark-slow-us=US` ran (tail_trace.sh takes one), with the sched_switch,
sched_waking, sched_wakeup and sched_migrate_task events. For each trace
it prints:
  - each slow sample's longest hop, from the waker's stamp to the sleeper's
    record: stamp->waking (the waker reaches the wakeup), waking->wakeup
    (select_cpu and enqueue), wakeup->switch-in (queued), switch-in->record
    (back to user space); and whether the sleeper ran on the waker's CPU;
  - what the CPUs did meanwhile: how often a CPU that runs a task stays
    silent (no event) for over 1 ms, the emulator's vCPU turns;
  - the wakebench threads' migrations, by what the task last did and, for
    a woken task pulled by another CPU, what its waker's CPU ran then.
"""
import bisect
import collections
import re
import sys

LINE = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\S+?): (.*)$')
KV = re.compile(r'(\w+)=(\S+)')


def fields(text):
    return dict(KV.findall(text))


def short(comm):
    return re.sub(r'[/:]?\d+$', '', comm)


def read(path):
    events, slow = [], []
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            comm, _, cpu, ts, name, rest = m.groups()
            if name == 'tracing_mark_write' and rest.startswith('wakebench_slow '):
                d = fields(rest)
                slow.append((int(d['tid']), int(d['stamp']) / 1e9, int(d['lat']) / 1e9))
                continue
            events.append((float(ts), int(cpu), name, rest, comm))
    return events, slow


def switch(rest):
    prev, nxt = rest.split(' ==> ')
    return fields(prev), fields(nxt)


def hops(events, slow):
    """Counts the slow samples by their longest hop and CPU."""
    kinds = collections.Counter()
    for tid, t0, lat in slow:
        i = bisect.bisect_left(events, (t0,))
        seen = {}
        while i < len(events) and events[i][0] <= t0 + lat:
            ts, cpu, name, rest, _ = events[i]
            if name in ('sched_waking', 'sched_wakeup') and fields(rest).get('pid') == str(tid):
                seen.setdefault(name, (ts, cpu))
            elif name == 'sched_switch' and switch(rest)[1]['next_pid'] == str(tid):
                seen.setdefault('in', (ts, cpu))
            i += 1
        if len(seen) < 3:
            kinds['(a hop not in the trace)'] += 1
            continue
        marks = [t0, seen['sched_waking'][0], seen['sched_wakeup'][0], seen['in'][0], t0 + lat]
        names = ['stamp->waking', 'waking->wakeup', 'wakeup->switch-in', 'switch-in->record']
        longest = max(range(4), key=lambda k: marks[k + 1] - marks[k])
        where = 'same CPU' if seen['sched_waking'][1] == seen['in'][1] else 'other CPU'
        kinds[f'{names[longest]}, {where}'] += 1
    return kinds


def silences(events):
    """Per CPU: gaps over 1 ms with no event while a task ran there."""
    last, running, gaps = {}, {}, collections.Counter()
    for ts, cpu, name, rest, _ in events:
        if running.get(cpu) and ts - last[cpu] > 1e-3:
            gaps[cpu] += 1
        last[cpu] = ts
        if name == 'sched_switch':
            running[cpu] = switch(rest)[1]['next_pid'] != '0'
    return dict(sorted(gaps.items()))


def migrations(events):
    """Counts wakebench migrations by cause."""
    last, curr, waker = {}, {}, {}
    causes = collections.Counter()
    for ts, cpu, name, rest, comm in events:
        if name == 'sched_switch':
            prev, nxt = switch(rest)
            curr[cpu] = (nxt['next_comm'], nxt['next_pid'])
            if prev['prev_comm'].startswith('wakebench'):
                state = prev['prev_state']
                last[prev['prev_pid']] = ('preempted by ' + short(nxt['next_comm'])
                                          if state.startswith('R') else 'slept')
        elif name == 'sched_waking':
            d = fields(rest)
            if d['comm'].startswith('wakebench'):
                last[d['pid']] = 'woken'
                waker[d['pid']] = (cpu, curr.get(cpu, ('', ''))[1])
        elif name == 'sched_migrate_task':
            d = fields(rest)
            if not d['comm'].startswith('wakebench'):
                continue
            why = last.get(d['pid'], '?')
            if why == 'woken' and d['pid'] in waker and waker[d['pid']][0] == cpu:
                why += ', moved by its waker\'s CPU'
            elif why == 'woken' and d['pid'] in waker:
                wcpu, wpid = waker[d['pid']]
                now = curr.get(wcpu, ('?', '?'))
                why += (', its waker still running' if now[1] == wpid else
                        f', its waker\'s CPU running {short(now[0])}')
            causes[why] += 1
    return causes


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: tail_hops.py TRACE... (see tail_trace.sh)')
    for path in sys.argv[1:]:
        events, slow = read(path)
        events.sort(key=lambda e: e[0])
        print(f'{path}: {len(slow)} slow samples')
        for kind, n in hops(events, slow).most_common():
            print(f'  {n:5} longest hop {kind}')
        print(f'  silent over 1 ms while running, per CPU: {silences(events)}')
        mig = migrations(events)
        print(f'  wakebench migrations: {sum(mig.values())}')
        for why, n in mig.most_common(6):
            print(f'  {n:5} {why}')


if __name__ == '__main__':
    main()
