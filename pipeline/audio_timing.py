"""The soundtrack on the project's frames: audio-timed in-betweens, and the timeline's audio lane.

Frame i plays at `audio.start + i / fps` seconds of the track. With `"timing": "audio"` a
segment's t advances with the onset strength over its span of the track: the step to frame i
is the onset strength summed over the time nearer frame i than any other frame (half a frame
either side of its start), so the picture moves on the frame nearest each hit (never a whole
frame after it) and holds in the quiet. t still runs 0 -> 1 over the segment and the frame count
is unchanged; a segment over silence (or past the track's end) steps evenly.

`audio_lane` is what the studio's timeline draws under the frames: a peak (0..1) per frame,
the beats as (fractional) frame positions, and the tempo.
"""

from typing import TYPE_CHECKING

import numpy as np

from .audio_track import AudioTrack

if TYPE_CHECKING:
    from .project import Project


def frame_times(track: AudioTrack, fps: int, frames: np.ndarray) -> np.ndarray:
    """Seconds of the track at which frame positions play."""
    return track.start + np.asarray(frames, dtype=np.float64) / fps


def audio_fractions(track: AudioTrack, fps: int, first: int, last: int) -> list[float]:
    """The t of frames first + 1 .. last (the last is 1.0), advancing with the onset strength."""
    analysis = track.analysis
    onset = analysis.onset.astype(np.float64)  # (N,): value j is centred on j / onset_rate (librosa's frames)
    cumulative = np.concatenate([[0.0], np.cumsum(onset)])  # (N + 1,): energy up to each boundary
    boundaries = (np.arange(cumulative.size) - 0.5) / analysis.onset_rate
    # The energy up to half a frame past each frame's start, linearly within a value's span; flat past the end.
    times = frame_times(track, fps, np.arange(first, last + 1) + 0.5)  # (L + 1,)
    energy = np.interp(times, boundaries, cumulative)
    total = energy[-1] - energy[0]
    steps = last - first
    if total <= 1e-9 * steps:  # silence: nothing to follow
        return [step / steps for step in range(1, steps + 1)]
    fractions = (energy[1:] - energy[0]) / total
    fractions[-1] = 1.0  # exactly: the end keyframe's own frame
    return [float(t) for t in fractions]


def audio_lane(project: "Project") -> dict | None:
    """{"peaks": [0..1 per frame], "beats": [frame positions], "tempo": bpm} over the project's
    frames, None without a soundtrack.

    A frame's peak is the largest |sample| of the track between it and the next frame (0 past
    the track's end); beats before frame 0 or after the last frame are left out."""
    track, fps, frame_count = project.audio, project.fps, project.frame_count
    if track is None:
        return None
    analysis = track.analysis
    edges = frame_times(track, fps, np.arange(frame_count + 1)) * analysis.peak_rate  # peak-value positions
    starts = np.clip(np.floor(edges[:-1]).astype(np.int64), 0, analysis.peaks.size)
    ends = np.clip(np.maximum(np.floor(edges[1:]).astype(np.int64), starts + 1), 0, analysis.peaks.size)
    peaks = [float(analysis.peaks[a:b].max()) if b > a else 0.0 for a, b in zip(starts, ends, strict=True)]
    positions = (analysis.beats - track.start) * fps
    beats = positions[(positions >= 0) & (positions <= frame_count - 1)]
    return {
        "peaks": [round(p, 4) for p in peaks],
        "beats": [round(float(b), 3) for b in beats],
        "tempo": round(analysis.tempo, 3),
    }
