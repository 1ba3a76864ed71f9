// The studio's timeline, drawn in the page from a compact payload (ui/timeline_view.py):
// {frames, fps, states: one char per frame, keyframes: [{frame, prompt, thumb, stale}], dim,
//  lanes?: {audio?: {peaks, beats, tempo}, change?}, preview?: {frame, url}, playlist?: {base, keys}}.
// Runs as gr.HTML's js_on_load: `element`, `props`, `trigger`, `watch` come from Gradio.
// Listeners are delegated to the root once; a redraw replaces the cells, never the listeners.
const NAMES = {k: "keyframe", r: "rendered", m: "missing", s: "stale", n: "rendering", d: "draft"};
const LEGEND = [["keyframe", "keyframe"], ["rendered", "rendered"], ["stale", "stale (inputs changed)"],
  ["missing", "not rendered"], ["rendering", "rendering now"], ["draft", "draft"]];
const NICE = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000];
const MAX_CELL = 28; // px of one frame at the deepest zoom
const ICON_PLAY = '<svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><path d="M2 1v8l7-4z" fill="currentColor"/></svg>';
const ICON_PAUSE = '<svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><path d="M2 1h2v8H2zM6 1h2v8H6z" fill="currentColor"/></svg>';
const root = element.querySelector(".tlc") || element;
root.innerHTML = `
<div class="tl-bar">
  <button type="button" class="tl-btn" data-act="zoom-out" title="Zoom out">− Zoom out</button>
  <input type="range" class="tl-zoom" min="0" max="100" value="0" aria-label="Zoom">
  <button type="button" class="tl-btn" data-act="zoom-in" title="Zoom in">+ Zoom in</button>
  <button type="button" class="tl-btn" data-act="fit" title="Fit the whole timeline">Fit</button>
  <button type="button" class="tl-btn" data-act="play"></button>
  <button type="button" class="tl-btn" data-act="delete" disabled>Delete keyframe</button>
  <span class="tl-info"></span>
</div>
<div class="tl-body">
  <div class="tl-scroll" tabindex="0">
    <div class="tl-track">
      <div class="tl-markers"></div>
      <div class="sdvc-strip"></div>
      <div class="tl-lanes"></div>
      <div class="tl-ruler"></div>
      <div class="tl-playhead"></div>
    </div>
  </div>
  <div id="frame-preview"><div class="tl-preview-label">Click a frame to see it</div><div class="tl-preview-pic"></div></div>
</div>
<div class="sdvc-legend"></div>`;
const q = (s) => root.querySelector(s);
const scroll = q(".tl-scroll"), track = q(".tl-track"), strip = q(".sdvc-strip"), markers = q(".tl-markers");
const ruler = q(".tl-ruler"), lanes = q(".tl-lanes"), playhead = q(".tl-playhead"), zoomRange = q(".tl-zoom");
const preview = root.querySelector("#frame-preview"), info = q(".tl-info");
let view = {frames: 0, fps: 8, states: "", keyframes: [], dim: []};
let zoom = 0, cell = 1, selected = null, current = null, timer = null, playlist = null, drag = null;
let drawnStates = null;

function fitCell() { return view.frames ? Math.max(scroll.clientWidth - 2, 50) / view.frames : 1; }
function cellFor(z) { const fit = fitCell(); return fit * Math.pow(Math.max(MAX_CELL / fit, 1), z / 100); }

function layout(anchorFrame, anchorX) {
  cell = cellFor(zoom);
  track.style.setProperty("--cell", cell + "px");
  track.style.width = view.frames * cell + "px";
  track.classList.toggle("tl-fine", cell >= 6);
  drawRuler();
  if (anchorFrame != null) scroll.scrollLeft = anchorFrame * cell - anchorX;
  placePlayhead();
}

function drawRuler() {
  const step = NICE.find((n) => n * cell >= 64) || NICE[NICE.length - 1];
  const ticks = [];
  for (let f = 0; f < view.frames; f += step) {
    ticks.push(`<span class="tl-tick" style="left:${f * cell}px">${f}<small>${(f / view.fps).toFixed(1)}s</small></span>`);
  }
  ruler.innerHTML = ticks.join("");
}

function drawCells() {
  if (drawnStates === view.states + JSON.stringify(view.dim)) return;
  drawnStates = view.states + JSON.stringify(view.dim);
  const dim = new Uint8Array(view.frames);
  for (const [a, b] of view.dim || []) for (let i = a; i <= b && i < view.frames; i++) dim[i] = 1;
  const cells = [];
  for (let i = 0; i < view.frames; i++) {
    const name = NAMES[view.states[i]] || "missing";
    cells.push(`<div class="sdvc-cell sdvc-${name}${dim[i] ? " sdvc-dim" : ""}" style="--i:${i}" data-frame="${i}" data-state="${name}" title="frame ${i}: ${name}"></div>`);
  }
  strip.innerHTML = cells.join("");
}

function esc(text) { return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`); }

function drawMarkers() {
  markers.innerHTML = view.keyframes.map((k, i) => `
    <div class="tl-marker${k.frame === selected ? " tl-selected" : ""}${k.stale ? " tl-stale" : ""}" data-keyframe="${k.frame}" data-row="${i}"
         style="left:calc(var(--cell) * ${k.frame + 0.5})" title="frame ${k.frame}: ${esc(k.prompt)}">
      ${k.thumb ? `<img src="${esc(k.thumb)}" alt="keyframe ${k.frame}" draggable="false">` : '<span class="tl-dot"></span>'}
      <b>${k.frame}</b>
    </div>`).join("");
  q('[data-act="delete"]').disabled = selected === null || selected === 0 || view.keyframes.length < 3;
}

function drawLanes() {
  const parts = [];
  const audio = view.lanes && view.lanes.audio;
  if (audio) {
    const bars = audio.peaks.map((p, i) => `<rect x="${i + 0.1}" y="${(1 - p) * 20}" width="0.8" height="${Math.max(p * 40, 0.5)}"/>`).join("");
    const beats = (audio.beats || []).map((b) => `<line x1="${b}" x2="${b}" y1="0" y2="40"/>`).join("");
    parts.push(`<div class="tl-lane tl-audio" title="audio${audio.tempo ? `: ${audio.tempo.toFixed(1)} BPM` : ""}">
      <svg viewBox="0 0 ${view.frames} 40" preserveAspectRatio="none"><g class="tl-peaks">${bars}</g><g class="tl-beats">${beats}</g></svg></div>`);
  }
  const change = view.lanes && view.lanes.change;
  if (change) {
    const bars = change.map((c, i) => `<rect x="${i + 0.1}" y="${(1 - c) * 24}" width="0.8" height="${c * 24}"/>`).join("");
    parts.push(`<div class="tl-lane tl-change" title="change from the frame before"><svg viewBox="0 0 ${view.frames} 24" preserveAspectRatio="none">${bars}</svg></div>`);
  }
  lanes.innerHTML = parts.join("");
}

function drawLegend() {
  const counts = {};
  for (const c of view.states) counts[NAMES[c]] = (counts[NAMES[c]] || 0) + 1;
  q(".sdvc-legend").innerHTML = LEGEND.map(([state, label]) =>
    `<span class="sdvc-key"><i class="sdvc-swatch sdvc-${state}"></i>${label} <b data-count="${state}">${counts[state] || 0}</b></span>`).join("");
  info.textContent = view.frames ? `${view.frames} frames · ${view.fps} fps · ${(view.frames / view.fps).toFixed(1)} s` : "";
}

function placePlayhead() {
  playhead.hidden = current === null;
  if (current !== null) playhead.style.left = current * cell + "px";
}

function showFrame(frame, url) {
  current = frame;
  placePlayhead();
  const state = NAMES[view.states[frame]] || "missing";
  preview.querySelector(".tl-preview-label").textContent = `frame ${frame} · ${(frame / view.fps).toFixed(2)} s · ${state}`;
  preview.dataset.shown = frame; // not data-frame: that hook is the timeline's cells
  preview.querySelector(".tl-preview-pic").innerHTML = url
    ? `<img src="${esc(url)}" alt="frame ${frame}">` : `<div class="tl-not-rendered">frame ${frame}: not rendered yet</div>`;
}

function playButton() {
  q('[data-act="play"]').innerHTML = timer ? `${ICON_PAUSE} Pause` : `${ICON_PLAY} Play`;
}

function stop() { clearInterval(timer); timer = null; playButton(); }

function play() {
  stop();
  let frame = current === null || current >= view.frames - 1 ? 0 : current;
  const tick = () => {
    const key = playlist.keys[frame];
    showFrame(frame, key ? playlist.base + key : null);
    frame = (frame + 1) % view.frames;
  };
  tick();
  timer = setInterval(tick, 1000 / view.fps);
  playButton();
}

function redraw() {
  const value = props.value || {};
  const frames = value.frames || 0;
  const changedLength = frames !== view.frames;
  view = {...view, ...value, lanes: value.lanes, preview: value.preview, playlist: value.playlist};
  if (changedLength) { drawnStates = null; if (current !== null && current >= frames) current = null; }
  layout();
  drawCells();
  drawMarkers();
  drawLanes();
  drawLegend();
  if (value.preview) showFrame(value.preview.frame, value.preview.url);
  if (value.playlist) { playlist = value.playlist; play(); } else if (timer) { stop(); playlist = null; }
}

function frameAt(clientX) {
  return Math.floor((clientX - track.getBoundingClientRect().left) / cell);
}

// The frame under the pointer on the strip (null off it): by position, as the ruler and markers are
// placed, so a cell narrower than a pixel at Fit gives the frame the pointer is over, not a neighbour.
function cellFrame(e) {
  if (!e.target.closest("[data-frame]")) return null;
  return Math.min(Math.max(frameAt(e.clientX), 0), view.frames - 1);
}

function pick(frame) {
  if (frame < 0 || frame >= view.frames) return;
  stop();
  showFrame(frame, null);
  trigger("pick_frame", {frame});
}

function selectMarker(frame) {
  selected = frame;
  drawMarkers();
  const row = view.keyframes.findIndex((k) => k.frame === frame);
  document.querySelectorAll(".sdvc-row-selected").forEach((r) => r.classList.remove("sdvc-row-selected"));
  const box = document.querySelector(`#kf-${row}-prompt textarea`);
  if (box) {
    const rowBox = box.closest(".sdvc-row") || box;
    rowBox.classList.add("sdvc-row-selected");
    rowBox.scrollIntoView({block: "center", behavior: "smooth"});
  }
}

function neighbours(frame) {
  const at = view.keyframes.findIndex((k) => k.frame === frame);
  const before = at > 0 ? view.keyframes[at - 1].frame : -1;
  const after = at < view.keyframes.length - 1 ? view.keyframes[at + 1].frame : Infinity;
  return [before, Math.min(after, Number.MAX_SAFE_INTEGER)];
}

root.addEventListener("mousedown", (e) => {
  const marker = e.target.closest("[data-keyframe]");
  if (!marker || e.button !== 0) return;
  e.preventDefault();
  const from = Number(marker.dataset.keyframe);
  drag = {marker, from, to: from, moved: false, limits: neighbours(from)};
});
document.addEventListener("mousemove", (e) => {
  if (!drag) return;
  drag.to = frameAt(e.clientX);
  drag.moved = drag.moved || drag.to !== drag.from;
  if (drag.from === 0) return; // the first keyframe starts the timeline: it stays
  const [before, after] = drag.limits;
  const shown = Math.max(before + 1, Math.min(after - 1, drag.to, view.frames + 240));
  drag.marker.style.left = `calc(var(--cell) * ${shown + 0.5})`;
  drag.marker.classList.toggle("tl-blocked", drag.to <= before || drag.to >= after);
});
document.addEventListener("mouseup", () => {
  if (!drag) return;
  const {from, to, moved} = drag;
  drag = null;
  drawMarkers(); // back in place until the server's redraw (a refused move changes nothing)
  if (moved && to !== from) trigger("move_keyframe", {from, to});
  else selectMarker(from);
});
root.addEventListener("click", (e) => {
  const button = e.target.closest("[data-act]");
  if (button) {
    const act = button.dataset.act;
    if (act === "zoom-in" || act === "zoom-out" || act === "fit") {
      zoom = act === "fit" ? 0 : Math.max(0, Math.min(100, zoom + (act === "zoom-in" ? 20 : -20)));
      zoomRange.value = zoom;
      const middle = scroll.scrollLeft + scroll.clientWidth / 2;
      layout(middle / cell, scroll.clientWidth / 2);
    } else if (act === "play") {
      if (timer) stop(); else trigger("play_frames", {});
    } else if (act === "delete" && selected !== null) {
      trigger("remove_keyframe", {frame: selected});
      selected = null;
    }
    return;
  }
  const frame = cellFrame(e);
  if (frame !== null && !e.target.closest("[data-keyframe]")) pick(frame);
});
root.addEventListener("dblclick", (e) => {
  const frame = cellFrame(e);
  if (frame === null) return;
  if (!view.keyframes.some((k) => k.frame === frame)) trigger("add_keyframe", {frame});
});
zoomRange.addEventListener("input", () => {
  const middle = scroll.scrollLeft + scroll.clientWidth / 2;
  const at = middle / cell;
  zoom = Number(zoomRange.value);
  layout(at, scroll.clientWidth / 2);
});
scroll.addEventListener("wheel", (e) => {
  if (e.shiftKey || !view.frames) return; // shift+wheel scrolls along
  e.preventDefault();
  const x = e.clientX - scroll.getBoundingClientRect().left;
  const at = (scroll.scrollLeft + x) / cell;
  zoom = Math.max(0, Math.min(100, zoom + (e.deltaY < 0 ? 8 : -8)));
  zoomRange.value = zoom;
  layout(at, x);
}, {passive: false});
root.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea")) return;
  if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
    e.preventDefault();
    const step = e.key === "ArrowRight" ? 1 : -1;
    pick(Math.max(0, Math.min(view.frames - 1, (current === null ? -step : current) + step)));
  } else if ((e.key === "Delete" || e.key === "Backspace") && selected !== null && selected !== 0) {
    trigger("remove_keyframe", {frame: selected});
    selected = null;
  }
});
new ResizeObserver(() => layout()).observe(scroll);
playButton();
redraw();
watch("value", redraw);
