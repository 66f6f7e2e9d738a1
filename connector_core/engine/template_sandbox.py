"""The bounded sandbox: jinja's immutable sandbox whose hooks keep a render within its limits.

``call_binop`` and ``call`` check an operation before it runs and measure its result after
(``template_value_checks``), tick the render's clock and count nested calls (``template_budget``);
``range`` and ``lipsum`` are the bounded ones. Every template it compiles has its syntax tree rewritten
so each ``{% for %}`` iterates through a counting filter, each piece of text written (inside macros and
``{% set %}`` blocks too) is tallied, and each ``~`` concatenation is measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from connector_core.engine.template_budget import counted, current_budget, tick
from connector_core.engine.template_filter_checks import INTERNAL_FILTER_PREFIX
from connector_core.engine.template_value_checks import (
    bounded_lipsum,
    bounded_range,
    check_binop,
    check_call,
    checked,
)

_LOOP, _WRITE, _CONCAT = (
    f"{INTERNAL_FILTER_PREFIX}loop",
    f"{INTERNAL_FILTER_PREFIX}write",
    f"{INTERNAL_FILTER_PREFIX}concat",
)


@pass_context  # never folded into a constant at compile time
def _loop_filter(context: Context, iterable: Any) -> Iterator[Any]:
    return counted(iterable)


@pass_context
def _write_filter(context: Context, value: Any, literal: int = 0) -> Any:
    """Count ``value`` and ``literal`` characters of template text written next to it."""
    budget = current_budget()
    if budget is not None:
        budget.write(literal + len(value if isinstance(value, str) else str(value)))
    return value


@pass_context
def _concat_filter(context: Context, value: Any) -> Any:
    return checked(value, "'~'")


class _Bounder(NodeTransformer):
    """Routes loops, written text and ``~`` through the budget (see the module docstring)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _CONCAT, [], [], None, None, lineno=node.lineno)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        # One tally per expression written; the first also counts the node's literal text.
        self.generic_visit(node)
        literal = sum(len(child.data) for child in node.nodes if isinstance(child, nodes.TemplateData))
        children: list[nodes.Expr] = []
        for child in node.nodes:
            if not isinstance(child, nodes.TemplateData):
                child = nodes.Filter(
                    child, _WRITE, [nodes.Const(literal)], [], None, None, lineno=child.lineno
                )
                literal = 0
            children.append(child)
        if literal:
            children.append(
                nodes.Filter(
                    nodes.Const(""), _WRITE, [nodes.Const(literal)], [], None, None, lineno=node.lineno
                )
            )
        node.nodes = children
        return node


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """jinja's immutable sandbox with the render's limits kept by its hooks (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = bounded_range
        self.globals["lipsum"] = bounded_lipsum
        self.filters.update({_LOOP: _loop_filter, _WRITE: _write_filter, _CONCAT: _concat_filter})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        tick()
        check_binop(operator, left, right)
        return checked(self.binop_table[operator](left, right), f"'{operator}'")

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        tick()
        check_call(obj, args, kwargs)
        budget = current_budget()
        if budget is None:
            return checked(super().call(context, obj, *args, **kwargs), "a call")
        budget.enter_call()
        try:
            return checked(super().call(context, obj, *args, **kwargs), "a call")
        finally:
            budget.leave_call()

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        # The one place every compiled template passes through (from_string and compile_expression alike).
        return super()._generate(_Bounder().visit(source), name, filename, defer_init=defer_init)


__all__ = ["BoundedSandbox"]
