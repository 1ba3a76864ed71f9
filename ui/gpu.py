"""GPU handlers: `spaces.GPU` on a Hugging Face ZeroGPU Space, a no-op decorator anywhere else.

The `spaces` package exists only on Spaces (it is not in requirements.txt); `@gpu` goes on the
handlers that run the model, and nowhere else. ZeroGPU gives a call 60 s of GPU unless told
otherwise, which cuts a long interpolation off: handlers that render many frames use
`@gpu_for(duration)`, where `duration` takes the handler's own arguments and returns the seconds
the work needs (`render_seconds`), the callable form `spaces.GPU(duration=...)` takes.
"""

import math
from collections.abc import Callable
from typing import TypeVar

try:
    import spaces
except ImportError:  # not on a Space
    spaces = None

F = TypeVar("F", bound=Callable)

BASE_S = 30  # attaching the GPU, the model moved onto it, keyframes encoded, the video written
FRAME_STEP_S = 0.05  # one denoising step of one 512x512 frame, generously (SD-turbo on a ZeroGPU slice)
MIN_S = 60  # ZeroGPU's own default: never ask for less
MAX_S = 1800  # beyond this a render is better split (CLI, or a few segments at a time)


def render_seconds(frames: int, steps: int, width: int, height: int) -> int:
    """GPU seconds to ask for `frames` frames of `steps` steps at width x height."""
    megapixels = width * height / (512 * 512)
    return min(MAX_S, max(MIN_S, math.ceil(BASE_S + frames * steps * megapixels * FRAME_STEP_S)))


def gpu(fn: F) -> F:
    """Run fn with a GPU attached on ZeroGPU (the default duration); unchanged elsewhere."""
    return spaces.GPU(fn) if spaces is not None else fn


def gpu_for(duration: Callable[..., int]) -> Callable[[F], F]:
    """`gpu`, asking for `duration(*args, **kwargs)` seconds: the handler's arguments size the work."""

    def decorate(fn: F) -> F:
        return spaces.GPU(duration=duration)(fn) if spaces is not None else fn

    return decorate
