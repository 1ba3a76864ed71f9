"""The studio's look: a theme with local fonts (the app runs offline) and the timeline's CSS.

Both go to `demo.launch(theme=..., css=...)`, as Gradio 6 wants.
"""

import gradio as gr

# Frame state colours (pipeline.timeline.FrameState values).
COLOURS = {"missing": "#d4d4d8", "rendered": "#22c55e", "keyframe": "#6366f1", "stale": "#f59e0b", "draft": "#7dd3fc"}

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="indigo",
        secondary_hue="pink",
        neutral_hue="slate",
        font=SYSTEM_FONTS,
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto; }
#intro h1 { margin-bottom: 0.2em; }
.sdvc-notice { background: #fef3c7; border: 1px solid #f59e0b; border-radius: 8px; padding: 0.6em 1em; }
.sdvc-panel { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px; }
.sdvc-row { align-items: end; border-bottom: 1px dashed var(--border-color-primary); padding-bottom: 6px; }
.sdvc-row-tools { gap: 4px !important; }
.sdvc-tool-row { gap: 4px !important; flex-wrap: nowrap !important; }
.sdvc-tool-row button { padding: 2px 6px !important; }
.sdvc-timeline { padding: 10px 4px 4px; }
.sdvc-strip { display: flex; gap: 2px; height: 34px; align-items: stretch; margin-bottom: 20px; }
.sdvc-cell { flex: 1 1 0; min-width: 3px; border-radius: 3px; position: relative; }
.sdvc-cell.sdvc-keyframe { flex-grow: 1.6; }
.sdvc-dim { opacity: 0.35; }
.sdvc-mark { position: absolute; top: 36px; left: 50%; transform: translateX(-50%);
             font-size: 11px; color: var(--body-text-color-subdued); }
.sdvc-legend { display: flex; gap: 18px; flex-wrap: wrap; font-size: 13px; }
.sdvc-key { display: inline-flex; align-items: center; gap: 6px; }
.sdvc-swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; }
.sdvc-placeholder { color: var(--body-text-color-subdued); }
#candidates-gallery .thumbnail-item.selected { outline: 4px solid #6366f1; outline-offset: 2px; }
.sdvc-picture-row { align-items: center; }
.sdvc-field-error { color: #b91c1c; background: #fef2f2; border: 1px solid #fca5a5; border-radius: 8px;
                    padding: 0.4em 0.8em; }
#keyframe-gallery .thumbnail-item img, #keyframe-gallery .grid-wrap img { object-fit: contain !important; }
""" + "\n".join(f".sdvc-{state} {{ background: {colour}; }}" for state, colour in COLOURS.items())
