"""The benchmark's soundtrack measure: `python -m pipeline audio` on a 3-minute track, cold and cached.

The track is made here (a 120 BPM kick and hi-hat pattern over a chord, 44.1 kHz stereo WAV,
like a song's file). Both runs are whole processes with the same fresh cache: the first
analyses the file (librosa, its numba code compiled on first use), the second finds the
analysis cached under the file's content.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .processes import ROOT, run_process

TRACK_SECONDS = 180
RATE = 44100


def write_track(path: Path, seconds: int = TRACK_SECONDS, bpm: int = 120) -> Path:
    """A synthetic song: a decaying kick on every beat, a hi-hat between, a quiet chord under them."""
    import soundfile

    t = np.arange(seconds * RATE) / RATE  # (S,)
    chord = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    beat = 60 / bpm
    phase = t % beat
    kick = 0.6 * np.sin(2 * np.pi * 60 * phase) * np.exp(-phase / 0.05)
    half = (t + beat / 2) % beat
    hat = 0.2 * np.random.default_rng(0).standard_normal(t.size) * np.exp(-half / 0.01)
    song = np.clip(chord + kick + hat, -1, 1).astype(np.float32)
    soundfile.write(path, np.stack([song, song], axis=1), RATE)
    return path


def audio_analysis(work: Path, env: dict[str, str]) -> dict:
    """Seconds of a whole `python -m pipeline audio TRACK --json` process: cold, then cached."""
    track = write_track(work / "track.wav")
    env = {**env, "SDVC_HOME": str(work / "audio-home")}  # a fresh cache: the first run is cold
    result: dict = {"track_seconds": TRACK_SECONDS}
    for name in ("cold", "cached"):
        run = run_process([sys.executable, "-m", "pipeline", "audio", str(track), "--json"], env, ROOT)
        if run["rc"] != 0:
            raise RuntimeError(f"the audio analysis failed ({run['rc']}): " + "\n".join(run["lines"][-20:]))
        result[f"{name}_seconds"] = run["seconds"]
        result["tempo"] = json.loads(run["lines"][-1])["tempo"]
    return result
