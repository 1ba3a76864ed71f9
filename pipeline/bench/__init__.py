"""The benchmark: `python -m pipeline.bench [--size demo|small|real] [--device cpu|cuda] [--json OUT] [--peer]`.

It measures what the project promises, side by side with a reference each, on a random-weight
model it builds itself (weights do not change speed; nothing is downloaded), prints one table
and writes every number as JSON (see the README's "Performance").

    cli.py        the options, checked once; main()
    measure.py    run(): the seven measures in order on one loaded model, and the targets met
    models.py     the random-weight models by size (demo, small, real), built once into the cache
    runs.py       timed runs in this process: re-render story, renderer vs bare diffusers, mp4
    processes.py  whole-process runs: the CLI (cold, all cached) and the peer's walk()
    smooth.py     smoothness of uniform, even and spline renders, and the even probe's cost
    soundtrack.py the soundtrack's analysis of a 3-minute track, cold and cached
    table.py      the results as one table
    ray_scaling.py  the Ray backend: frames/s with 1 and 2 workers (python -m pipeline.bench.ray_scaling)
    drafts.py     --drafts: draft vs final per frame (mid-size through the renderer, sd-turbo's layout at 512²)
    fast.py       --fast-mode: fast mode vs exact at 25 steps (speed-up, PSNR), and channels_last
"""

from .cli import main

__all__ = ["main"]
