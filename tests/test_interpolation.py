"""The maths of interpolation: exact ends, slerp keeping the noise's norm, easing curves."""

import pytest
import torch

from pipeline.interpolation import EASINGS, INTERPOLATIONS, ease, lerp, slerp


def noise(seed: int) -> torch.Tensor:
    return torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("mix", [lerp, slerp])
def test_t_0_and_1_return_the_end_tensors_exactly(mix):
    a, b = noise(1), noise(2)
    start, end = mix(a, b, 0.0), mix(a, b, 1.0)
    assert torch.equal(start, a) and torch.equal(end, b)
    assert start is not a and end is not b  # copies: a caller may change them in place
    assert set(INTERPOLATIONS) == {"lerp", "slerp"}


def test_slerp_keeps_the_noise_norm_where_lerp_shrinks_it():
    a, b = noise(1), noise(2)
    b = b * a.norm() / b.norm()  # two noises of the same norm, nearly orthogonal
    for t in (0.25, 0.5, 0.75):
        assert slerp(a, b, t).norm().item() == pytest.approx(a.norm().item(), rel=1e-4)
    assert lerp(a, b, 0.5).norm().item() < 0.8 * a.norm().item()  # about 1/sqrt(2) of it
    halfway = slerp(a, b, 0.5).flatten()  # halfway along the arc: the same angle to both ends
    cos_a = torch.cosine_similarity(halfway, a.flatten(), dim=0).item()
    assert cos_a == pytest.approx(torch.cosine_similarity(halfway, b.flatten(), dim=0).item(), rel=1e-4)


def test_slerp_of_noises_of_different_norms_stays_between_them():
    a, b = noise(1), noise(2)
    low, high = sorted((a.norm().item(), b.norm().item()))
    for t in (0.25, 0.5, 0.75):
        assert 0.98 * low <= slerp(a, b, t).norm().item() <= 1.02 * high


def test_slerp_of_nearly_parallel_tensors_falls_back_to_lerp():
    a = noise(1)
    assert torch.allclose(slerp(a, 2 * a, 0.5), 1.5 * a)


@pytest.mark.parametrize("easing", EASINGS)
def test_easing_curves_start_at_0_end_at_1_and_never_go_back(easing):
    values = [ease(step / 20, easing) for step in range(21)]
    assert values[0] == 0.0 and values[-1] == 1.0
    assert values == sorted(values)
    assert ease(-0.5, easing) == 0.0 and ease(1.5, easing) == 1.0


def test_ease_in_out_is_slow_at_the_ends_and_symmetric():
    assert ease(0.1, "ease-in-out") < 0.1 and ease(0.9, "ease-in-out") > 0.9
    assert ease(0.5, "ease-in-out") == pytest.approx(0.5)
    assert ease(0.3, "ease-in-out") == pytest.approx(1 - ease(0.7, "ease-in-out"))
