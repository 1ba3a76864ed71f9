"""The studio's look: a theme with local fonts (the app runs offline) and the page's CSS
(the timeline's own is ui/assets/timeline.css).

Both go to `demo.launch(theme=..., css=...)`, as Gradio 6 wants.
"""

import gradio as gr

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
#candidates-gallery .thumbnail-item.selected { outline: 4px solid #6366f1; outline-offset: 2px; }
.sdvc-picture-row { align-items: center; }
.sdvc-field-error { color: #b91c1c; background: #fef2f2; border: 1px solid #fca5a5; border-radius: 8px;
                    padding: 0.4em 0.8em; }
#keyframe-gallery .thumbnail-item img, #keyframe-gallery .grid-wrap img { object-fit: contain !important; }
"""
