"""The maths of interpolation: easing curves on t, lerp and slerp of tensors, a Catmull-Rom spline.

t = 0 and t = 1 return the end tensors exactly, so a segment's end frames are its keyframes.
`catmull_rom` runs through four neighbouring keyframes' tensors (a spline path): the direction
does not turn abruptly at a keyframe, as a straight path's does.
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


def catmull_rom(
    before: "torch.Tensor | None", v0: "torch.Tensor", v1: "torch.Tensor", after: "torch.Tensor | None", t: float
) -> "torch.Tensor":
    """The uniform Catmull-Rom curve from v0 to v1 at t, shaped by the points before and after.

    A missing neighbour (the first or last keyframe) is v0 or v1 reflected, so the tangent there is
    the chord: with both missing the curve is exactly lerp."""
    if t == 0.0:
        return v0.clone()
    if t == 1.0:
        return v1.clone()
    a, b = v0.double(), v1.double()
    p0 = 2 * a - b if before is None else before.double()
    p3 = 2 * b - a if after is None else after.double()
    t2, t3 = t * t, t * t * t
    curve = 0.5 * ((-t + 2 * t2 - t3) * p0 + (2 - 5 * t2 + 3 * t3) * a + (t + 4 * t2 - 3 * t3) * b + (t3 - t2) * p3)
    return curve.to(v0.dtype)


def on_sphere(v: "torch.Tensor", v0: "torch.Tensor", v1: "torch.Tensor", t: float) -> "torch.Tensor":
    """v rescaled to the norm slerp would give between v0 and v1 at t (their norms, lerped)."""
    norm = (1 - t) * v0.double().norm() + t * v1.double().norm()
    length = v.double().norm()
    return v.clone() if length == 0 else (v.double() * (norm / length)).to(v.dtype)


INTERPOLATIONS: dict[str, Callable[["torch.Tensor", "torch.Tensor", float], "torch.Tensor"]] = {
    "lerp": lerp,
    "slerp": slerp,
}
