"""Every SVG she renders or shows passes ``sanitise``: hostile files are refused with a
message naming what was found, harmless unknown parts are dropped and the shapes kept."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from os1.making.drawing.svg_safety import sanitise
from os1.making.errors import HostileSvg

NS = "http://www.w3.org/2000/svg"
HEAD = f'<svg xmlns="{NS}" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 400 300">'


def svg(body: str) -> str:
    return f"{HEAD}{body}</svg>"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text x="1" y="10">&lol9;</text></svg>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text x="1" y="10">&secret;</text></svg>"""

HOSTILE = [
    ("script", svg('<script>alert(1)</script><rect width="5" height="5"/>'),
     "a <script> element"),
    ("onload", f'<svg xmlns="{NS}" onload="alert(1)"><rect width="5" height="5"/></svg>',
     "event handler: <svg onload"),
    ("xlink href to http", svg('<use xlink:href="http://evil.example/x.svg#a"/>'),
     'refers outside itself: <use href="http://evil.example/x.svg#a"'),
    ("href to a file", svg('<a href="file:///etc/passwd"><rect width="5" height="5"/></a>'),
     'refers outside itself: <a href="file:///etc/passwd"'),
    ("image with data", svg('<image href="data:image/png;base64,iVBORw0KGgo=" width="9"/>'),
     "an <image> element"),
    ("foreignObject",
     svg('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>'),
     "a <foreignObject> element"),
    ("billion laughs", BILLION_LAUGHS, "billion laughs"),
    ("external entity", XXE, 'external entity (SYSTEM "file:///etc/passwd")'),
    ("huge width", f'<svg xmlns="{NS}" width="100000" height="10"/>',
     'too big: width="100000"'),
    ("huge viewBox", f'<svg xmlns="{NS}" viewBox="0 0 9000 10"/>', 'too big: viewBox'),
    ("style import", svg("<style>@import url(http://x);</style>"), "<style> with @import"),
    ("style url", svg("<style>rect { fill: url(http://x/y.svg#p) }</style>"),
     "url(http://x/y.svg#p) in <style>"),
    ("url in fill", svg('<rect width="5" height="5" fill="url(http://evil.example/p)"/>'),
     "url(http://evil.example/p) in <rect>"),
    ("processing instruction",
     '<?xml-stylesheet href="http://evil.example/s.css"?>' + svg(""),
     "processing instruction (<?xml-stylesheet"),
    ("too many elements", svg('<rect width="1" height="1"/>' * 2001),
     "more than 2000 elements"),
    ("not svg", "<html><body/></html>", "its root element is <html>"),
    ("not xml", "<svg><rect></svg>", "not well-formed"),
]


@pytest.mark.parametrize(("case", "text", "message"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_svg_is_refused_with_a_precise_message(case: str, text: str,
                                                       message: str) -> None:
    with pytest.raises(HostileSvg) as refused:
        sanitise(text)
    assert message in str(refused.value), (case, str(refused.value))


def test_three_megabytes_are_refused_before_parsing() -> None:
    big = svg('<rect width="1" height="1"/>' * 110_000)
    assert len(big) > 3_000_000
    with pytest.raises(HostileSvg, match=r"3,\d{3},\d{3} bytes; at most 1,000,000"):
        sanitise(big)


def test_billion_laughs_never_expands() -> None:
    """Refused at the DOCTYPE: had one entity expanded, the message would not be this
    one and the test would take seconds and gigabytes."""
    with pytest.raises(HostileSvg, match="refused before any expansion"):
        sanitise(BILLION_LAUGHS.encode("utf-8"))


BENIGN = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- made by hand -->
<svg xmlns="{NS}" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     width="400" height="300" viewBox="0 0 400 300" inkscape:version="1.3" class="art">
  <title>A sunny day</title>
  <metadata><rdf xmlns="urn:x">x</rdf></metadata>
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#5fa8e8"/><stop offset="1" stop-color="#cfe8ff"/>
    </linearGradient>
    <filter id="blur"><feGaussianBlur stdDeviation="3"/></filter>
  </defs>
  <rect x="0" y="0" width="400" height="160" fill="url(#sky)" data-layer="1"/>
  <circle cx="335" cy="60" r="32" style="fill:#ffd34d; stroke:none; cursor:pointer"
          filter="url(#blur)"/>
  <g transform="translate(10 20)" inkscape:label="house">
    <path d="M 100 200 L 160 150 L 220 200 Z" fill="#b33"/>
    <text x="160" y="280" font-size="14" text-anchor="middle">Home <tspan>sweet</tspan> home</text>
  </g>
  <rect width="5" height="5" fill="url(#nowhere)"/>
  <use href="#sky"/>
</svg>"""


def test_benign_svg_keeps_its_shapes_and_drops_the_unknown() -> None:
    clean = sanitise(BENIGN)
    root = fromstring(clean)
    tags = [e.tag.split("}")[1] for e in root.iter()]
    assert tags == ["svg", "defs", "linearGradient", "stop", "stop", "rect", "circle", "g",
                    "path", "text", "tspan", "rect"]
    rect, circle = root.find(f"{{{NS}}}rect"), root.find(f"{{{NS}}}circle")
    assert rect is not None and circle is not None
    assert rect.attrib == {"x": "0", "y": "0", "width": "400", "height": "160",
                           "fill": "url(#sky)"}
    assert circle.attrib == {"fill": "#ffd34d", "stroke": "none", "cx": "335", "cy": "60",
                             "r": "32"}  # the style's known properties, no filter
    path = root.find(f".//{{{NS}}}path")
    assert path is not None and path.get("d") == "M 100 200 L 160 150 L 220 200 Z"
    assert "".join(root.itertext()).split() == ["Home", "sweet", "home"]
    for dropped in ("inkscape", "class=", "data-layer", "title", "sunny", "metadata",
                    "filter", "cursor", "nowhere", "<use"):
        assert dropped not in clean
    assert root.get("viewBox") == "0 0 400 300"


def test_sanitised_svg_is_stable() -> None:
    once = sanitise(BENIGN)
    assert sanitise(once) == once


def test_text_is_escaped_on_the_way_out() -> None:
    clean = sanitise(svg('<text x="1" y="9">a &lt;script&gt; &amp; b</text>'))
    assert "<script>" not in clean
    assert "a &lt;script&gt; &amp; b" in clean


def test_local_references_and_sizes_within_bounds_are_accepted() -> None:
    clean = sanitise(f'<svg xmlns="{NS}" width="4096px" height="300">'
                     '<linearGradient id="g"><stop offset="0"/></linearGradient>'
                     "<rect width='9' height='9' fill=\"url('#g')\"/></svg>")
    assert "url('#g')" in clean
    assert 'width="4096px"' in clean
