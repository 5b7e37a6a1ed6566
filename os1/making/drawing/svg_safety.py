"""Make any SVG safe to render and to show: hers (the model's) and any he uploads or is
sent. Nothing reaches a renderer or a browser without passing through ``sanitise``.

Why reject some things and drop others: what only an attack would write (a script, an
event handler, a reference outside the drawing, an entity, a foreign object, absurd
dimensions) says the file itself cannot be trusted, so the whole file is refused with
a message naming what was found. What is merely unknown (an editor's metadata, a class,
a filter, a title) is harmless but unneeded: it is left out and the rest is kept.

Rejected (HostileSvg), anywhere in the file, even inside parts that would be dropped:
input over 1 MB; a DOCTYPE (so entity declarations, billion laughs and external
entities never expand); a processing instruction; not well-formed XML or a root other
than <svg>; <script>, <foreignObject>, <image>, <iframe>, <embed>, <object>; any on*
event attribute; an href or xlink:href not starting with "#" (on <use> or anything
else); url(...) to anything but a local "#id"; a <style> with @import or an outside url;
width, height or viewBox size over 4096 on an <svg>; more than 2000 elements.

Dropped (the rest kept): elements outside KEPT_ELEMENTS (with their content: <style>,
<title>, <metadata>, <filter>, <a>, local <use>, animation), attributes outside
KEPT_ATTRIBUTES (class, data-*, editor namespaces, local hrefs), a url(#id) whose id is
not in the kept drawing, and text outside <text>. A ``style`` attribute's kept
properties become attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.sax.saxutils import escape, quoteattr

from defusedxml import (  # type: ignore[import-untyped]
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]

from os1.making.errors import HostileSvg

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_BYTES = 1_000_000
MAX_ELEMENTS = 2000
MAX_SIZE = 4096.0

KEPT_ELEMENTS = frozenset({
    "svg", "g", "defs", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "path", "text", "tspan", "linearGradient", "radialGradient", "stop",
})
SHAPES = frozenset({"rect", "circle", "ellipse", "line", "polyline", "polygon", "path",
                    "text"})
REJECTED_ELEMENTS = {
    "script": "a <script> element",
    "foreignObject": "a <foreignObject> element (HTML inside the drawing)",
    "image": "an <image> element (a picture from outside the drawing)",
    "iframe": "an <iframe> element", "embed": "an <embed> element",
    "object": "an <object> element",
}
KEPT_ATTRIBUTES = frozenset({
    "id", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr",
    "width", "height", "points", "d", "viewBox", "preserveAspectRatio", "transform",
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "opacity",
    "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform",
    "spreadMethod", "font-size", "font-family", "font-weight", "font-style",
    "text-anchor", "dx", "dy",
})
TEXT_HOLDERS = frozenset({"text", "tspan"})
URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
LOCAL_ID = re.compile(r"#[A-Za-z_][\w.-]*")
UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 3.7795, "cm": 37.795,
         "in": 96.0, "em": 16.0, "ex": 8.0}
LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z%]*)\s*$")


def sanitise(svg: str | bytes) -> str:
    """The drawing as safe SVG text, or HostileSvg naming what made it unsafe."""
    root = parse(svg)
    check(root)
    return serialise(kept(root))


def parse(svg: str | bytes) -> Element:
    """The XML tree, parsed without ever expanding an entity or reading a DTD."""
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    if len(data) > MAX_BYTES:
        raise HostileSvg(f"The SVG is {len(data):,} bytes; at most {MAX_BYTES:,} are "
                         "accepted.")
    parser = DefusedXMLParser(target=_Builder(), forbid_dtd=True)
    try:
        parser.feed(data)
        root: Element = parser.close()
    except DTDForbidden as exc:
        raise HostileSvg(_doctype_message(data)) from exc
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:  # pragma: no cover
        raise HostileSvg(f"The SVG declares entities ({exc}).") from exc
    except ParseError as exc:
        raise HostileSvg(f"This is not well-formed SVG ({exc}).") from exc
    if local(root.tag) != "svg":
        raise HostileSvg(f"This is not an SVG: its root element is <{local(root.tag)}>.")
    return root


class _Builder(TreeBuilder):
    """A tree builder that refuses processing instructions (``<?xml-stylesheet?>``
    would load a stylesheet from outside), even before the root element, where the
    standard builder drops them unseen."""

    def pi(self, target: str, text: str | None = None) -> Element:
        raise HostileSvg(f"The SVG has a processing instruction (<?{target} "
                         f"{(text or '')[:80]}?>).")


def _doctype_message(data: bytes) -> str:
    """Which kind of DOCTYPE it was: he should know whether it was an attack."""
    head = data[:4096].decode("utf-8", "replace")
    entity = re.search(r"<!ENTITY[^>]*?\b(SYSTEM|PUBLIC)\s+(['\"])(.*?)\2", head)
    if entity:
        return (f"The SVG declares an external entity ({entity.group(1)} "
                f"\"{entity.group(3)}\"), which would read a file or a URL: refused.")
    if "<!ENTITY" in head:
        return ("The SVG declares entities in a DOCTYPE (an entity expansion such as "
                "\"billion laughs\"): refused before any expansion.")
    return "The SVG has a DOCTYPE; none is accepted (entities could hide in it)."


def local(tag: object) -> str:
    """``rect`` for ``{http://www.w3.org/2000/svg}rect``."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else "?"


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def check(root: Element) -> None:
    """HostileSvg for the first hostile thing anywhere in the tree."""
    for count, element in enumerate(root.iter(), start=1):
        if count > MAX_ELEMENTS:
            raise HostileSvg(f"The SVG has more than {MAX_ELEMENTS} elements.")
        name = local(element.tag)
        if name in REJECTED_ELEMENTS:
            raise HostileSvg(f"The SVG has {REJECTED_ELEMENTS[name]}.")
        for attribute, value in element.attrib.items():
            _check_attribute(name, local(attribute), value)
        if name == "style":
            _check_style(element.text or "")
        if name == "svg":
            _check_size(element)


def _check_attribute(element: str, name: str, value: str) -> None:
    if name.lower().startswith("on"):
        raise HostileSvg(f"The SVG has an event handler: <{element} {name}=...>.")
    if name == "href" and not value.strip().startswith("#"):
        raise HostileSvg(f"The SVG refers outside itself: <{element} href=\"{value[:80]}\">.")
    _check_urls(element, value)


def _check_urls(where: str, text: str) -> None:
    for match in URL.finditer(text):
        if not LOCAL_ID.fullmatch(match.group(2).strip()):
            raise HostileSvg(f"The SVG refers outside itself: url({match.group(2)[:80]}) "
                             f"in <{where}>.")


def _check_style(css: str) -> None:
    if "@import" in css.lower():
        raise HostileSvg("The SVG has a <style> with @import (a stylesheet from outside).")
    _check_urls("style", css)


def _check_size(svg: Element) -> None:
    for name in ("width", "height"):
        value = svg.get(name)
        if value is not None and (size := length(value)) is not None and size > MAX_SIZE:
            raise HostileSvg(f"The SVG is too big: {name}=\"{value}\" (at most "
                             f"{MAX_SIZE:.0f}).")
    box = (svg.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            w, h = abs(float(box[2])), abs(float(box[3]))
        except ValueError:
            return
        if max(w, h) > MAX_SIZE:
            raise HostileSvg(f"The SVG is too big: viewBox=\"{svg.get('viewBox')}\" "
                             f"(at most {MAX_SIZE:.0f} wide and tall).")


def length(value: str) -> float | None:
    """A length in pixels; None for a percentage or what is not a length."""
    match = LENGTH.match(value)
    if match is None or match.group(2) not in UNITS:
        return None
    return abs(float(match.group(1))) * UNITS[match.group(2)]


def kept(root: Element) -> Element:
    """A new tree of only the allowlisted elements and attributes."""
    clean = _kept_element(root)
    assert clean is not None  # the root is an <svg>, checked by parse
    ids = {e.get("id") for e in clean.iter() if e.get("id")}
    for element in clean.iter():
        for name, value in list(element.attrib.items()):
            targets = [m.group(2).strip()[1:] for m in URL.finditer(value)]
            if any(t not in ids for t in targets):
                del element.attrib[name]
    return clean


def _kept_element(element: Element) -> Element | None:
    name = local(element.tag)
    if not isinstance(element.tag, str) or namespace(element.tag) not in ("", SVG_NS):
        return None
    if name not in KEPT_ELEMENTS:
        return None
    clean = Element(name, _kept_attributes(element))
    if name in TEXT_HOLDERS:
        clean.text = element.text
    for child in element:
        kept_child = _kept_element(child)
        if kept_child is not None:
            if name in TEXT_HOLDERS:
                kept_child.tail = child.tail
            clean.append(kept_child)
    return clean


def _kept_attributes(element: Element) -> dict[str, str]:
    attributes = dict(_style_properties(element.get("style", "")))
    for name, value in element.attrib.items():
        if namespace(name) == "" and name in KEPT_ATTRIBUTES:
            attributes[name] = value
    return attributes


def _style_properties(style: str) -> Iterator[tuple[str, str]]:
    """The kept properties of a ``style`` attribute ("fill:red; stroke:none")."""
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if colon and name in KEPT_ATTRIBUTES and value and "{" not in value:
            yield name, value


def serialise(root: Element, *, top: bool = True) -> str:
    """SVG text; ``top``: the root declares the SVG namespace as the default one."""
    return "".join(_pieces(root, top=top))


def _pieces(element: Element, top: bool = False) -> Iterator[str]:
    tag = local(element.tag)
    attributes = (f' xmlns="{SVG_NS}"' if top else "") + "".join(
        f" {name}={quoteattr(value)}" for name, value in element.attrib.items())
    if not len(element) and not element.text:
        yield f"<{tag}{attributes}/>"
    else:
        yield f"<{tag}{attributes}>"
        if element.text:
            yield escape(element.text)
        for child in element:
            yield from _pieces(child)
            if tag in TEXT_HOLDERS:
                yield escape(child.tail or "")
            else:
                yield "\n"
        yield f"</{tag}>"
