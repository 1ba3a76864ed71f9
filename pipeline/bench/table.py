"""The benchmark's results as one table: each measure beside its reference, ratio and target.

Rows are numbered as the measures in measure.py; `table(result)` takes the dict `measure.run`
returns (also what `--json` writes), so a saved result can be printed again.
"""

from __future__ import annotations

from .measure import TARGETS


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def _rows(r: dict) -> list[tuple[str, str, str, str, str]]:
    """One row per measure: what, ours, the reference, ours/reference (wall; CPU time), target or check."""
    s, t, re, noop, v, w = r["settings"], r["throughput"], r["rerender"], r["noop"], r["video"], r["walk"]
    ours = next(b for b in t["batches"] if b["batch"] == s["batch"])
    full, edit = re["full"], re["edit"]
    gpu = r["memory"]["gpu_peak_mb"]
    rows = [
        ("measure", "ours", "reference", "ratio: wall (cpu)", "target / check"),
        (
            f"1 re-render after 1 edit ({re['frames_total']} fr)",
            f"{edit['frames']} fr {edit['seconds']:.2f} s",
            f"full: {full['frames']} fr {full['seconds']:.2f} s",
            f"{_ratio(edit['seconds'], full['seconds'])} ({_ratio(edit['cpu_seconds'], full['cpu_seconds'])})",
            f"exactly 2 segments ({re['expected_frames']} fr): {'yes' if re['exact'] else 'NO'}",
        ),
        (
            f"2 no-op render ({noop['frames_total']} fr cached)",
            f"{noop['render_seconds']:.2f} s render, {noop['process_seconds']:.2f} s process, {noop['peak_rss_mb']:.0f} MB",
            "",
            "",
            f"< {TARGETS['noop_seconds']:.0f} s; torch imported: {'yes' if noop['torch_imported'] else 'no'}",
        ),
        (
            f"3 in-betweens vs bare diffusers ({t['frames']} fr)",
            f"{ours['fps']:.2f} fr/s",
            f"bare loop {t['bare']['fps']:.2f} fr/s",
            f"{_ratio(ours['seconds'], t['bare']['seconds'])} ({_ratio(ours['cpu_seconds'], t['bare']['cpu_seconds'])})",
            f"<= {TARGETS['time_ratio_vs_bare']}x; max pixel diff {t['max_pixel_diff']}",
        ),
        (
            "4 batch scaling (fr/s)",
            ", ".join(f"b{b['batch']} {b['fps']:.2f}" for b in t["batches"]),
            "batch 1",
            f"b{t['batches'][-1]['batch']}: {_ratio(t['batches'][0]['seconds'], t['batches'][-1]['seconds'])} "
            f"({_ratio(t['batches'][0]['cpu_seconds'], t['batches'][-1]['cpu_seconds'])}) speed",
            "",
        ),
        (
            f"5 mp4 {v['width']}x{v['height']} ({v['preset']}, crf {v['crf']})",
            f"{v['encode_fps']:.0f} fr/s; {v['assembly_fps']:.0f} with PNG reads; {v['bytes_per_frame'] // 1024} KB/fr",
            f"x264 medium {v['medium']['encode_fps']:.0f} fr/s; {v['medium']['bytes_per_frame'] // 1024} KB/fr",
            f"{_ratio(v['encode_fps'], v['medium']['encode_fps'])} ({_ratio(v['encode_cpu_fps'], v['medium']['encode_cpu_fps'])}) speed",
            f">= {TARGETS['mp4_fps']:.0f} fr/s",
        ),
        (
            "6 peak memory (CLI render)",
            f"RSS {r['memory']['peak_rss_mb']:.0f} MB" + (f", GPU {gpu:.0f} MB" if gpu is not None else ""),
            "",
            "",
            "",
        ),
    ]
    cold, peer = w["ours_cli"], w.get("peer")
    per_frame = f"{w['frames'] / cold['process_seconds']:.2f} fr/s"
    rows.append(
        (
            f"7 walk {w['frames']} fr, whole process",
            f"CLI {cold['process_seconds']:.2f} s ({per_frame})",
            f"peer {peer['process_seconds']:.2f} s ({w['frames'] / peer['process_seconds']:.2f} fr/s)"
            if peer
            else w.get("peer_skipped", "peer: --peer"),
            f"{_ratio(cold['process_seconds'], peer['process_seconds'])} "
            f"({_ratio(cold['process_cpu_seconds'], peer['process_cpu_seconds'])}) time"
            if peer
            else "",
            f"after an edit: ours {edit['frames']} fr, peer all {re['frames_total']}" if peer else "",
        )
    )
    sm = r["smoothness"]
    rows.append(
        (
            f"8 smoothness, {sm['frames']} fr (1-Gini)",
            f"even {sm['even']['smoothness']:.3f}, spline {sm['spline']['smoothness']:.3f}",
            f"uniform {sm['uniform']['smoothness']:.3f}",
            f"max jump {sm['even']['max_jump']:.2f} vs {sm['uniform']['max_jump']:.2f}",
            f"probe: {sm['probe_fraction']:.2f}x of the even render",
        )
    )
    if "audio" in r:
        a = r["audio"]
        rows.append(
            (
                f"9 audio analysis, {a['track_seconds'] // 60} min track",
                f"cold {a['cold_seconds']:.2f} s, cached {a['cached_seconds']:.2f} s (whole process)",
                "",
                f"{_ratio(a['cold_seconds'], a['cached_seconds'])} faster cached",
                f"tempo {a['tempo']:.1f} BPM (120)",
            )
        )
    tl = r["timeline"]
    rows.append(
        (
            f"10 timeline redraw ({tl['frames']} fr)",
            f"{tl['bytes'] / 1024:.1f} KB, {tl['ms']:.1f} ms server",
            "HTML strip before: 155 KB, 36 ms",
            "",
            f"<= {TARGETS['timeline_kb']:.0f} KB and {TARGETS['timeline_ms']:.0f} ms",
        )
    )
    return rows


def table(r: dict) -> str:
    """The results side by side, with the settings and the machine above them."""
    s, m = r["settings"], r["machine"]
    rows = _rows(r)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        f"SD Video Creator benchmark: {s['size']} model {s['model']} ({s['gflop_per_frame']} GFLOP/frame), "
        f"{s['width']}x{s['height']}, {s['steps']} steps, guidance {s['guidance']}, {s['dtype']}, batch {s['batch']}, "
        f"medians of {s['repeats']}",
        f"machine: {m['device']} ({m.get('gpu', m['cpu'])}), {m['cores']} cores, torch {m['torch']} "
        f"({m['torch_threads']} CPU threads), load average {m['load_average'][0]} before, "
        f"{m['load_average_after'][0]} after",
    ]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)
