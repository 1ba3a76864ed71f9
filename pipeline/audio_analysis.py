"""A soundtrack's analysis: duration, tempo, beat times, onset strength and a peak envelope.

`analyze_audio(data, name)` decodes an audio file's bytes (treated as hostile: WAV, FLAC,
OGG/Vorbis/Opus or MP3 through libsndfile, at most `MAX_AUDIO_BYTES` and `max_audio_seconds`
long) and runs librosa's `onset.onset_strength` and `beat.beat_track` on it. The result is
cached by the sha256 of the bytes, in this process and on disk (`<cache root>/audio/*.npz`,
plain arrays read back with `allow_pickle=False`), so a second look at the same track is
instant whatever its name. Every problem is an InputError naming the file.
"""

import contextlib
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic_write import atomic_write
from .errors import InputError
from .keyframe_image import read_bounded
from .limits import env_var, limits
from .presets import cache_root

MAX_AUDIO_BYTES = 200 * 2**20  # a 10-minute 44.1 kHz stereo WAV is 106 MB
AUDIO_FORMATS = ("WAV", "FLAC", "OGG", "MP3")  # libsndfile's major formats we accept
MIN_AUDIO_SECONDS = 0.1  # shorter holds no beat, and is too short for the onset analysis's window
SAMPLE_RATE = 22050  # librosa's default: beats and onsets need no more
ONSET_HOP = 512  # samples per onset-strength value (23 ms), librosa's default
PEAK_HOP = 128  # samples per peak value (5.8 ms): finer than a frame at 120 fps
ANALYSIS_VERSION = 1  # bump when the analysis changes: old cache files are then ignored
_MEMORY: dict[str, "AudioAnalysis"] = {}  # by content sha256, this process's analyses


@dataclass(frozen=True, eq=False)
class AudioAnalysis:
    """What the studio, the timing and the CLI need of a track; times in seconds from its start."""

    sha256: str  # of the file's bytes
    duration: float
    tempo: float  # beats per minute
    beats: np.ndarray = field(repr=False)  # (B,) beat times
    onset: np.ndarray = field(repr=False)  # (N,) onset strength, one value every ONSET_HOP samples
    peaks: np.ndarray = field(repr=False)  # (M,) largest |sample| (0..1), one every PEAK_HOP samples

    @property
    def onset_rate(self) -> float:
        return SAMPLE_RATE / ONSET_HOP

    @property
    def peak_rate(self) -> float:
        return SAMPLE_RATE / PEAK_HOP

    def summary(self) -> dict:
        """{"duration", "tempo", "beats"}: what /analyze_audio and the CLI report (seconds)."""
        return {
            "duration": round(self.duration, 4),
            "tempo": round(self.tempo, 3),
            "beats": [round(float(b), 4) for b in self.beats],
        }


def audio_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_audio_file(path: Path, name: str) -> bytes:
    return read_bounded(path, MAX_AUDIO_BYTES, name, "a soundtrack")


def analyze_audio(data: bytes, name: str) -> AudioAnalysis:
    """The analysis of an audio file's bytes: cached by content, else decoded and analysed."""
    digest = audio_sha256(data)
    found = _MEMORY.get(digest) or _read_cache(digest)
    if found is None:
        found = _analyze(digest, _decode(data, name))
        _write_cache(found)
    _check_duration(found.duration, name)  # the limit may have changed since it was cached
    _MEMORY[digest] = found
    return found


def _decode(data: bytes, name: str) -> np.ndarray:
    """(S,) mono float32 samples at SAMPLE_RATE, or InputError saying what is wrong with the file."""
    import soundfile

    if not data:
        raise InputError(f"{name}: the file is empty")
    try:
        info = soundfile.info(io.BytesIO(data))
        if info.format not in AUDIO_FORMATS:
            raise InputError(f"{name}: {info.format} files are not supported; use {', '.join(AUDIO_FORMATS)}")
        _check_duration(info.duration, name)  # from the header: refuse before decoding hours
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except InputError:
        raise
    except (soundfile.SoundFileError, RuntimeError, ValueError, EOFError, OverflowError) as exc:
        detail = str(exc).split(": ", 1)[-1][:120]  # libsndfile's reason, without its name for the buffer
        raise InputError(
            f"{name}: not an audio file we can read ({', '.join(AUDIO_FORMATS)}), or damaged ({detail})"
        ) from None
    mono = samples.mean(axis=1)  # (S,)
    if mono.size == 0 or not np.isfinite(mono).all():
        raise InputError(f"{name}: the file holds no sound (zero length or invalid samples)")
    _check_duration(mono.size / rate, name)
    if rate != SAMPLE_RATE:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _check_duration(seconds: float, name: str) -> None:
    if seconds <= 0:
        raise InputError(f"{name}: the file holds no sound (zero length)")
    if seconds < MIN_AUDIO_SECONDS:
        raise InputError(
            f"{name}: the track is {seconds:.3f} s long; a soundtrack needs at least {MIN_AUDIO_SECONDS} s"
        )
    most = limits().max_audio_seconds
    if seconds > most:
        raise InputError(
            f"{name}: the track is {seconds:.1f} s long, over the limit of {most} s ({env_var('max_audio_seconds')})"
        )


def _analyze(digest: str, samples: np.ndarray) -> AudioAnalysis:
    import librosa

    onset = librosa.onset.onset_strength(y=samples, sr=SAMPLE_RATE, hop_length=ONSET_HOP)  # (N,)
    # librosa's own trim drops real beats near the start (a click at 0.55 s and the next); ours
    # drops only the silent ones its tracker adds at either end.
    tempo, beat_indices = librosa.beat.beat_track(
        onset_envelope=onset, sr=SAMPLE_RATE, hop_length=ONSET_HOP, trim=False
    )
    beats = librosa.frames_to_time(_heard(beat_indices, onset), sr=SAMPLE_RATE, hop_length=ONSET_HOP)
    padded = np.pad(np.abs(samples), (0, -samples.size % PEAK_HOP))
    peaks = np.clip(padded.reshape(-1, PEAK_HOP).max(axis=1), 0.0, 1.0)  # (M,)
    return AudioAnalysis(
        sha256=digest,
        duration=samples.size / SAMPLE_RATE,
        tempo=float(np.atleast_1d(tempo)[0]),
        beats=np.asarray(beats, dtype=np.float64),
        onset=onset.astype(np.float32),
        peaks=peaks.astype(np.float32),
    )


def _heard(beats: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """The beats without the leading and trailing ones that fall where there is next to no onset."""
    if beats.size == 0:
        return beats
    local = np.array([onset[max(b - 1, 0) : b + 2].max() for b in beats])  # onset around each beat
    heard = np.flatnonzero(local >= 0.1 * np.median(local))
    return beats[heard[0] : heard[-1] + 1] if heard.size else beats[:0]


def _cache_path(digest: str) -> Path:
    return cache_root() / "audio" / f"{digest}-v{ANALYSIS_VERSION}.npz"


def _read_cache(digest: str) -> AudioAnalysis | None:
    """The analysis cached on disk, or None (absent, or unreadable: then it is made again)."""
    try:
        with np.load(_cache_path(digest), allow_pickle=False) as saved:
            return AudioAnalysis(
                sha256=digest,
                duration=float(saved["duration"]),
                tempo=float(saved["tempo"]),
                beats=saved["beats"],
                onset=saved["onset"],
                peaks=saved["peaks"],
            )
    except (OSError, KeyError, ValueError, EOFError):
        return None


def _write_cache(analysis: AudioAnalysis) -> None:
    arrays = {
        "duration": np.float64(analysis.duration),
        "tempo": np.float64(analysis.tempo),
        "beats": analysis.beats,
        "onset": analysis.onset,
        "peaks": analysis.peaks,
    }
    with contextlib.suppress(OSError):  # a read-only cache: the analysis still works, only not remembered
        atomic_write(_cache_path(analysis.sha256), lambda tmp: np.savez(tmp, **arrays))
