"""Smooth transitions (#18): each segment's smoothness, even spacing, and spline paths.

The demo model's random weights change almost evenly at uniform t, so the mechanism is proven on
SigmoidBackend, whose picture change is concentrated in the middle of a segment (a near-cut, as
trained models show): uniform t scores low, even spacing high, with the same frame count.
"""

import math

import numpy as np
import pytest
import torch
from cli import main_json
from conftest import write_project
from fake_backend import CountingBackend, FakeBackend

from pipeline.conditioning import Conditioning, seed_noise
from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.project import Keyframe, Project, RenderSettings, load_project, parse_project
from pipeline.renderer import encode_sources, render_project
from pipeline.smoothness import scores, segment_scores
from pipeline.spacing import GRID, even_fractions
from pipeline.timeline import plan_timeline, segments
from ui.timeline_view import build_view

SETTINGS = RenderSettings("demo", 64, 64, 4, 0.0, "euler")


class SigmoidBackend(FakeBackend):
    """Keyframe seed s has embeddings all s; a frame at t shows picture A blended into B by a steep
    sigmoid of t, so nearly all the change happens around t = 0.5."""

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> Conditioning:
        embeds = torch.full((1, 77, 8), float(keyframe.seed))
        return Conditioning({"prompt_embeds": embeds, "latents": seed_noise((4, 8, 8), keyframe.seed)}, {})

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        self.rendered += len(frames)
        rng = np.random.default_rng(0)
        shape = (settings.height, settings.width, 3)
        a, b = rng.uniform(0, 255, shape), rng.uniform(0, 255, shape)

        def s(t: float) -> float:
            return 1 / (1 + math.exp(-14 * (t - 0.5)))

        images = []
        for frame in frames:
            t = float(frame["prompt_embeds"].mean())  # keyframes with seeds 0 and 1: the embedding is t
            mix = (s(t) - s(0)) / (s(1) - s(0))
            images.append(((1 - mix) * a + mix * b).round().astype(np.uint8))
        return images


def two_keyframes(spacing: str, last: int = 16) -> Project:
    keyframes = (Keyframe(0, "a", seed=0), Keyframe(last, "b", seed=1))
    return Project(SETTINGS, keyframes, spacing=spacing)


def scored(project: Project, store: FrameStore):
    plans = plan_timeline(project, store.spacings)
    return segment_scores(store, plans, segments(project))


def test_scores_of_neighbour_distances():
    even = scores([0.1] * 8)
    assert (even.smoothness, even.max_jump) == (1.0, 1.0) and even.consistency == pytest.approx(0.1)
    cut = scores([0.0] * 7 + [0.8])  # all the change in one step
    assert cut.smoothness == pytest.approx(1 / 8) and cut.max_jump == pytest.approx(8.0)
    assert scores([0.0, 0.0]).as_dict() == {"smoothness": 1.0, "consistency": 0.0, "max_jump": 1.0}


def test_even_fractions_invert_the_cumulative_distance_onto_the_grid():
    uniform = [i / 8 for i in range(1, 9)]
    assert even_fractions(uniform, [0.1] * 8) == uniform  # already even: unchanged
    # All the change between t = 3/8 and 5/8: the new t crowd into that stretch.
    fractions = even_fractions(uniform, [0, 0, 0, 1, 1, 0, 0, 0])
    assert fractions[-1] == 1.0 and len(fractions) == 8
    assert all(3 / 8 < t < 5 / 8 for t in fractions[:-1])
    assert fractions == sorted(set(fractions))  # strictly increasing
    assert all((t * GRID).is_integer() for t in fractions)
    # Eased targets: ease-in takes small steps of distance first.
    eased = even_fractions(uniform, [0.1] * 8, "ease-in")
    assert eased[0] < uniform[0] and eased[-1] == 1.0


def test_even_spacing_evens_out_a_concentrated_change(tmp_path):
    uniform_store, even_store = FrameStore(tmp_path / "uniform"), FrameStore(tmp_path / "even")
    backend = SigmoidBackend()
    uniform, even = two_keyframes("uniform"), two_keyframes("even")
    render_project(uniform, uniform_store, backend)
    [low] = scored(uniform, uniform_store)
    report = render_project(even, even_store, backend)
    [high] = scored(even, even_store)
    print(f"uniform {low}, even {high}")
    assert low.smoothness < 0.6 and high.smoothness > 0.9
    assert high.max_jump < low.max_jump / 2
    assert report.probed == 1 and report.frames_total == 17 == len(plan_timeline(even, even_store.spacings))
    # Again: the t are stored, so nothing is probed or rendered.
    again = render_project(even, even_store, backend)
    assert (again.probed, again.rendered) == (0, 0)


def test_uniform_frames_already_rendered_are_the_probe(tmp_path):
    store, backend = FrameStore(tmp_path), SigmoidBackend()
    render_project(two_keyframes("uniform"), store, backend)
    before = backend.rendered
    report = render_project(two_keyframes("even"), store, backend)
    assert report.probed == 1 and backend.rendered - before == report.rendered  # no probe frame rendered


def test_a_damaged_spacing_file_is_probed_again(tmp_path):
    store, backend = FrameStore(tmp_path), SigmoidBackend()
    render_project(two_keyframes("even"), store, backend)
    [stored] = store.spacings.folder.glob("*.json")
    stored.write_text('[0.5, 0.25, "x"]')
    assert render_project(two_keyframes("even"), store, backend).probed == 1


@pytest.mark.slow
def test_on_the_demo_model_even_is_as_smooth_and_an_edit_probes_only_its_segment(tmp_path, demo_model_dir, capsys):
    keyframes = [
        {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
        {"frame": 6, "prompt": "a city at night", "seed": 2},
        {"frame": 12, "prompt": "a quiet lake", "seed": 3},
    ]
    uniform_file = write_project(tmp_path / "uniform.json", keyframes)
    even_file = write_project(tmp_path / "even.json", keyframes, spacing="even")
    store, backend = FrameStore(tmp_path / "cache"), CountingBackend()
    status = main_json(capsys, "status", even_file, "--cache", store.root)
    assert [s["smoothness"] for s in status["segments"]] == [None, None]  # nothing rendered yet
    render_project(load_project(uniform_file), store, backend)
    even_report = render_project(load_project(even_file), store, backend)
    assert even_report.probed == 2
    status = main_json(capsys, "status", even_file, "--cache", store.root)
    uniform_status = main_json(capsys, "status", uniform_file, "--cache", store.root)
    for even, uniform in zip(status["segments"], uniform_status["segments"], strict=True):
        assert set(even) >= {"smoothness", "consistency", "max_jump"}
        assert even["smoothness"] >= uniform["smoothness"] - 0.005, (even, uniform)
    assert status["frames_total"] == 13 and status["rendered"] == 13

    # Edit the first keyframe: only segment 0 is probed and rendered again.
    keyframes[0]["prompt"] = "a red fox in the snow, at dusk"
    write_project(even_file, keyframes, spacing="even")
    rendered = backend.frames_rendered
    report = render_project(load_project(even_file), store, backend)
    # The probe (at the demo's own size and steps) renders segment 0's uniform frames 0-5, the
    # edited keyframe among them; then its 5 even in-betweens. Segment 1 is untouched.
    assert (report.probed, report.rendered, report.reused) == (1, 5, 8)
    assert backend.frames_rendered - rendered == 6 + 5


def embedding_turns(project: Project, backend) -> list[float]:
    """The angle (degrees) between the embedding steps into and out of each inner keyframe."""
    plans = plan_timeline(project)
    encoded = encode_sources(plans, backend)
    embeds = [plan.recipe.mix(encoded)["prompt_embeds"].double().flatten() for plan in plans]
    angles = []
    for keyframe in project.keyframes[1:-1]:
        into = embeds[keyframe.frame] - embeds[keyframe.frame - 1]
        out = embeds[keyframe.frame + 1] - embeds[keyframe.frame]
        angles.append(math.degrees(math.acos(float(into.dot(out) / (into.norm() * out.norm())))))
    return angles


FOUR = [
    {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
    {"frame": 4, "prompt": "a city at night", "seed": 2},
    {"frame": 8, "prompt": "a quiet lake", "seed": 3},
    {"frame": 12, "prompt": "a desert at noon", "seed": 4},
]


def four(path: str, prompt2: str = "a quiet lake") -> Project:
    keyframes = [{**k, "prompt": prompt2} if i == 2 else k for i, k in enumerate(FOUR)]
    return parse_project({"model": "demo", "width": 64, "height": 64, "steps": 4, "path": path, "keyframes": keyframes})


def test_a_spline_turns_less_at_inner_keyframes(demo_model_dir):
    from pipeline.backends import LocalBackend

    backend = LocalBackend()
    straight, spline = embedding_turns(four("straight"), backend), embedding_turns(four("spline"), backend)
    print(f"turns: straight {straight}, spline {spline}")
    assert all(s < t for s, t in zip(spline, straight, strict=True))
    # Keyframes themselves are unchanged by the path, and noise stays on the sphere.
    plans = plan_timeline(four("spline"))
    encoded = encode_sources(plans, backend)
    for plan in plans[1:4]:
        t, (a, b) = plan.recipe.t, (float(encoded[s].tensors["latents"].norm()) for s in plan.recipe.sources[:2])
        assert float(plan.recipe.mix(encoded)["latents"].norm()) == pytest.approx((1 - t) * a + t * b, rel=1e-4)


def changed_segments(before: Project, after: Project) -> set[int]:
    return {a.segment for a, b in zip(plan_timeline(before), plan_timeline(after), strict=True) if a.key != b.key}


def test_editing_a_keyframe_re_renders_the_segments_its_curve_shapes(tmp_path):
    # README: on a spline, editing keyframe k re-renders segments k - 2 to k + 1 (those that exist).
    assert changed_segments(four("spline"), four("spline", "a quiet pond")) == {0, 1, 2}
    assert changed_segments(four("straight"), four("straight", "a quiet pond")) == {1, 2}
    last = [*FOUR[:3], {**FOUR[3], "seed": 9}]
    project = {"model": "demo", "width": 64, "height": 64, "steps": 4, "path": "spline"}
    assert changed_segments(
        parse_project({**project, "keyframes": FOUR}), parse_project({**project, "keyframes": last})
    ) == {1, 2}
    # And a render of the edit renders exactly those segments' in-betweens and the edited keyframe.
    store, backend = FrameStore(tmp_path), FakeBackend()
    render_project(four("spline"), store, backend)
    assert render_project(four("spline", "a quiet pond"), store, backend).rendered == 3 * 3 + 1


def test_straight_path_keys_do_not_change_with_the_new_fields():
    plain = parse_project({"model": "demo", "keyframes": FOUR})
    explicit = parse_project({"model": "demo", "keyframes": FOUR, "path": "straight", "spacing": "uniform"})
    assert [p.key for p in plan_timeline(plain)] == [p.key for p in plan_timeline(explicit)]
    spline = [p.key for p in plan_timeline(four("spline"))]
    assert spline[0::4] == [p.key for p in plan_timeline(four("straight"))][0::4]  # keyframes' own frames


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("spacing", "wobbly", "spacing must be one of uniform, even; got 'wobbly'"),
        ("path", 3, "path must be one of straight, spline; got 3"),
    ],
)
def test_bad_values_of_the_new_fields_name_the_field(field, value, message):
    with pytest.raises(InputError, match=message):
        parse_project({"model": "demo", "keyframes": FOUR, field: value})


def test_the_timelines_change_lane_is_each_frames_step_scaled_to_the_largest(tmp_path):
    store, project = FrameStore(tmp_path), two_keyframes("uniform", last=8)
    assert "change" not in build_view(project, store, "p", None).payload.get("lanes", {})  # nothing rendered
    render_project(project, store, SigmoidBackend())
    changes = build_view(project, store, "p", None).payload["lanes"]["change"]
    assert len(changes) == 9 and changes[0] == 0.0 and max(changes) == 1.0
    assert changes.index(1.0) in (4, 5)  # the near-cut is in the middle
    assert changes[1] < 0.2 and changes[-1] < 0.2
