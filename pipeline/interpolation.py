"""The maths of interpolation: easing curves on t, lerp and slerp of tensors.

t = 0 and t = 1 return the end tensors exactly, so a segment's end frames are its keyframes.
"""

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only tensor methods are used: importing this module stays cheap
    import torch

EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "ease-in": lambda t: t * t,
    "ease-out": lambda t: 1 - (1 - t) * (1 - t),
    "ease-in-out": lambda t: (1 - math.cos(math.pi * t)) / 2,
}

# Above this |cos| the two tensors are nearly parallel and slerp degenerates into lerp.
_PARALLEL_DOT = 0.9995


def ease(t: float, easing: str) -> float:
    """Shape a linear fraction t in [0, 1] with the named easing curve."""
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return 1.0
    return EASINGS[easing](t)


def lerp(v0: "torch.Tensor", v1: "torch.Tensor", t: float) -> "torch.Tensor":
    if t == 0.0:
        return v0.clone()
    if t == 1.0:
        return v1.clone()
    return v0 + (v1 - v0) * t


def slerp(v0: "torch.Tensor", v1: "torch.Tensor", t: float) -> "torch.Tensor":
    """Spherical interpolation over the whole tensor: keeps the norm that lerp would shrink."""
    if t == 0.0:
        return v0.clone()
    if t == 1.0:
        return v1.clone()
    a, b = v0.double().flatten(), v1.double().flatten()
    dot = a.dot(b) / (a.norm() * b.norm())
    if dot.abs() > _PARALLEL_DOT:
        return lerp(v0, v1, t)
    theta = dot.arccos()
    s0 = ((1 - t) * theta).sin() / theta.sin()
    s1 = (t * theta).sin() / theta.sin()
    return (s0 * v0.double() + s1 * v1.double()).to(v0.dtype)


INTERPOLATIONS: dict[str, Callable[["torch.Tensor", "torch.Tensor", float], "torch.Tensor"]] = {
    "lerp": lerp,
    "slerp": slerp,
}
