"""The drawing layer: a plain diagram model, a layered layout, SVG written directly and a
matplotlib renderer for PNG (both from the same scene and layout).

It knows nothing about tensors or autograd; a recorder turns recordings into
:class:`Scene` objects. Example::

    from gradlab.drawing import Box, Edge, Highlight, Scene, layout, render_svg

    s = Scene(
        (Box("a", "leaf", "a", ("data: 2.", "grad: None")),
         Box("c", "branch", "c", ("data: 6.", "grad_fn: <MulBackward0>")),
         Box("c.fn", "node", "MulBackward0", anchor="c"),
         Box("a.acc", "node", "AccumulateGrad", anchor="a")),
        (Edge("a", "c", "forward", "*"), Edge("c", "c.fn", "grad_fn"),
         Edge("c.fn", "a.acc", "next", "0"), Edge("a.acc", "a", "variable")),
    )
    lay = layout(s)                        # or layout(all_frames): positions never jump
    svg = render_svg(s, lay, Highlight(active={"c.fn"}))

The PNG names (``Renderer``, ``render_png``...) import matplotlib on first use; the rest
does not.
"""

from typing import Any

from .layout import DIRECTIONS, EdgeKey, Layout, Rect, Route, edge_keys, layout
from .scene import BOX_KINDS, EDGE_KINDS, TENSOR_KINDS, Box, Edge, FrozenMap, Highlight, Scene
from .svg import PALETTE, edge_id, render_svg

_PNG = ("DEFAULT_DPI", "Renderer", "get_renderer", "render_png")


def __getattr__(name: str) -> Any:
    if name in _PNG:
        from . import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BOX_KINDS",
    "DEFAULT_DPI",
    "DIRECTIONS",
    "EDGE_KINDS",
    "PALETTE",
    "TENSOR_KINDS",
    "Box",
    "Edge",
    "EdgeKey",
    "FrozenMap",
    "Highlight",
    "Layout",
    "Rect",
    "Renderer",
    "Route",
    "Scene",
    "edge_id",
    "edge_keys",
    "get_renderer",
    "layout",
    "render_png",
    "render_svg",
]
