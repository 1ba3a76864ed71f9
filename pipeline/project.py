"""The project file: render settings and keyframes, parsed and checked in one place.

A project file is JSON (see DESIGN.md). `parse_project` turns its decoded data into frozen
dataclasses or raises `InputError` naming the first field that is wrong. Unknown fields are
errors; optional fields take the model preset's defaults. A keyframe's optional `"image"` is a
picture file relative to the project file (checked and hashed by keyframe_image.py), so only
`load_project`, or `parse_project` given the project's folder, accepts it; so is the optional
soundtrack, `"audio": {"path", "start"}` (audio_track.py), which `"timing": "audio"` times the
in-betweens to.
"""

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from .audio_track import AudioTrack, load_audio_track
from .errors import InputError, check_integer, show
from .interpolation import EASINGS, INTERPOLATIONS
from .keyframe_image import KeyframeImage, load_keyframe_image
from .limits import env_var, limits
from .presets import PRESETS, SCHEDULER_NAMES, preset_for
from .styles import STYLES

MAX_SEED = 2**63 - 1
MAX_FPS = 120
TIMINGS = ("even", "audio")  # in-betweens' t: even steps, or advancing with the soundtrack's onsets
FULL_DECODER = "vae"  # the model's own autoencoder
TINY_DECODER = "tiny"  # a TAESD-sized AutoencoderTiny (tiny_decoder.py)
DECODERS = (FULL_DECODER, TINY_DECODER)
MIN_FAST_STEPS = 8  # fast mode reuses features from this many steps; 1-4 step models need every step, render exact


@dataclass(frozen=True)
class RenderSettings:
    """Everything besides the keyframes that decides a frame's pixels."""

    model: str  # preset name, diffusers model id or local folder
    width: int
    height: int
    steps: int
    guidance: float  # classifier-free guidance scale; <= 1 means no negative pass
    scheduler: str
    decoder: str = FULL_DECODER  # latents to pixels: the model's VAE, or TINY_DECODER for a draft (draft.py)
    fast: bool = False  # fast mode asked for: reuse deep UNet features between steps (feature_reuse.py)

    @property
    def reuses_features(self) -> bool:
        """Whether frames render in fast mode: asked for, with enough steps to reuse features between."""
        return self.fast and self.steps >= MIN_FAST_STEPS

    @property
    def fast_notice(self) -> str:
        """Why fast mode, asked for, renders exact; "" otherwise."""
        if not self.fast or self.reuses_features:
            return ""
        return f"fast mode reuses features from {MIN_FAST_STEPS} steps on: with {self.steps}, frames render exact"

    def key_fields(self) -> dict[str, Any]:
        """The fields as a frame key hashes them: the decoder only when not the model's own, fast
        only when it reuses features, so keys made before either existed never change."""
        fields = asdict(self)
        if self.decoder == FULL_DECODER:
            del fields["decoder"]
        del fields["fast"]
        if self.reuses_features:
            fields["fast"] = True
        return fields

    def for_encoding(self) -> "RenderSettings":
        """The settings a keyframe is encoded under: neither decoder nor fast mode plays a part in its conditioning."""
        return replace(self, decoder=FULL_DECODER, fast=False)


@dataclass(frozen=True)
class Keyframe:
    frame: int  # position on the timeline
    prompt: str
    negative_prompt: str = ""
    style: str = "none"
    seed: int = 0
    image: KeyframeImage | None = None  # the user's own picture; its inverted noise replaces the seed's
    strength: float = 1.0  # with an image: 1 reproduces it, 0 ignores it (seed noise), between: slerp

    def inputs(self) -> dict[str, Any]:
        """What decides this keyframe's conditioning (its position does not)."""
        inputs = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "style": self.style,
            "seed": self.seed,
        }
        if self.image is not None:  # only then: keys of keyframes without an image never change
            inputs |= {"image_sha256": self.image.sha256, "strength": self.strength}
        return inputs

    def to_json(self) -> dict[str, Any]:
        data = {"frame": self.frame, **self.inputs()}
        if self.image is not None:
            del data["image_sha256"]
            data["image"] = self.image.source
        return data


@dataclass(frozen=True)
class Project:
    settings: RenderSettings
    keyframes: tuple[Keyframe, ...]
    fps: int = 8
    easing: str = "linear"
    interpolation: str = "lerp"  # how text embeddings travel; noise always uses slerp
    spacing: str = "uniform"  # "even": each segment's t chosen so neighbouring frames are equally far apart
    path: str = "straight"  # "spline": a smooth curve through the keyframes (PATHS)
    audio: AudioTrack | None = None  # the soundtrack, from `audio.start` at frame 0
    timing: str = "even"  # "audio": in-betweens' t follows the soundtrack's onset strength

    @property
    def frame_count(self) -> int:
        return self.keyframes[-1].frame + 1

    def to_json(self) -> dict[str, Any]:
        return {
            **self.settings.for_encoding().key_fields(),  # a project is always of finals
            **({"fast": True} if self.settings.fast else {}),  # only when on: older files stay the same
            "fps": self.fps,
            "easing": self.easing,
            "interpolation": self.interpolation,
            "spacing": self.spacing,
            "path": self.path,
            "keyframes": [k.to_json() for k in self.keyframes],
            # Only when set: files written before the soundtrack existed stay byte for byte the same.
            **({"audio": self.audio.to_json()} if self.audio is not None else {}),
            **({"timing": self.timing} if self.timing != "even" else {}),
        }


_PROJECT_FIELDS = {
    "model",
    "width",
    "height",
    "steps",
    "guidance",
    "scheduler",
    "fps",
    "easing",
    "interpolation",
    "spacing",
    "path",
    "keyframes",
    "audio",
    "timing",
    "fast",
}
SPACINGS = ("uniform", "even")  # how a segment's t values are chosen (timeline.segment_fractions)
PATHS = ("straight", "spline")  # how conditionings travel between keyframes (frame_recipe.py)
_KEYFRAME_FIELDS = {"frame", "prompt", "negative_prompt", "style", "seed", "image", "strength"}


def _int(data: dict, key: str, where: str, low: int, high: int, default: int | None = None, limit: str = "") -> int:
    """An integer field in [low, high]; `limit` names the setting behind `high`, for the message."""
    value = data.get(key, default)
    if value is None:
        raise InputError(f"{where}{key} is missing")
    return check_integer(value, f"{where}{key}", low, high, limit)


def _float(data: dict, key: str, low: float, high: float, default: float, where: str = "") -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}{key} must be a number, got {show(value)}")
    if not low <= value <= high:
        raise InputError(f"{where}{key} must be between {low} and {high}, got {show(value)}")
    return float(value)


def _choice(data: dict, key: str, where: str, choices, default: str) -> str:
    value = data.get(key, default)
    if value not in choices:
        raise InputError(f"{where}{key} must be one of {', '.join(choices)}; got {show(value)}")
    return value


def _bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{key} must be true or false, got {show(value)}")
    return value


def _text(data: dict, key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise InputError(f"{where}{key} is missing")
    if not isinstance(value, str):
        raise InputError(f"{where}{key} must be a string, got {show(value)}")
    limits().check("max_prompt_chars", f"{where}{key} (in characters)", len(value))
    return value


def _unknown(data: dict, known: set[str], where: str) -> None:
    extra = sorted(set(data) - known, key=str)
    if extra:
        raise InputError(f"{where}{str(extra[0])[:80]} is not a known field (known: {', '.join(sorted(known))})")


def check_size(width: int, height: int) -> None:
    for key, value in (("width", width), ("height", height)):
        check_integer(value, key)
        limits().check("max_side", key, value)
        if value < 64 or value % 8:
            raise InputError(f"{key} must be a multiple of 8 and at least 64, got {value}")


def _image(data: dict, where: str, folder: Path | None) -> tuple[KeyframeImage | None, float]:
    """A keyframe's optional image (resolved against the project's folder) and its strength."""
    if "image" not in data:
        if "strength" in data:
            raise InputError(f"{where}strength is only for a keyframe with an image; this one has none")
        return None, 1.0
    if folder is None:
        raise InputError(f"{where}image needs the project file's folder; load the project from a file")
    image = load_keyframe_image(folder, data["image"], f"{where}image")
    return image, _float(data, "strength", 0.0, 1.0, 1.0, where)


def parse_keyframe(data: Any, where: str, previous: int | None, folder: Path | None = None) -> Keyframe:
    if not isinstance(data, dict):
        raise InputError(f"{where} must be an object, got {show(data)}")
    _unknown(data, _KEYFRAME_FIELDS, f"{where}.")
    low = 0 if previous is None else previous + 1
    frames = limits().max_project_frames
    frame = _int(
        data,
        "frame",
        f"{where}.",
        0,
        frames - 1,
        limit=f"a project has at most {frames} frames: {env_var('max_project_frames')}",
    )
    if previous is None and frame != 0:
        raise InputError(f"{where}.frame must be 0 (the first keyframe starts the timeline), got {frame}")
    if frame < low:
        raise InputError(f"{where}.frame must be greater than {previous}, got {frame}")
    if previous is not None:
        limits().check(
            "max_segment_frames", f"{where}.frame: in-between frames after frame {previous}", frame - previous - 1
        )
    prompt = _text(data, "prompt", f"{where}.")
    if not prompt.strip():
        raise InputError(f"{where}.prompt is empty")
    image, strength = _image(data, f"{where}.", folder)
    return Keyframe(
        frame=frame,
        prompt=prompt,
        negative_prompt=_text(data, "negative_prompt", f"{where}.", ""),
        style=_choice(data, "style", f"{where}.", list(STYLES), "none"),
        seed=_int(data, "seed", f"{where}.", 0, MAX_SEED, 0),
        image=image,
        strength=strength,
    )


def parse_settings(data: dict) -> RenderSettings:
    """The render settings of decoded project JSON (or of an API call), preset defaults filled in."""
    model = data.get("model", "demo")
    if not isinstance(model, str) or not model.strip():
        raise InputError(f"model must be a preset ({', '.join(PRESETS)}), a model id or a folder; got {show(model)}")
    preset = preset_for(model)
    width = data.get("width", preset.width)
    height = data.get("height", preset.height)
    check_size(width, height)
    return RenderSettings(
        model=model,
        width=width,
        height=height,
        steps=_int(data, "steps", "", 1, limits().max_steps, preset.steps, env_var("max_steps")),
        guidance=_float(data, "guidance", 0.0, 30.0, preset.guidance),
        scheduler=_choice(data, "scheduler", "", list(SCHEDULER_NAMES), preset.scheduler),
        fast=_bool(data, "fast", False),
    )


def parse_project(data: Any, folder: Path | None = None) -> Project:
    """Check decoded project JSON and build a Project, or raise InputError naming the field.

    `folder` is the project file's folder, which keyframe image paths are relative to.
    """
    if not isinstance(data, dict):
        raise InputError(f"a project must be a JSON object, got {type(data).__name__}")
    _unknown(data, _PROJECT_FIELDS, "")
    settings = parse_settings(data)
    raw_keyframes = data.get("keyframes")
    if not isinstance(raw_keyframes, list) or not raw_keyframes:
        raise InputError(f"keyframes must be a non-empty list, got {show(raw_keyframes)}")
    keyframes: list[Keyframe] = []
    for i, raw in enumerate(raw_keyframes):
        previous = keyframes[-1].frame if keyframes else None
        keyframes.append(parse_keyframe(raw, f"keyframes[{i}]", previous, folder))
    timing = _choice(data, "timing", "", list(TIMINGS), "even")
    audio = load_audio_track(data["audio"], folder) if data.get("audio") is not None else None
    if timing == "audio" and audio is None:
        raise InputError('timing "audio" needs a soundtrack: add "audio": {"path": ..., "start": 0.0}')
    if timing == "audio" and data.get("spacing") == "even":  # both would choose the segments' t
        raise InputError('timing "audio" and spacing "even" both choose the in-betweens\' t: pick one')
    return Project(
        settings=settings,
        keyframes=tuple(keyframes),
        fps=_int(data, "fps", "", 1, MAX_FPS, 8),
        easing=_choice(data, "easing", "", list(EASINGS), "linear"),
        interpolation=_choice(data, "interpolation", "", list(INTERPOLATIONS), "lerp"),
        spacing=_choice(data, "spacing", "", SPACINGS, "uniform"),
        path=_choice(data, "path", "", PATHS, "straight"),
        audio=audio,
        timing=timing,
    )


def fast_mode(project: Project) -> Project:
    """The project in fast mode (CLI `--fast`, the API's `fast`), whatever its file says."""
    return replace(project, settings=replace(project.settings, fast=True))


def load_project(path: Path, folder: Path | None = None, name: str | None = None) -> Project:
    """Read and parse a project file; every problem becomes an InputError naming the file.

    Keyframe image paths are resolved in `folder`, by default the project file's own. `name`
    replaces the path in messages (an upload's path on the server is none of the user's business).
    """
    name = name or f"project file {path}"
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror}") from None
    limits().check("max_project_bytes", name, size)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror}") from None
    return loads_project(text, name, path.parent if folder is None else folder)


def loads_project(text: str | bytes, name: str = "the project", folder: Path | None = None) -> Project:
    """Parse project JSON text (an upload, a text box); every problem becomes an InputError.

    `folder` is where keyframe image paths are resolved; without one, image keyframes are refused.
    """
    size = len(text.encode("utf-8", "replace") if isinstance(text, str) else text)
    limits().check("max_project_bytes", name, size)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, a number of thousands of digits, nesting too deep
        raise InputError(f"{name} is not valid JSON: {str(exc)[:200]}") from None
    return parse_project(data, folder)
