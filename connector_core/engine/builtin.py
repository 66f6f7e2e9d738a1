"""connector-core's own components, registered through the same hooks as any plugin."""

from __future__ import annotations

from connector_core.engine.auth import BUILTIN_AUTH_TYPES, AuthModel
from connector_core.engine.link_pagination import LinkHeaderPaginator
from connector_core.engine.pagination import BUILTIN_PAGINATORS, PaginatorModel
from connector_core.hookspecs import hookimpl


@hookimpl
def connector_register_auth_types() -> list[type[AuthModel]]:
    return list(BUILTIN_AUTH_TYPES)


@hookimpl
def connector_register_paginators() -> list[type[PaginatorModel]]:
    return [*BUILTIN_PAGINATORS, LinkHeaderPaginator]
