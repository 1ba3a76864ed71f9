"""A frame's recipe: the conditionings it blends and how, and the one content key made from it.

Every path that renders (the timeline, a keyframe alone, candidates, `/interpolate`) plans its
frames as `PlannedFrame`s: a `FrameRecipe` (plain frozen data) and its key, `frame_key(recipe)`,
a hash of everything that decides the frame's pixels. The render core (renderer.py) takes
those and never asks where they came from. A recipe's inputs are its sources, of two kinds:

    KeyframeInput(keyframe)   a keyframe the backend encodes; the key hashes keyframe.inputs()
    TensorInput(conditioning) a conditioning already loaded (an API client's file); the key
                              hashes its tensors' bytes, never its metadata, so a file claiming
                              another prompt or seed can never put pictures under an honest key

A recipe is always in its canonical form: t = 1 becomes the end source at t = 0, and a frame
at t = 0 is its start source alone (no interpolation), so a keyframe's frame has one key from
both of its segments, and the same as `/generate` gives for it.

Keys of existing stores never change (tests/test_frame_keys.py pins some). A new input that
decides pixels joins the key as a `tag`, hashed only when present: `/interpolate`'s frames
carry ("kind", "inbetween"); a draft (draft.py) carries DRAFT_TAG, so a draft is never
mistaken for a final. A frame on a spline path (#18) is also shaped by the keyframes `before`
start and `after` end (None at the ends of the timeline): `sources` lists them, `mix` blends
them (conditioning.blend_spline), and the key hashes `path`, `before` and `after` only for a
spline, so the keys of straight-path frames never change; the core encodes whatever `sources` names.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .presets import DEMO, DEMO_VERSION
from .project import PATHS, Keyframe, RenderSettings

if TYPE_CHECKING:  # tensors are only touched through their methods: planning stays torch-free
    import torch

    from .backends import Backend
    from .conditioning import Conditioning

RENDER_VERSION = 1  # bump when a change to rendering changes pixels for the same inputs
DRAFT_TAG = ("quality", "draft")  # in a draft's recipe (draft.py): its own key, evicted first
_KEY_FIELDS = {"render_version", "settings", "demo", "start", "end", "t", "interpolation", "path", "before", "after"}
STRAIGHT, SPLINE = PATHS


@dataclass(frozen=True)
class KeyframeInput:
    """A keyframe the backend encodes under the recipe's settings."""

    keyframe: Keyframe
    encoded: "Conditioning | None" = field(default=None, compare=False)  # already encoded by the caller

    def key_part(self) -> dict[str, Any]:
        return self.keyframe.inputs()

    def conditioning(self, settings: RenderSettings, backend: "Backend") -> "Conditioning":
        if self.encoded is not None:
            return self.encoded
        return backend.encode(settings.for_encoding(), self.keyframe)


@dataclass(frozen=True, eq=False)
class TensorInput:
    """A conditioning already loaded and checked (conditioning.load_conditioning); known by its tensors."""

    loaded: "Conditioning"
    digest: str = field(init=False)  # tensor_digest(loaded), computed once

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", tensor_digest(self.loaded))

    def key_part(self) -> str:
        return self.digest

    def conditioning(self, settings: RenderSettings, backend: "Backend") -> "Conditioning":
        return self.loaded


Source = KeyframeInput | TensorInput


def tensor_digest(conditioning: "Conditioning") -> str:
    """Hash of the tensors' names, dtypes, shapes and bytes; the metadata plays no part."""
    digest = hashlib.sha256()
    for name in sorted(conditioning.tensors):
        tensor = conditioning.tensors[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class FrameRecipe:
    """What one frame is made from: two sources blended at t under the render settings."""

    settings: RenderSettings
    start: Source
    end: Source  # the same as start at t = 0
    t: float  # fraction between start and end, already eased
    interpolation: str  # how text embeddings travel (interpolation.INTERPOLATIONS); "" at t = 0
    tags: tuple[tuple[str, Any], ...] = ()  # more inputs that decide pixels, hashed into the key when present
    path: str = STRAIGHT  # SPLINE: a Catmull-Rom curve through before, start, end and after
    before: Source | None = None  # spline only: the keyframe before start; None when start is the first
    after: Source | None = None  # spline only: the keyframe after end; None when end is the last

    def __post_init__(self) -> None:
        if self.t == 1.0:
            object.__setattr__(self, "start", self.end)
            object.__setattr__(self, "t", 0.0)
        if self.t == 0.0:
            object.__setattr__(self, "end", self.start)
            object.__setattr__(self, "interpolation", "")
        if self.t == 0.0 or self.path == STRAIGHT:  # a keyframe's own frame is on every path
            object.__setattr__(self, "path", STRAIGHT)
            object.__setattr__(self, "before", None)
            object.__setattr__(self, "after", None)
        clashing = _KEY_FIELDS & {name for name, _ in self.tags}
        if clashing:
            raise ValueError(f"tags {sorted(clashing)} would overwrite a key field")

    @property
    def is_draft(self) -> bool:
        return DRAFT_TAG in self.tags

    @property
    def sources(self) -> tuple[Source, ...]:
        """The conditionings the frame needs, each once."""
        if self.t == 0.0:
            return (self.start,)
        return tuple(dict.fromkeys(s for s in (self.start, self.end, self.before, self.after) if s is not None))

    def mix(self, conditionings: Mapping[Source, "Conditioning"]) -> dict[str, "torch.Tensor"]:
        """The frame's tensors, (1, ...) each, from its sources' conditionings."""
        if self.t == 0.0:
            return dict(conditionings[self.start].tensors)
        from .conditioning import blend, blend_spline

        start, end = conditionings[self.start], conditionings[self.end]
        if self.path == STRAIGHT:
            return blend(start, end, self.t, self.interpolation)
        before, after = (None if s is None else conditionings[s] for s in (self.before, self.after))
        return blend_spline(before, start, end, after, self.t, self.interpolation)


def keyframe_recipe(settings: RenderSettings, keyframe: Keyframe, encoded: "Conditioning | None" = None) -> FrameRecipe:
    """A keyframe's own frame; `encoded`: its conditioning when the caller already has it."""
    source = KeyframeInput(keyframe, encoded)
    return FrameRecipe(settings, source, source, 0.0, "")


def frame_key(recipe: FrameRecipe) -> str:
    """The frame's content key: a hash of the settings, the sources' key parts, t, interpolation, tags (and path)."""
    settings = recipe.settings
    content = {
        "render_version": RENDER_VERSION,
        "settings": settings.key_fields(),
        "demo": DEMO_VERSION if settings.model == DEMO else "",
        "start": recipe.start.key_part(),
        "end": recipe.end.key_part(),
        "t": repr(recipe.t),
        "interpolation": recipe.interpolation,
        **dict(recipe.tags),
    }
    if recipe.path == SPLINE:  # only then: keys of straight-path frames never change
        neighbours = {
            name: None if s is None else s.key_part()
            for name, s in (("before", recipe.before), ("after", recipe.after))
        }
        content |= {"path": SPLINE, **neighbours}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PlannedFrame:
    """A frame a planner wants: its key and its recipe (what the render core takes)."""

    key: str
    recipe: FrameRecipe


def plan_frame(recipe: FrameRecipe) -> PlannedFrame:
    return PlannedFrame(frame_key(recipe), recipe)
