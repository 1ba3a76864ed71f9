"""Keyframes placed by the soundtrack: on every N-th beat from a frame, snapped to the nearest
beats, or the last one where the track ends.

Each returns the keyframes' new frame positions (ints, in order, the first 0), computed from
the project's soundtrack analysis (audio_track.py) at the project's fps; `with_frames` makes
the moved project, checked again like any project (segment limits, soundtrack, pictures).
A beat's frame is the nearest frame to the moment it plays: `round((beat - start) * fps)`.
"""

from pathlib import Path

from .audio_track import AudioTrack
from .errors import InputError, check_integer
from .project import Project, parse_project


def _track(project: Project) -> AudioTrack:
    if project.audio is None:
        raise InputError("the project has no soundtrack: add one first")
    return project.audio


def beat_frames(track: AudioTrack, fps: int) -> list[int]:
    """The frame each beat at or after frame 0 falls on, in order, each once."""
    frames = [round((float(b) - track.start) * fps) for b in track.analysis.beats]
    return sorted({f for f in frames if f >= 0})


def on_beats(project: Project, every: int, from_frame: int) -> list[int]:
    """Keyframes after `from_frame` on every `every`-th beat, from the first beat at or after it.

    Keyframes at or before `from_frame` stay; when that first beat is `from_frame` itself, the
    next keyframe goes `every` beats later."""
    check_integer(every, "every", 1, 64)
    check_integer(from_frame, "from frame", 0)
    track = _track(project)
    grid = beat_frames(track, project.fps)
    grid = [f for f in grid if f >= from_frame][::every]
    grid = [f for f in grid if f > from_frame]
    staying = [k.frame for k in project.keyframes if k.frame <= from_frame]
    moving = len(project.keyframes) - len(staying)
    if moving == 0:
        raise InputError(f"no keyframe comes after frame {from_frame}: nothing to place on the beats")
    if len(grid) < moving:
        raise InputError(
            f"the track has {len(grid)} places every {every} beats after frame {from_frame}; "
            f"{moving} keyframes need one each: choose fewer beats or an earlier frame"
        )
    return staying + grid[:moving]


def snap_to_beats(project: Project) -> list[int]:
    """Every keyframe but the first on the beat nearest to it (a later one when that is taken)."""
    grid = beat_frames(_track(project), project.fps)
    frames = [0]
    for i, keyframe in enumerate(project.keyframes[1:], start=1):
        free = [f for f in grid if f > frames[-1]]
        if not free:
            raise InputError(f"keyframes[{i}] (frame {keyframe.frame}) has no beat left after frame {frames[-1]}")
        frames.append(min(free, key=lambda f: (abs(f - keyframe.frame), f)))
    return frames


def fit_to_audio(project: Project) -> list[int]:
    """The last keyframe at the frame where the track ends ((duration - start) x fps); the others stay."""
    track = _track(project)
    end = round((track.analysis.duration - track.start) * project.fps)
    frames = [k.frame for k in project.keyframes]
    if len(frames) < 2:
        raise InputError("fit to audio needs at least two keyframes: the last one moves to the track's end")
    if end <= frames[-2]:
        raise InputError(
            f"the track ends at frame {end}, not after keyframe {len(frames) - 2} at frame {frames[-2]}: "
            "move the keyframes before it earlier first"
        )
    return [*frames[:-1], end]


def with_frames(project: Project, frames: list[int], folder: Path | None) -> Project:
    """The project with its keyframes at `frames`, checked again (folder: where its files are)."""
    data = project.to_json()
    data["keyframes"] = [{**k, "frame": f} for k, f in zip(data["keyframes"], frames, strict=True)]
    return parse_project(data, folder)
