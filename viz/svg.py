"""Graphviz's SVG inside an HTML page or a notebook cell, sized so its text stays readable.

The rule, the same for `draw()` in Jupyter, a step-through frame and the `export_html` page: a
drawing is shown at its natural size when that fits; where the space is narrower it shrinks to
the width available, but only as far as its smallest text stays at least `MIN_TEXT_PX` pixels
high; beyond that it keeps that size and the space scrolls sideways.

Graphviz writes sizes in points (1 pt = 4/3 CSS px): the root's `width="…pt"` and each text's
`font-size` in the units of the `viewBox`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = ["MIN_TEXT_PX", "Fit", "fit", "fitted_html", "inline_svg"]

MIN_TEXT_PX = 10.0  # the smallest text a class can still read on a projected or laptop screen
PX_PER_PT = 4 / 3


@dataclass(frozen=True)
class Fit:
    """How wide one drawing may be shown, in CSS pixels."""

    natural_px: float  # its size as Graphviz drew it
    smallest_text_px: float  # its smallest text at that size
    min_px: float  # the narrowest it may be shrunk to: its smallest text is then MIN_TEXT_PX

    def css(self) -> str:
        """The declarations that apply the rule to an `<svg>` in a box with `overflow-x: auto`."""
        return (
            f"display: block; width: 100%; max-width: {self.natural_px:.0f}px; "
            f"min-width: {self.min_px:.0f}px; height: auto"
        )


def _points(length: str | None) -> float:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(pt|px)?\s*", length or "")
    if match is None:
        raise ValueError(f"not an SVG length in pt or px: {length!r:.40}")
    number = float(match.group(1))
    return number if match.group(2) in (None, "pt") else number / PX_PER_PT


def fit(svg: str) -> Fit:
    """The sizes of Graphviz's SVG text `svg` (see the module notes)."""
    root = ET.fromstring(svg)
    width_pt = _points(root.get("width"))
    view_box = (root.get("viewBox") or "").split()
    scale = width_pt / float(view_box[2]) if len(view_box) == 4 and float(view_box[2]) > 0 else 1.0
    sizes = [float(size) for element in root.iter() if (size := element.get("font-size")) is not None]
    smallest = min(sizes, default=14.0) * scale * PX_PER_PT  # Graphviz's default font is 14 pt
    natural = width_pt * PX_PER_PT
    return Fit(natural, smallest, natural * min(1.0, MIN_TEXT_PX / smallest))


def fitted_html(svg: str) -> str:
    """`svg` (Graphviz's SVG file) as an HTML element for a notebook cell, with the rule as inline
    style: the picture fills the cell down to its smallest readable size, then the cell scrolls."""
    sizes = fit(svg)
    element = inline_svg(svg)
    element = element.replace("<svg ", f'<svg style="{sizes.css()}" ', 1)
    return f'<div class="micrograd-drawing" style="overflow-x: auto; max-width: 100%">{element}</div>'


def inline_svg(svg: str) -> str:
    """Graphviz's SVG file as an element to put inside an HTML page.

    Dropped: the XML prolog and DOCTYPE (which names an external DTD), comments, the namespace
    declarations (HTML knows `<svg>` without them), `id`s (they would repeat across frames),
    `<title>` tooltips (they show Graphviz's internal node ids, not the names of the equations)
    and any link. Text is re-escaped by ElementTree, so a label cannot close the element.
    """
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            if _local(child.tag) in ("title", "a", "script", "style", "image", "foreignObject"):
                parent.remove(child)
    for element in root.iter():
        element.tag = _local(element.tag)
        if element.tag != "text" and element.text is not None and not element.text.strip():
            element.text = "\n"
        if element.tail is not None and not element.tail.strip():
            element.tail = "\n"  # where a comment or a title was
        for key in list(element.attrib):
            name = _local(key)
            if name in ("id", "style") or "href" in name or name.startswith("on") or key != name:
                del element.attrib[key]
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def _local(name: str) -> str:
    """A tag or attribute name without its `{namespace}`."""
    return name.rsplit("}", 1)[-1]
