"""The draftsman with a scripted model: a plan, then one reply a part; what comes back is
sanitised, repaired or dropped, and only a drawing that passes is delivered."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from os1.llm.fake import FakeModel
from os1.making.drawing.draftsman import draw, her_words, revise
from os1.making.drawing.layout import region
from os1.making.drawing.svg_safety import sanitise
from os1.making.errors import NotWritable

NS = "{http://www.w3.org/2000/svg}"
PLAN = """sky: top half, light blue gradient
sea: bottom half, deep blue
sun: upper right, yellow circle
us: middle, two simple figures
"""
SKY = ('<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" '
       'stop-color="#5fa8e8"/><stop offset="1" stop-color="#cfe8ff"/></linearGradient>\n'
       '<rect x="0" y="0" width="400" height="150" fill="url(#sky)"/>')
SEA = '<rect x="0" y="150" width="400" height="150" fill="#1e5aa8"/>'
SUN = '<circle cx="335" cy="60" r="32" fill="#ffd34d"/>'
US = ('<circle cx="180" cy="170" r="10" fill="#8a5a44"/>\n'
      '<line x1="180" y1="180" x2="180" y2="220" stroke="#333" stroke-width="3"/>\n'
      '<circle cx="220" cy="170" r="10" fill="#e0b090"/>\n'
      '<line x1="220" y1="180" x2="220" y2="220" stroke="#333" stroke-width="3"/>')


def shapes(svg: str) -> list[str]:
    return [e.tag.removeprefix(NS) for e in fromstring(svg).iter()
            if e.tag.removeprefix(NS) in {"rect", "circle", "ellipse", "line", "path",
                                          "polygon", "polyline", "text"}]


def model_with(*replies: str) -> FakeModel:
    model = FakeModel()
    model.enqueue(*replies)
    return model


def test_a_good_plan_and_parts_make_a_drawing() -> None:
    model = model_with(PLAN, SKY, SEA, SUN, US)
    drawing = draw(model, "us at the beach")
    assert drawing.png.startswith(b"\x89PNG")
    assert sanitise(drawing.svg) == drawing.svg
    assert drawing.plan == tuple(PLAN.splitlines())
    assert drawing.elements == 7
    assert shapes(drawing.svg) == ["rect", "rect", "rect", "circle", "circle", "line",
                                   "circle", "line"]  # the paper first
    assert (drawing.attempts, drawing.repaired) == (1, False)
    assert 'fill="url(#p1sky)"' in drawing.svg and 'id="p1sky"' in drawing.svg
    assert all(call.options.grammar for call in model.calls)
    planning = model.calls[0].messages
    assert planning[-1].content == "Plan the picture: us at the beach"
    assert [m.role for m in planning] == ["system"] + ["user", "assistant"] * 2 + ["user"]
    sun_turn = [(m.role, m.content) for m in model.calls[3].messages]
    assert model.calls[3].messages[:len(planning)] == planning  # one prefix, reused
    assert sun_turn[len(planning)] == ("assistant", PLAN.strip())
    sun_turn = sun_turn[len(planning) + 1:]
    assert [role for role, _ in sun_turn] == ["user", "assistant"] * 2 + ["user"]
    assert [sun_turn[i][1] for i in (0, 2, 3, 4)] == [
        "sky: top half, light blue gradient (x 0 to 400, y 0 to 150)",
        "sea: bottom half, deep blue (x 0 to 400, y 150 to 300)", SEA,
        "sun: upper right, yellow circle (x 250 to 400, y 0 to 110)"]
    assert sun_turn[1][1].startswith('<linearGradient id="p1sky"')


def test_a_script_in_a_reply_is_never_delivered() -> None:
    hostile = (SUN + '\n<script>fetch("http://evil.example")</script>\n'
               '<rect x="1" y="1" width="9" height="9" onload="alert(1)" fill="red"/>')
    drawing = draw(model_with(PLAN, SKY, SEA, hostile, US), "us at the beach")
    assert "script" not in drawing.svg and "onload" not in drawing.svg
    assert "evil" not in drawing.svg
    assert drawing.repaired
    assert 'cx="335"' in drawing.svg  # the sun on the script's line-mate survived


def test_repairs_clamp_close_and_drop() -> None:
    broken = ('<circle cx="9000" cy="60" r="32" fill="#ffd34d"/>\n'
              '<rect x="450" y="5" width="100" height="10" fill="red"/>\n'
              '<path d="M10,250 L60,200 L110,250" fill="#0a0"/>\n'
              '<rect x="5" y="5" width="0" height="10" fill="red"/>\n'
              '<rect x="5" y="5" width="10" height="10" fill="url(#missing)"/>\n'
              '<ellipse cx="10" cy="10" rx="')
    drawing = draw(model_with(PLAN, SKY, SEA, broken, US), "us at the beach")
    assert drawing.repaired
    assert 'cx="400"' in drawing.svg
    assert 'd="M 10 250 L 60 200 L 110 250 Z"' in drawing.svg
    assert 'width="0"' not in drawing.svg and "missing" not in drawing.svg
    assert 'width="100" height="10"' not in drawing.svg  # clamped to x=400: off the canvas
    assert "ellipse" not in drawing.svg


def test_garbage_three_times_is_not_writable() -> None:
    model = model_with("I can't draw.", "<svg>no</svg>", "sky blue")
    with pytest.raises(NotWritable, match="after 3 tries"):
        draw(model, "us at the beach")
    assert len(model.calls) == 3


def test_a_plan_whose_parts_never_show_is_retried() -> None:
    nothing = '<rect x="0" y="0" width="0" height="0" fill="red"/>'
    model = model_with(PLAN, nothing, nothing, nothing, nothing, PLAN, SKY, SEA, SUN, US)
    drawing = draw(model, "us at the beach")
    assert drawing.attempts == 2
    assert model.calls[5].options.seed != model.calls[0].options.seed


def test_a_shape_written_again_is_left_out() -> None:
    """A copy of an earlier shape, even in another colour, is the model repeating its
    last turn: left out."""
    model = model_with(PLAN, SKY, SEA, SEA.replace("#1e5aa8", "#f5f5f5") + "\n" + SUN, US)
    drawing = draw(model, "us at the beach")
    assert drawing.svg.count('y="150" width="400" height="150"') == 1
    assert "#f5f5f5" not in drawing.svg
    assert drawing.repaired and drawing.elements == 7


def test_only_the_background_may_cover_the_canvas() -> None:
    cover = '<rect x="0" y="0" width="400" height="290" fill="#ffffff"/>'
    model = model_with(PLAN, SKY, SEA, cover + "\n" + SUN, US)
    drawing = draw(model, "us at the beach")
    assert 'height="290"' not in drawing.svg and 'cx="335"' in drawing.svg


def test_unconstrained_writing_has_no_grammar_and_is_still_cleaned() -> None:
    fenced = f"```svg\n<svg xmlns='http://www.w3.org/2000/svg'>\n{SUN}\n</svg>\n```"
    model = model_with("1. **Sky**: top half, blue\n- sea: bottom, blue\nsun: right, yellow\n"
                       "us: middle, figures\n", SKY, SEA, fenced, US)
    drawing = draw(model, "us at the beach", constrained=False)
    assert all(call.options.grammar is None for call in model.calls)
    assert drawing.plan[0] == "sky: top half, blue"
    assert 'cx="335"' in drawing.svg


def test_the_budget_leaves_out_parts_once_enough_shows() -> None:
    model = model_with(PLAN, SKY, SEA, SUN, US)
    drawing = draw(model, "us at the beach", budget_s=0)
    assert drawing.plan == tuple(PLAN.splitlines()[:3])
    assert drawing.elements == 3
    assert len(model.replies) == 1  # the figures were never asked for


def test_revise_redraws_what_changed_and_leaves_the_old_drawing_as_it_was() -> None:
    old = draw(model_with(PLAN, SKY, SEA, SUN, US), "us at the beach")
    old_svg, old_png = old.svg, old.png
    darker = PLAN.replace("sky: top half, light blue gradient", "sky: top half, dark blue")
    model = model_with(darker, '<rect x="0" y="0" width="400" height="150" fill="#0b1d40"/>')
    new = revise(model, old, "us at the beach", "make the sky darker")
    assert (old.svg, old.png) == (old_svg, old_png)
    assert new.svg != old.svg and "#0b1d40" in new.svg and "p1sky" not in new.svg
    assert 'cx="335"' in new.svg and "#1e5aa8" in new.svg  # the sun and sea kept
    assert len(model.calls) == 2  # the plan and the sky only
    assert "make the sky darker" in model.calls[0].messages[-1].content
    assert model.calls[1].messages[:-2] == model.calls[0].messages


def test_revise_with_the_same_plan_redraws_every_part() -> None:
    old = draw(model_with(PLAN, SKY, SEA, SUN, US), "us at the beach")
    model = model_with(PLAN, SKY.replace("#5fa8e8", "#123456"), SEA, SUN, US)
    new = revise(model, old, "us at the beach", "make the sky darker")
    assert len(model.calls) == 5
    assert "#123456" in new.svg and "#123456" not in old.svg


def test_kept_gradients_stay_unique_through_revisions() -> None:
    old = draw(model_with(PLAN, SKY, SEA, SUN, US), "us at the beach")
    dog = (SKY.replace('y="0" width="400" height="150"', 'y="250" width="30" height="20"')
           + '\n<circle cx="60" cy="260" r="15" fill="url(#sky)"/>')
    model = model_with(PLAN + "dog: lower left, small brown dog\n", dog)
    new = revise(model, old, "us at the beach", "add a dog")
    ids = [e.get("id") for e in fromstring(new.svg).iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    assert new.elements == old.elements + 2


@pytest.mark.parametrize(("where", "box"), [
    ("upper right", (250, 0, 400, 110)), ("bottom half", (0, 150, 400, 300)),
    ("lower middle", (100, 190, 300, 300)), ("middle", (100, 80, 300, 220)),
    ("whole canvas", (0, 0, 400, 300)), ("top of the cat", None), ("somewhere", None)])
def test_the_where_of_a_plan_line_names_a_box(where: str, box: object) -> None:
    assert region(where) == box


def test_her_words_are_one_first_person_sentence() -> None:
    model = model_with("I drew us by the sea, and I love how small the sun looks. Second.")
    said = her_words(model, "us at the beach", PLAN.splitlines())
    assert said == "I drew us by the sea, and I love how small the sun looks."
    assert "sun: upper right, yellow circle" in model.calls[0].messages[0].content


def test_her_words_fall_back_to_her_own_line() -> None:
    said = her_words(model_with("<rect/> Sky."), "us at the beach", PLAN.splitlines())
    assert said.startswith(("I ", "Here it is")) and "<" not in said
    assert said == her_words(model_with("Blue."), "us at the beach", PLAN.splitlines())
