"""A score turned into sound and sheet music by Debian's tools: abc2midi (MIDI, with the
chord symbols played as accompaniment), fluidsynth with a General MIDI SoundFont (WAV)
and abcm2ps (SVG).

Why separate programs and not a Python synthesiser: they are the reference renderers of
ABC and of SoundFonts, packaged and sandboxable; each runs in a private temporary folder
under a share of one time budget, and is killed when it runs over (nothing is left).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from os1.making.errors import MakingError, RendererMissing, RenderTimeout
from os1.making.records import Score, Sound

# each tool and the Debian package that has it
TOOLS = {"abc2midi": "abcmidi", "fluidsynth": "fluidsynth", "abcm2ps": "abcm2ps"}
# FluidR3 first: it loads in ~1 s, MuseScore General's compressed sf3 in ~5 s
SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf3/default-GM.sf3"),
)
SOUNDFONT_PACKAGE = "fluid-soundfont-gm"
SAMPLE_RATE = 44100
GAIN = "0.6"  # fluidsynth's default (0.2) renders a solo melody too quietly to enjoy
SILENT_RMS = 1e-4


def tool(name: str) -> str:
    """The tool's path; RendererMissing naming its package when it is not installed."""
    found = shutil.which(name)
    if found is None:
        package = TOOLS[name]
        raise RendererMissing(f"{name} is missing: sudo apt install {package}",
                              f"Install the Debian package {package} to hear her music.")
    return found


def soundfont() -> Path:
    for path in SOUNDFONTS:
        if path.is_file():
            return path
    raise RendererMissing(f"No SoundFont is installed: sudo apt install {SOUNDFONT_PACKAGE}",
                          f"Install the Debian package {SOUNDFONT_PACKAGE} to hear her music.")


def render(score: Score, *, budget_s: float = 60) -> Sound:
    """MIDI, WAV and SVG of ``score``; RenderTimeout when the tools together take longer
    than ``budget_s``, MakingError when a tool fails or the audio is silent."""
    paths = {name: tool(name) for name in TOOLS}
    font = soundfont()
    deadline = time.monotonic() + budget_s
    with tempfile.TemporaryDirectory(prefix="os1-music-") as tmp:
        folder = Path(tmp)
        (folder / "tune.abc").write_text(score.abc, encoding="utf-8")
        _run([paths["abc2midi"], "tune.abc", "-o", "tune.mid"], folder, deadline)
        midi = _output(folder / "tune.mid", "abc2midi")
        _run([paths["abcm2ps"], "-g", "-O", "sheet", "tune.abc"], folder, deadline)
        sheet = _output(folder / "sheet001.svg", "abcm2ps").decode("utf-8")
        _run([paths["fluidsynth"], "-ni", "-q", "-g", GAIN, "-F", "tune.wav",
              "-r", str(SAMPLE_RATE), str(font), "tune.mid"], folder, deadline)
        wav = _output(folder / "tune.wav", "fluidsynth")
        seconds = _audible_seconds(folder / "tune.wav")
    return Sound(midi=midi, wav=wav, sheet_svg=sheet, seconds=seconds)


def _run(command: list[str], folder: Path, deadline: float) -> None:
    name = Path(command[0]).name
    left = deadline - time.monotonic()
    if left <= 0:
        raise RenderTimeout(f"Rendering ran out of time before {name}.")
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, timeout=left,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:  # run() has killed it and waited
        raise RenderTimeout(f"{name} ran over the time for rendering and was stopped.") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
        raise MakingError(f"{name} failed (exit {done.returncode}): {said}")


def _output(path: Path, name: str) -> bytes:
    if not path.is_file() or path.stat().st_size == 0:
        raise MakingError(f"{name} wrote nothing.")
    return path.read_bytes()


def _audible_seconds(path: Path) -> float:
    """How long the audio lasts; MakingError when it is silent (a score that plays
    nothing, a SoundFont without the instrument)."""
    import numpy as np
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    rms = float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0
    if rms < SILENT_RMS:
        raise MakingError("The rendered audio is silent.")
    return float(samples.shape[0]) / float(rate)
