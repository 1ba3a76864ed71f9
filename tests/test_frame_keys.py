"""Frame keys of existing stores stay valid: keys computed on the code that wrote those stores, pinned.

A frame store is a folder of PNGs named by key, shared by every project, CLI run and server
using it; if the key recipe changed, every user's store would be rendered again from scratch.
These literals were computed before the render core was unified (#12). A failure here means
the key of an unchanged input changed: never update a literal unless RENDER_VERSION (or the
demo model's DEMO_VERSION, for the demo key) was bumped on purpose.
"""

import torch

from pipeline.conditioning import Conditioning
from pipeline.inbetweens import plan_inbetweens
from pipeline.keyframe_image import KeyframeImage
from pipeline.project import Keyframe, Project, RenderSettings
from pipeline.timeline import keyframe_key, plan_timeline

TURBO = RenderSettings("sd-turbo", 512, 512, 2, 0.0, "euler")
DEMO = RenderSettings("demo", 64, 64, 4, 0.0, "euler")
FOX = Keyframe(0, "a red fox in the snow", seed=1)
CITY = Keyframe(4, "a city at night", style="watercolor", seed=2)
PICTURE = KeyframeImage("fox.png", "ab" * 32)


def test_keyframe_keys_are_those_existing_stores_hold():
    assert keyframe_key(TURBO, FOX) == "b0642cd5c3ab6b15ce00bb6979c2cfa1e6767aa009f4abe80c4a140dfab9b316"
    demo = Keyframe(5, "a city at night", "blurry", "watercolor", seed=2)
    assert keyframe_key(DEMO, demo) == "5ff5018501bccc631b6638f74fba58d2f58d58db93fae8dccfb904941c6fe0b7"
    picture = Keyframe(0, "a fox", seed=3, image=PICTURE, strength=0.5)
    assert keyframe_key(TURBO, picture) == "c435aa80eb6ead2df113f65943debc156901bd3381911335e964fd9928e74f01"


def test_timeline_keys_with_easing_and_slerp_are_those_existing_stores_hold():
    project = Project(TURBO, (FOX, CITY), easing="ease-in-out", interpolation="slerp")
    assert [plan.key for plan in plan_timeline(project)] == [
        "b0642cd5c3ab6b15ce00bb6979c2cfa1e6767aa009f4abe80c4a140dfab9b316",  # FOX's own frame
        "3923dbfcd5a9fa8cddfd2ec401a427ab6aa82fbcad2c7245c0d51535c189a5ab",
        "dcd3243be0b7db0347d7ff558cbb79ea4b9e43a4afce71a024531607193d6043",
        "5b337ac79f535be1fe001c20475796587ad37d73367c9e993633a9cc8b5c295c",
        "e36d453fe48979f0c01b0ed71fa0205ae07dd2d2ab188a9e4662740c291d5d5a",  # CITY's own frame
    ]
    picture = Keyframe(0, "a fox", seed=3, image=PICTURE, strength=0.5)
    plans = plan_timeline(Project(DEMO, (picture, Keyframe(2, "a lake", seed=4))))
    assert plans[1].key == "bfedc43f2d82cc817a02582e0ea0c020b4a41e1bf1bc98fd652ddc6df6d03ee5"  # next to a picture


def fixed_conditioning(offset: int) -> Conditioning:
    """Tensors whose bytes no random generator or library version can change (exact binary fractions)."""
    tensors = {
        "prompt_embeds": (torch.arange(77 * 32, dtype=torch.float32).reshape(1, 77, 32) + offset) / 1024,
        "latents": (torch.arange(4 * 8 * 8, dtype=torch.float32).reshape(1, 4, 8, 8) - 128 * offset) / 64,
    }
    settings = {"model": "demo", "width": "64", "height": "64", "steps": "4", "guidance": "0.0"}
    keyframe = {"prompt": "a fox", "negative_prompt": "", "style": "none", "seed": str(offset)}
    return Conditioning(
        tensors, {"format": "sd-video-creator/conditioning-v1", **settings, "scheduler": "euler", **keyframe}
    )


def test_interpolate_keys_of_two_conditioning_files_are_those_existing_stores_hold():
    start, end = fixed_conditioning(1), fixed_conditioning(2)
    assert [frame.key for frame in plan_inbetweens(start, end, 3)] == [  # t = 0.25, 0.5, 0.75
        "b29809e08be69bf7393f921436586112e8c8536bf66fa9bb936d576757f7400a",
        "5a375fa5bfe45edec00908adf7ba7f22e5f3bb5d4516789f52d2984ad1cf74e1",
        "fdb8ce6ab1b0888e715b2c675fd772dc7f06bd601e6c352cf7b1a24b0cbea42a",
    ]
