"""The soundtrack, told with a click track made here: 120 BPM, a click every 0.5 s from 0.52 s.

Its analysis finds the tempo and every click; keyframes go on every 4th beat and to the track's
end; "timing": "audio" puts the big steps of t on the frames playing as the clicks sound, and only re-renders frames
whose t changed; with even timing another track re-renders nothing; the mp4 carries the sound;
bad tracks are refused naming the file and the problem.
"""

import itertools
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
from cli import main_json, run_cli, run_main
from conftest import write_project

from pipeline.audio_timing import audio_lane
from pipeline.beat_keyframes import fit_to_audio, on_beats, snap_to_beats, with_frames
from pipeline.bundle import opened_project, write_bundle
from pipeline.errors import InputError
from pipeline.project import load_project
from pipeline.timeline import plan_timeline, segment_fractions

FPS = 8
BPM = 120
FIRST_CLICK = 0.52  # just after frame 4 starts (0.5 s): the picture moves on frame 4, the nearest
SECONDS = 6.0
CLICKS = np.arange(FIRST_CLICK, SECONDS - 0.1, 60 / BPM)  # (11,)
KEYFRAMES = [{"frame": f, "prompt": p, "seed": s} for f, p, s in ((0, "a fox", 1), (3, "a city", 2), (6, "a lake", 3))]


def click_track(path: Path, clicks: np.ndarray = CLICKS, seconds: float = SECONDS, rate: int = 22050) -> Path:
    """A stereo file of short 1.5 kHz bursts at `clicks` (seconds), silence between."""
    samples = np.zeros(int(rate * seconds), np.float32)
    k = np.arange(int(0.02 * rate))
    burst = (0.9 * np.sin(2 * np.pi * 1500 * k / rate) * np.exp(-k / (0.004 * rate))).astype(np.float32)
    for c in clicks:
        i = round(c * rate)
        samples[i : i + k.size] += burst[: samples.size - i]
    soundfile.write(path, np.stack([samples, samples], axis=1), rate)
    return path


@pytest.fixture(scope="module")
def track_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("soundtrack")
    click_track(folder / "clicks.wav")
    return folder


def picture_and_sound_seconds(mp4: Path) -> list[float]:
    """The mp4's H.264 and AAC streams' durations (it must have both)."""
    with av.open(str(mp4)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
        return [float(s.duration * s.time_base) for s in (video, audio)]


def project_with(folder: Path, keyframes=KEYFRAMES, **fields) -> Path:
    return write_project(
        folder / "project.json", keyframes, **{"audio": {"path": "clicks.wav", "start": 0.0}, **fields}
    )


def test_the_click_tracks_tempo_and_every_beat_are_found_within_a_frame(track_folder):
    track = load_project(project_with(track_folder)).audio
    assert abs(track.analysis.tempo - BPM) <= 0.05 * BPM
    assert track.analysis.duration == pytest.approx(SECONDS)
    beats = track.analysis.beats
    assert len(beats) == len(CLICKS)
    assert np.abs(beats - CLICKS).max() < 1 / FPS  # every click, within one frame


def test_keyframes_on_every_4th_beat_and_the_last_at_the_tracks_end(track_folder):
    keyframes = [*KEYFRAMES, {"frame": 9, "prompt": "a forest", "seed": 4}]
    project = load_project(project_with(track_folder, keyframes))
    click_frames = [round(c * FPS) for c in CLICKS]  # 4, 8, 12, ... (0.52 s is frame 4.16)
    assert on_beats(project, 4, 0) == [0, click_frames[0], click_frames[4], click_frames[8]]
    assert on_beats(project, 2, click_frames[1]) == [0, 3, 6, click_frames[3]]  # from a beat: the next 2 beats on
    assert snap_to_beats(project) == [0, click_frames[0], click_frames[1], click_frames[2]]
    fitted = with_frames(project, fit_to_audio(project), track_folder)
    assert fitted.keyframes[-1].frame == SECONDS * FPS
    with pytest.raises(InputError, match="the track has 2 places every 8 beats after frame 0"):
        on_beats(project, 8, 0)  # frames 4 and 36: too few for three keyframes


@pytest.mark.parametrize("offset", [0.0, -0.02, -0.05])  # clicks just after frames start, on them, just before
def test_audio_timing_moves_on_the_frame_nearest_each_click_and_rerenders_only_changed_t(track_folder, offset):
    clicks = CLICKS + offset
    track = click_track(track_folder / f"clicks{offset}.wav", clicks)
    keyframes = [KEYFRAMES[0], {**KEYFRAMES[2], "frame": 40}]
    audio = {"path": track.name, "start": 0.0}
    even = load_project(project_with(track_folder, keyframes, audio=audio))
    timed = load_project(project_with(track_folder, keyframes, audio=audio, timing="audio"))
    assert even.timing == "even"  # the default
    t = segment_fractions(timed, *timed.keyframes)
    assert len(t) == 40 and t[-1] == 1.0 and all(a <= b for a, b in itertools.pairwise(t))
    steps = np.diff([0.0, *t])  # steps[i]: from frame i to frame i + 1
    on_clicks = {
        round(c * FPS) for c in clicks if round(c * FPS) <= 40
    }  # 4, 8, ..., 40: the frame playing as it sounds
    largest = {int(i) + 1 for i in np.argsort(steps)[-len(on_clicks) :]}
    assert largest == on_clicks
    assert steps[[f - 1 for f in on_clicks]].sum() > 0.9  # it holds between the clicks (the onsets spread ~50 ms)
    # The keyframes' frames keep their keys; in-betweens whose t changed get new ones.
    even_keys = [p.key for p in plan_timeline(even)]
    timed_keys = [p.key for p in plan_timeline(timed)]
    assert (even_keys[0], even_keys[40]) == (timed_keys[0], timed_keys[40])
    assert even_keys[20] != timed_keys[20]


def test_the_timelines_audio_lane_has_a_peak_per_frame_and_the_beats_in_frames(track_folder):
    project = load_project(project_with(track_folder, [KEYFRAMES[0], {**KEYFRAMES[1], "frame": 55}]))
    lane = audio_lane(project)
    assert len(lane["peaks"]) == 56 and abs(lane["tempo"] - BPM) <= 0.05 * BPM
    loud = [i for i, p in enumerate(lane["peaks"]) if p > 0.5]
    assert loud == [int(c * FPS) for c in CLICKS]  # the frame each click plays in; silence between
    assert lane["peaks"][48:] == [0.0] * 8  # past the track's end (6 s)
    assert np.abs(np.array(lane["beats"]) - CLICKS * FPS).max() < 1
    assert audio_lane(load_project(write_project(track_folder / "silent.json", KEYFRAMES))) is None


def test_another_track_with_even_timing_rerenders_nothing(track_folder, tmp_path):
    shutil.copy(track_folder / "clicks.wav", tmp_path / "clicks.wav")
    first = plan_timeline(load_project(project_with(tmp_path)))
    click_track(tmp_path / "clicks.wav", clicks=CLICKS + 0.2)
    second = load_project(project_with(tmp_path))
    assert [p.key for p in plan_timeline(second)] == [p.key for p in first]
    timed = load_project(project_with(tmp_path, timing="audio"))
    assert [p.key for p in plan_timeline(timed)] != [p.key for p in first]


def test_a_bundle_carries_the_track(track_folder, tmp_path):
    project = load_project(project_with(track_folder, timing="audio"))
    bundle = write_bundle(project, tmp_path / "song-project.zip")
    with opened_project(bundle) as opened:
        assert (
            opened.audio.sha256 == project.audio.sha256
            and opened.audio.path.read_bytes() == (track_folder / "clicks.wav").read_bytes()
        )
        assert [p.key for p in plan_timeline(opened)] == [p.key for p in plan_timeline(project)]


def truncated_flac(folder: Path) -> None:
    click_track(folder / "whole.flac")
    data = (folder / "whole.flac").read_bytes()
    (folder / "song.wav").write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("make", "audio", "message"),
    [
        (lambda f: (f / "song.wav").write_text("not a sound " * 100), {}, "not an audio file we can read"),
        (truncated_flac, {}, "damaged"),
        (lambda f: (f / "song.wav").write_bytes(b""), {}, "the file is empty"),
        (lambda f: click_track(f / "song.wav", clicks=np.array([]), seconds=0.0), {}, "zero length"),
        (lambda f: click_track(f / "song.wav"), {"start": 7.5}, r"audio.start 7.5 s is beyond the end"),
        (lambda f: click_track(f / "song.wav"), {"start": -1}, "audio.start must be a number of seconds"),
        (lambda f: None, {"path": "../song.wav"}, "outside the project folder"),
        (lambda f: None, {"path": "missing.wav"}, "not found next to the project file"),
        (lambda f: click_track(f / "song.wav"), {"volume": 1}, "audio.volume is not a known field"),
    ],
)
def test_bad_tracks_are_refused_naming_the_file(tmp_path, make, audio, message):
    folder = tmp_path / "project"
    folder.mkdir()
    make(folder)
    (tmp_path / "song.wav").write_bytes(b"outside")
    path = write_project(folder / "p.json", KEYFRAMES, audio={"path": "song.wav", "start": 0.0, **audio})
    with pytest.raises(InputError, match=message) as error:
        load_project(path)
    assert "audio" in str(error.value)


def test_too_long_a_track_and_audio_timing_without_one_are_refused(track_folder, set_limits):
    with pytest.raises(InputError, match='timing "audio" needs a soundtrack'):
        load_project(write_project(track_folder / "silent.json", KEYFRAMES, timing="audio"))
    with pytest.raises(InputError, match='timing "audio" and spacing "even" both choose'):
        load_project(project_with(track_folder, timing="audio", spacing="even"))
    set_limits(max_audio_seconds=5)
    with pytest.raises(InputError, match=r"6.0 s long, over the limit of 5 s \(SDVC_MAX_AUDIO_SECONDS\)"):
        load_project(project_with(track_folder))


def test_cli_audio_prints_the_analysis_with_beat_frames(track_folder, capsys):
    result = main_json(capsys, "audio", track_folder / "clicks.wav", "--fps", "10")
    assert set(result) >= {"duration", "tempo", "beats", "beat_frames"}
    assert result["beat_frames"] == [round(b * 10) for b in result["beats"]]
    assert np.abs(np.array(result["beats"]) - CLICKS).max() < 0.1
    (track_folder / "notes.txt").write_text("not a sound")
    code, _, err = run_main(capsys, "audio", track_folder / "notes.txt")
    assert code == 2 and err.count("\n") == 1 and "not an audio file" in err


@pytest.mark.slow
def test_rendered_mp4_carries_the_track_as_aac_as_long_as_the_video(track_folder, tmp_path, demo_model_dir):
    project = project_with(track_folder, [KEYFRAMES[0], {**KEYFRAMES[1], "frame": 11}], steps=1)
    data = json.loads(project.read_text())
    data["audio"]["start"] = 1.0
    project.write_text(json.dumps(data))
    result = run_cli("render", project, "--out", tmp_path / "video.mp4", "--cache", tmp_path / "cache", "--json")
    assert result.returncode == 0, result.stderr
    durations = picture_and_sound_seconds(tmp_path / "video.mp4")
    assert durations[0] == pytest.approx(12 / FPS)
    assert abs(durations[0] - durations[1]) < 1 / FPS
    gif = run_cli("render", project, "--out", tmp_path / "video.gif", "--cache", tmp_path / "cache")
    assert gif.returncode == 0, gif.stderr
    assert not list(tmp_path.glob(".tmp-*"))  # the silent temporary went


@pytest.mark.slow
def test_analyze_audio_through_gradio_client(track_folder, tmp_path, demo_server):
    from gradio_client import Client, handle_file

    client = Client(demo_server.url, analytics_enabled=False, verbose=False)
    result = client.predict(audio=handle_file(str(track_folder / "clicks.wav")), api_name="/analyze_audio")
    assert set(result) == {"duration", "tempo", "beats"}
    assert abs(result["tempo"] - BPM) <= 0.05 * BPM and len(result["beats"]) == len(CLICKS)
    (tmp_path / "notes.wav").write_text("not a sound")
    with pytest.raises(Exception, match="audio: not an audio file we can read"):
        client.predict(audio=handle_file(str(tmp_path / "notes.wav")), api_name="/analyze_audio")


@pytest.mark.slow
def test_render_project_through_gradio_client_returns_the_video_with_sound(track_folder, tmp_path, demo_server):
    from gradio_client import Client, handle_file

    project = load_project(project_with(track_folder, [KEYFRAMES[0], {**KEYFRAMES[1], "frame": 7}], steps=1))
    bundle = write_bundle(project, tmp_path / "song-project.zip")
    client = Client(demo_server.url, analytics_enabled=False, verbose=False)
    video, stats = client.predict(project=handle_file(str(bundle)), draft=False, api_name="/render_project")
    durations = picture_and_sound_seconds(Path(video))
    assert durations[0] == pytest.approx(8 / FPS) and abs(durations[0] - durations[1]) < 1 / FPS
    assert stats["rendered"] == 8
