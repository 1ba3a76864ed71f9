"""GPU handlers: `spaces.GPU` on a Hugging Face ZeroGPU Space, a no-op decorator anywhere else.

The `spaces` package exists only on Spaces (it is not in requirements.txt); `@gpu` goes on the
handlers that run the model, and nowhere else.
"""

from collections.abc import Callable
from typing import TypeVar

try:
    import spaces
except ImportError:  # not on a Space
    spaces = None

F = TypeVar("F", bound=Callable)


def gpu(fn: F) -> F:
    """Run fn with a GPU attached on ZeroGPU; unchanged elsewhere."""
    return spaces.GPU(fn) if spaces is not None else fn
