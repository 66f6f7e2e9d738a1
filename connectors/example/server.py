"""A small stateful shop API on loopback, for the tutorial, `connector-core demo` and engine tests.

Endpoints (API key in the ``X-API-Key`` header):

* ``GET /api/ping``
* ``GET /api/customers?offset=&limit=&updated_since=`` → ``{"data": [...], "total": N}`` (offset pages)
* ``GET /api/customers/<id>``; ``POST /api/customers`` → 201 + ``Location``; ``PUT``/``DELETE /api/customers/<id>``
* ``GET /api/orders?cursor=&limit=`` → ``{"orders": [...], "next_cursor": "..."}`` (cursor pages)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import EmulatorServer

EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopData:
    """Deterministic customers and orders."""

    def __init__(self, customers: int = 250, orders: int = 120, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.lock = threading.Lock()
        self.customers: dict[int, dict[str, Any]] = {}
        for i in range(1, customers + 1):
            self.customers[i] = {
                "id": i,
                "name": f"Customer {i:05d}",
                "email": f"customer{i}@example.test",
                "country": rng.choice(["DE", "FR", "GB", "US", "NL"]),
                "updated_at": _iso(EPOCH + dt.timedelta(minutes=17 * i)),
            }
        self.next_id = customers + 1
        self.orders = [
            {"id": f"o-{i}", "customer_id": rng.randint(1, max(customers, 1)), "total": round(rng.uniform(5, 500), 2)}
            for i in range(1, orders + 1)
        ]


class ShopAPI:
    def __init__(self, data: ShopData, api_key: str = "demo-key") -> None:
        self.data = data
        self.api_key = api_key
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        self.requests += 1
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.headers.get("X-API-Key") != self.api_key:
            return _json({"error": "invalid api key"}, 401)
        parts = [p for p in request.path.split("/") if p]
        if parts[:1] != ["api"]:
            return _json({"error": "not found"}, 404)
        if parts[1:] == ["ping"]:
            return _json({"ok": True})
        if parts[1:2] == ["customers"]:
            if len(parts) == 2:
                return self.list_customers(request) if request.method == "GET" else self.create_customer(request)
            if len(parts) == 3 and parts[2].isdigit():
                return self.customer(request, int(parts[2]))
        if parts[1:] == ["orders"]:
            return self.list_orders(request)
        return _json({"error": "not found"}, 404)

    def list_customers(self, request: Request) -> Response:
        offset = int(request.args.get("offset", 0))
        limit = min(int(request.args.get("limit", 50)), 100)
        since = request.args.get("updated_since")
        with self.data.lock:
            rows = sorted(self.data.customers.values(), key=lambda c: c["id"])
        if since:
            rows = [r for r in rows if r["updated_at"] >= since]
        return _json({"data": rows[offset : offset + limit], "total": len(rows)})

    def create_customer(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("name"):
            return _json({"error": "name is required", "field": "name"}, 422)
        with self.data.lock:
            new_id = self.data.next_id
            self.data.next_id += 1
            self.data.customers[new_id] = {
                "id": new_id,
                "name": body["name"],
                "email": body.get("email"),
                "country": body.get("country"),
                "updated_at": _iso(dt.datetime.now(dt.UTC)),
            }
        response = _json(self.data.customers[new_id], 201)
        response.headers["Location"] = f"{request.host_url.rstrip('/')}/api/customers/{new_id}"
        return response

    def customer(self, request: Request, customer_id: int) -> Response:
        with self.data.lock:
            record = self.data.customers.get(customer_id)
            if record is None:
                return _json({"error": f"customer {customer_id} does not exist"}, 404)
            if request.method == "DELETE":
                del self.data.customers[customer_id]
                return Response(status=204)
            if request.method == "PUT":
                body = request.get_json(silent=True) or {}
                record.update({k: v for k, v in body.items() if k in ("name", "email", "country")})
                record["updated_at"] = _iso(dt.datetime.now(dt.UTC))
            return _json(record)

    def list_orders(self, request: Request) -> Response:
        start = int(request.args.get("cursor") or 0)
        limit = min(int(request.args.get("limit", 25)), 100)
        rows = self.data.orders[start : start + limit]
        following = start + limit
        return _json({"orders": rows, "next_cursor": str(following) if following < len(self.data.orders) else None})


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class ShopServer(EmulatorServer):
    """Runs the shop API in a background thread: ``with ShopServer() as server: server.url``."""

    def __init__(self, customers: int = 250, orders: int = 120, api_key: str = "demo-key") -> None:
        self.api = ShopAPI(ShopData(customers, orders), api_key)
        super().__init__(self.api, name="example-shop")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the example shop API on loopback.")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--customers", type=int, default=250)
    args = parser.parse_args()
    server = ShopServer(customers=args.customers)
    url = server.start(port=args.port)
    print(json.dumps({"url": url, "api_key": "demo-key"}), flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
