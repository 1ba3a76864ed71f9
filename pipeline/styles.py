"""Style presets: text added around a keyframe's prompt and negative prompt."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    template: str  # "{prompt}" is replaced by the user's prompt
    negative: str  # appended to the user's negative prompt


STYLES: dict[str, Style] = {
    "none": Style("{prompt}", ""),
    "cinematic": Style(
        "cinematic film still of {prompt}, shallow depth of field, film grain, dramatic lighting",
        "cartoon, illustration, low quality",
    ),
    "photographic": Style(
        "photograph of {prompt}, 35mm, natural light, highly detailed, sharp focus",
        "drawing, painting, illustration, blurry",
    ),
    "anime": Style(
        "anime artwork of {prompt}, studio anime, vibrant, key visual",
        "photo, realistic, 3d render",
    ),
    "watercolor": Style(
        "watercolor painting of {prompt}, soft washes, paper texture, delicate",
        "photo, 3d render, harsh lines",
    ),
    "oil-painting": Style(
        "oil painting of {prompt}, thick brush strokes, canvas texture, classical",
        "photo, flat colors, digital",
    ),
    "pixel-art": Style(
        "pixel art of {prompt}, 16-bit, retro game, crisp pixels",
        "blurry, photo, smooth gradients",
    ),
    "comic": Style(
        "comic book panel of {prompt}, bold ink lines, halftone, vivid colors",
        "photo, blurry, watercolor",
    ),
    "3d-render": Style(
        "3d render of {prompt}, octane render, global illumination, detailed",
        "painting, sketch, flat",
    ),
    "line-art": Style(
        "line art drawing of {prompt}, clean black lines on white, minimalist",
        "color, photo, shading",
    ),
}


def apply_style(style: str, prompt: str, negative_prompt: str) -> tuple[str, str]:
    """Return (prompt, negative prompt) with the style's text added."""
    preset = STYLES[style]
    negative = ", ".join(part for part in (negative_prompt, preset.negative) if part)
    return preset.template.format(prompt=prompt), negative
