"""The load-time check of a template's constant parts: ``'a' * 10**10``, ``range(10**6)`` and
``lipsum(10**6)`` already break a limit before anything is rendered, so loading the spec fails and
``validate`` reports it. Parts that depend on the render's values are left to the render.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes

from connector_core.engine.template_budget import TemplateLimitError
from connector_core.engine.template_value_checks import (
    bounded_lipsum,
    bounded_range,
    check_binop,
    checked,
    is_int,
)


class _Unknown:
    pass


_UNKNOWN = _Unknown()
_BINOPS: dict[type[nodes.BinExpr], str] = {
    nodes.Add: "+",
    nodes.Sub: "-",
    nodes.Mul: "*",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
    nodes.Mod: "%",
    nodes.Pow: "**",
}


def check_constants(ast: nodes.Template, binops: Mapping[str, Callable[[Any, Any], Any]]) -> None:
    """Raise TemplateLimitError if a constant part of ``ast`` (``'a' * 10**10``) already breaks a limit."""
    for node in ast.find_all((nodes.BinExpr, nodes.Concat, nodes.Call)):
        _fold(node, binops)


def _fold(node: nodes.Node, binops: Mapping[str, Callable[[Any, Any], Any]]) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_fold(item, binops) for item in node.items]
        if any(item is _UNKNOWN for item in items):
            return _UNKNOWN
        return items if isinstance(node, nodes.List) else tuple(items)
    if isinstance(node, nodes.Neg | nodes.Pos):
        value = _fold(node.node, binops)
        if is_int(value):
            return -value if isinstance(node, nodes.Neg) else value
        return _UNKNOWN
    if isinstance(node, nodes.BinExpr) and type(node) in _BINOPS:
        operator = _BINOPS[type(node)]
        left, right = _fold(node.left, binops), _fold(node.right, binops)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        check_binop(operator, left, right)
        try:
            return checked(binops[operator](left, right), f"'{operator}'")
        except TemplateLimitError:
            raise
        except Exception:
            return _UNKNOWN  # 1/0 and the like fail when the template renders, as before
    if isinstance(node, nodes.Concat):
        parts = [_fold(part, binops) for part in node.nodes]
        if any(part is _UNKNOWN for part in parts):
            return _UNKNOWN
        return checked("".join(str(part) for part in parts), "'~'")
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name in ("range", "lipsum")
    ):
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return _UNKNOWN
        args = [_fold(arg, binops) for arg in node.args]
        kwargs = {kw.key: _fold(kw.value, binops) for kw in node.kwargs}
        if any(v is _UNKNOWN or not is_int(v) for v in [*args, *kwargs.values()]):
            return _UNKNOWN
        try:
            if node.node.name == "range":
                return bounded_range(*args, **kwargs)
            bounded_lipsum(*args, **kwargs)
        except TypeError:
            pass  # a wrong argument fails when the template renders, as before
    return _UNKNOWN


__all__ = ["check_constants"]
