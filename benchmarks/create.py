"""What she makes, measured: pieces of music and drawings, against baselines in the same run.

Prompts: ``benchmarks/data/create/prompts.toml``, written for this benchmark (40 music
prompts, each labelled by hand with the valence and energy a listener would expect; 40
drawing prompts).

Music, per prompt:

- ``her``: the character she decides (``character_for``), the score written under the
  ABC grammar, checked with music21 and repaired or rewritten (``composer.compose``, up to
  3 tries), her sentence, and the rendering (abc2midi, FluidSynth, abcm2ps). Counted:
  passed every check first time (first try, no repair), delivered (after repair and
  retries), the delivered score checked again here, non-silent audio; seconds for the
  model (score and sentence) and for rendering, apart.
- ``no-grammar``: the same prompt and sampling to the same model without the grammar, one
  try: passed first time, and after the same repair.
- mood agreement: her key's mode against the prompt's valence (major for +1) and her
  tempo against its energy (100 beats a minute and above for "high"); the baseline is a
  random mode and a random tempo in her range (60-150), seeded.

Drawings, per prompt:

- ``her``: ``draftsman.draw`` (plan, then each part under the SVG grammar, sanitised,
  repaired, rendered with resvg): valid first time (first try, no repair), delivered,
  the delivered SVG sanitised again here and rendered to a PNG; shapes; seconds for the
  model and for rendering.
- ``no-grammar``: the model asked plainly for an SVG of the prompt, one try: valid when it
  passes the same sanitiser with at least 3 shapes that show and renders.

Resumable: each result is appended to ``<out>.jsonl``; a run goes on where the last one
stopped (``--fresh`` starts over). Progress on stderr.

Run: python benchmarks/create.py [--limit N] [--kinds music,drawing]   (--limit N takes
N prompts of each kind evenly through the list; --report summarises what is written)
Writes benchmarks/results/create.json (+ .jsonl) and prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import log, machine, read_jsonl

from os1.errors import OS1Error
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.llm.bundled import CHAT_MODEL

HERE = Path(__file__).resolve().parent
PROMPTS = HERE / "data" / "create" / "prompts.toml"
DEFAULT_OUT = HERE / "results" / "create.json"
HIGH_TEMPO = 100  # beats a minute: at or above is lively
RANDOM_TEMPOS = (60, 150)
PLAIN_SVG = ("Write an SVG drawing (viewBox 0 0 400 300) of: {about}. Reply with the SVG "
             "only.")


def bundled_model() -> Model:
    from os1.config import load_settings
    from os1.llm.bundled import ensure_assembled
    from os1.llm.llama import LlamaModel

    return LlamaModel(ensure_assembled(CHAT_MODEL, load_settings().cache_dir),
                      context_size=4096)


# -- music -----------------------------------------------------------------------------


def music_row(model: Model, case: dict[str, Any], index: int) -> dict[str, Any]:
    from os1.making.music import composer, score_check
    from os1.making.music.character import character_for
    from os1.making.music.sound import render

    character = character_for(case["prompt"])
    row: dict[str, Any] = {"kind": "music", "index": index, "prompt": case["prompt"],
                           "valence": case["valence"], "energy": case["energy"],
                           "mode": character.mode, "tempo": character.tempo,
                           "key": character.abc_key, "bars": character.bars}
    started = time.perf_counter()
    try:
        score = composer.compose(model, case["prompt"], character)
        words = composer.her_words(model, case["prompt"], character)
    except OS1Error as exc:
        row.update(delivered=False, why=str(exc), model_s=time.perf_counter() - started)
        return row | plain_music(model, case["prompt"], character)
    row.update(model_s=time.perf_counter() - started, delivered=True,
               first_time=score.attempts == 1 and not score.repaired,
               attempts=score.attempts, repaired=score.repaired, words=words,
               rechecked=not score_check.check(score.abc, character), abc=score.abc)
    started = time.perf_counter()
    try:
        sound = render(score)
        row.update(render_s=time.perf_counter() - started, seconds=sound.seconds,
                   audible=sound.seconds > 0)
    except OS1Error as exc:
        row.update(render_s=time.perf_counter() - started, audible=False, why=str(exc))
    return row | plain_music(model, case["prompt"], character)


def plain_music(model: Model, about: str, character: Any) -> dict[str, Any]:
    """The same prompt and sampling without the grammar, one try."""
    from os1.making.music import composer, score_check

    options = GenerateOptions(max_tokens=composer.token_budget(character),
                              temperature=composer.TEMPERATURE, top_p=0.95, min_p=0.05)
    started = time.perf_counter()
    reply = complete(model, [Message("user", composer.prompt(about, character))], options)
    abc = composer.header(character, about) + composer.body_of(reply, character)
    first = not score_check.check(abc, character)
    mended = None if first else score_check.repair(abc, character)
    repaired = first or (mended is not None and not score_check.check(mended, character))
    return {"plain_first_time": first, "plain_after_repair": repaired,
            "plain_s": time.perf_counter() - started}


# -- drawings ---------------------------------------------------------------------------


def drawing_row(model: Model, about: str, index: int) -> dict[str, Any]:
    from os1.making.drawing import draftsman
    from os1.making.drawing.svg_render import render_png
    from os1.making.drawing.svg_safety import sanitise

    row: dict[str, Any] = {"kind": "drawing", "index": index, "prompt": about}
    started = time.perf_counter()
    try:
        drawing = draftsman.draw(model, about)
    except OS1Error as exc:
        row.update(delivered=False, why=str(exc), total_s=time.perf_counter() - started)
        return row | plain_drawing(model, about)
    total = time.perf_counter() - started
    started = time.perf_counter()
    png = render_png(sanitise(drawing.svg))
    render_s = time.perf_counter() - started
    row.update(delivered=True, first_time=drawing.attempts == 1 and not drawing.repaired,
               attempts=drawing.attempts, repaired=drawing.repaired,
               elements=drawing.elements, plan=list(drawing.plan), svg=drawing.svg,
               png_ok=png.startswith(b"\x89PNG"), render_s=render_s,
               model_s=max(0.0, total - render_s), total_s=total)
    return row | plain_drawing(model, about)


def plain_drawing(model: Model, about: str) -> dict[str, Any]:
    from os1.making.drawing.shapes import count_visible
    from os1.making.drawing.svg_render import render_png
    from os1.making.drawing.svg_safety import parse, sanitise

    started = time.perf_counter()
    reply = complete(model, [Message("user", PLAIN_SVG.format(about=about))],
                     GenerateOptions(max_tokens=900, temperature=0.7, top_p=0.95))
    valid, shapes = False, 0
    text = reply[reply.find("<svg"):reply.rfind("</svg>") + 6] if "<svg" in reply else ""
    try:
        clean = sanitise(text)
        shapes = sum(count_visible(child) for child in parse(clean))
        valid = shapes >= 3 and render_png(clean).startswith(b"\x89PNG")
    except OS1Error:
        valid = False
    return {"plain_valid": valid, "plain_shapes": shapes,
            "plain_s": time.perf_counter() - started}


# -- the run ----------------------------------------------------------------------------


def run(kinds: Sequence[str], limit: int | None, out: Path, fresh: bool) -> list[dict[str, Any]]:
    cases = tomllib.loads(PROMPTS.read_text(encoding="utf-8"))
    log_path = out.with_suffix(".jsonl")
    if fresh and log_path.exists():
        log_path.unlink()
    done = read_jsonl(log_path) if log_path.exists() else []
    seen = {(r["kind"], r["index"]) for r in done}
    model: Model | None = None
    jobs: list[tuple[str, int, Callable[[Model], dict[str, Any]]]] = []
    for kind in kinds:
        for index, case in spread(cases[kind], limit):
            if (kind, index) not in seen:
                jobs.append((kind, index, _job(kind, case, index)))
    out.parent.mkdir(parents=True, exist_ok=True)
    for n, (kind, index, job) in enumerate(jobs, start=1):
        model = model or bundled_model()
        row = job(model)
        with log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        done.append(row)
        plain = row.get("plain_first_time", row.get("plain_valid"))
        log(f"[{n}/{len(jobs)}] {kind} {index}: delivered={row.get('delivered')} "
            f"first={row.get('first_time')} plain={plain}")
    return [r for r in done if r["kind"] in kinds]


def spread(cases: Sequence[Any], limit: int | None) -> list[tuple[int, Any]]:
    """``limit`` of ``cases`` taken evenly through the list (the music prompts are grouped
    by feeling, so the first ten would all be happy and lively), with their indexes."""
    indexed = list(enumerate(cases))
    if limit is None or limit >= len(indexed):
        return indexed
    step = len(indexed) / limit
    return [indexed[int(n * step)] for n in range(limit)]


def _job(kind: str, case: Any, index: int) -> Callable[[Model], dict[str, Any]]:
    if kind == "music":
        return lambda model: music_row(model, case, index)
    return lambda model: drawing_row(model, case, index)


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    music = [r for r in rows if r["kind"] == "music"]
    drawings = [r for r in rows if r["kind"] == "drawing"]
    return {"music": music_summary(music) if music else None,
            "music_mood_all_prompts": mood_of_every_prompt(),
            "drawing": drawing_summary(drawings) if drawings else None}


def music_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    delivered = [r for r in rows if r["delivered"]]
    rng = random.Random(27)
    random_mode = [rng.choice((1, -1)) == r["valence"] for r in rows]
    random_tempo = [(rng.randint(*RANDOM_TEMPOS) >= HIGH_TEMPO) == (r["energy"] == "high")
                    for r in rows]
    mode = [(r["mode"] == "major") == (r["valence"] > 0) for r in rows]
    tempo = [(r["tempo"] >= HIGH_TEMPO) == (r["energy"] == "high") for r in rows]
    return {
        "pieces": len(rows),
        "her_first_time": _rate(r.get("first_time", False) for r in rows),
        "her_delivered": _rate(r["delivered"] for r in rows),
        "delivered_valid": _rate(r["rechecked"] and r.get("audible", False) for r in delivered),
        "plain_first_time": _rate(r["plain_first_time"] for r in rows),
        "plain_after_repair": _rate(r["plain_after_repair"] for r in rows),
        "mood_agreement": _rate(mode + tempo), "mode_agreement": _rate(mode),
        "tempo_agreement": _rate(tempo), "random_mood_agreement": _rate(random_mode + random_tempo),
        "random_mode_agreement": _rate(random_mode), "random_tempo_agreement": _rate(random_tempo),
        "model_s": _spread(r["model_s"] for r in delivered),
        "render_s": _spread(r["render_s"] for r in delivered if "render_s" in r),
        "piece_s": _spread(r["model_s"] + r.get("render_s", 0.0) for r in delivered),
        "audio_s": _spread(r["seconds"] for r in delivered if "seconds" in r),
        "plain_s": _spread(r["plain_s"] for r in rows),
    }


def mood_of_every_prompt() -> dict[str, float]:
    """Mood agreement over all the music prompts: the character she decides needs no
    model (``character_for``), so it is measured on every prompt, not only those run."""
    from os1.making.music.character import character_for

    cases = tomllib.loads(PROMPTS.read_text(encoding="utf-8"))["music"]
    pairs = [(character_for(case["prompt"]), case) for case in cases]
    mode = [(c.mode == "major") == (case["valence"] > 0) for c, case in pairs]
    tempo = [(c.tempo >= HIGH_TEMPO) == (case["energy"] == "high") for c, case in pairs]
    rng = random.Random(27)
    random_mode = [rng.choice((1, -1)) == case["valence"] for case in cases]
    random_tempo = [(rng.randint(*RANDOM_TEMPOS) >= HIGH_TEMPO) == (case["energy"] == "high")
                    for case in cases]
    return {"prompts": len(cases), "mood_agreement": _rate(mode + tempo),
            "mode_agreement": _rate(mode), "tempo_agreement": _rate(tempo),
            "random_mood_agreement": _rate(random_mode + random_tempo)}


def drawing_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    delivered = [r for r in rows if r["delivered"]]
    return {
        "drawings": len(rows),
        "her_first_time": _rate(r.get("first_time", False) for r in rows),
        "her_delivered": _rate(r["delivered"] for r in rows),
        "delivered_valid": _rate(r["png_ok"] for r in delivered),
        "plain_valid": _rate(r["plain_valid"] for r in rows),
        "elements": _spread(r["elements"] for r in delivered),
        "plain_shapes": _spread(r["plain_shapes"] for r in rows),
        "model_s": _spread(r["model_s"] for r in delivered),
        "render_s": _spread(r["render_s"] for r in delivered),
        "drawing_s": _spread(r["total_s"] for r in delivered),
        "plain_s": _spread(r["plain_s"] for r in rows),
    }


def _rate(values: Any) -> float:
    values = [bool(v) for v in values]
    return round(sum(values) / len(values), 3) if values else 0.0


def _spread(values: Any) -> dict[str, float]:
    values = sorted(float(v) for v in values)
    if not values:
        return {}
    return {"median": round(statistics.median(values), 2), "max": round(values[-1], 2),
            "mean": round(statistics.fmean(values), 2)}


def tables(result: dict[str, Any]) -> str:
    lines = []
    for kind, figures in result["summary"].items():
        if figures:
            lines += [f"### {kind}", "", "| figure | value |", "|---|---|"]
            lines += [f"| {name} | {value} |" for name, value in figures.items()]
            lines.append("")
    return "\n".join(lines)


def pictures(rows: list[dict[str, Any]], folder: Path, drawings: int = 4) -> list[Path]:
    """The first delivered piece's sheet music (abcm2ps's SVG) and the first ``drawings``
    delivered drawings (PNG), for docs/: what she made in the run, as it came out."""
    from os1.making.drawing.svg_render import render_png
    from os1.making.music.character import character_for
    from os1.making.music.sound import render
    from os1.making.records import Score
    from os1.making.works import slug

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    piece = next((r for r in rows if r["kind"] == "music" and r["delivered"]), None)
    if piece is not None:
        score = Score(piece["abc"], character_for(piece["prompt"]), 1, False, ())
        sheet = render(score).sheet_svg
        path = folder / f"piece-{slug(piece['prompt'])}.svg"
        path.write_text(sheet, encoding="utf-8")
        written.append(path)
    for row in [r for r in rows if r["kind"] == "drawing" and r["delivered"]][:drawings]:
        path = folder / f"drawing-{slug(row['prompt'])}.png"
        path.write_bytes(render_png(row["svg"], width=480))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=None, help="prompts of each kind")
    parser.add_argument("--kinds", default="music,drawing")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--report", action="store_true",
                        help="summarise what the last runs wrote, running nothing")
    parser.add_argument("--pictures", type=Path, default=None,
                        help="write a piece's sheet music and a few drawings here")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    started = time.time()
    if args.report:
        rows = [r for r in read_jsonl(args.out.with_suffix(".jsonl")) if r["kind"] in kinds]
    else:
        rows = run(kinds, args.limit, args.out, args.fresh)
    result = {"machine": machine(), "seconds": round(time.time() - started, 1),
              "summary": summary(rows)}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(tables(result))
    if args.pictures is not None:
        for path in pictures(rows, args.pictures):
            log(f"wrote {path}")


if __name__ == "__main__":
    main()
