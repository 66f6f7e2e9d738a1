"""A local Strava: the OAuth token endpoint, athlete stats and the activities list, shaped like
Strava's documented answers (developers.strava.com/docs/reference)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from ported_api_server import PortedAPI, json_reply
from werkzeug.wrappers import Request, Response

CLIENT_ID = "12345"
CLIENT_SECRET = "fc6243f283e51f6ca989aab298b17da125496f50"
REFRESH_TOKEN = "e5f567567ab6d2e0ee50ae1f4a4b1f2a2b3c4d5e"
ACCESS_TOKEN = "a4b945687g6e2f9c8d7e6f5a4b3c2d1e0f9a8b7c"
ATHLETE_ID = 17831421


def _activity(i: int) -> dict[str, Any]:
    start = dt.datetime(2024, 1, 1, 7, 0, tzinfo=dt.UTC) + dt.timedelta(days=i)
    return {
        "resource_state": 2,
        "athlete": {"id": ATHLETE_ID, "resource_state": 1},
        "name": f"Morning Run {i}",
        "distance": 5000.0 + i,
        "moving_time": 1500 + i,
        "type": "Run",
        "sport_type": "Run",
        "id": 10_000_000 + i,
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": "(GMT+00:00) Europe/London",
        "kudos_count": i % 7,
    }


STATS = {
    "biggest_ride_distance": 175454.0,
    "biggest_climb_elevation_gain": 1882.6999999999998,
    "recent_ride_totals": {
        "count": 1,
        "distance": 25012.0,
        "moving_time": 3600,
        "elapsed_time": 4000,
        "elevation_gain": 120.0,
        "achievement_count": 0,
    },
    "all_run_totals": {
        "count": 70,
        "distance": 353500.0,
        "moving_time": 107415,
        "elapsed_time": 110000,
        "elevation_gain": 0.0,
    },
}


class FakeStrava(PortedAPI):
    """70 activities, one a day from 2024-01-01; Strava's page/per_page paging and `after` (epoch) filter."""

    def __init__(self) -> None:
        super().__init__()
        self.activities = [_activity(i) for i in range(70)]
        self.tokens_issued = 0

    def answer(self, request: Request) -> Response:
        if request.path == "/oauth/token":
            form = request.form
            if (
                form.get("grant_type"),
                form.get("client_id"),
                form.get("client_secret"),
                form.get("refresh_token"),
            ) != ("refresh_token", CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN):
                return json_reply(
                    {"message": "Bad Request", "errors": [{"resource": "RefreshToken", "code": "invalid"}]},
                    400,
                )
            self.tokens_issued += 1
            return json_reply(
                {
                    "token_type": "Bearer",
                    "access_token": ACCESS_TOKEN,
                    "expires_at": int(time.time()) + 21600,
                    "expires_in": 21600,
                    "refresh_token": REFRESH_TOKEN,
                }
            )
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return json_reply(
                {"message": "Authorization Error", "errors": [{"resource": "Athlete", "code": "invalid"}]},
                401,
            )
        if request.path == f"/api/v3/athletes/{ATHLETE_ID}/stats":
            return json_reply(STATS)
        if request.path == "/api/v3/athlete/activities":
            after = int(request.args.get("after", "0"))
            page, per_page = int(request.args.get("page", "1")), int(request.args.get("per_page", "30"))
            chosen = [a for a in self.activities if _epoch(a["start_date"]) > after]
            return json_reply(chosen[(page - 1) * per_page : page * per_page])
        return json_reply({"message": "Record Not Found"}, 404)


def _epoch(text: str) -> int:
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp())
