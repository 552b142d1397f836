#!/usr/bin/env python3
"""Serves the live analytics page and the JSON it polls.

    serve.py [--port 8080] [--endpoint-url http://127.0.0.1:8000]

  GET /                 web/index.html (and /app.js, /style.css beside it)
  GET /api/aggregates   the leaderboard and the per-minute revenue, read from
                        the Aggregates table:
    {"leaderboard": [{"rank": 1, "productId": "P23", "name": "RC Car",
                      "category": "toys", "revenue": 31694.8, "orders": 392,
                      "units": 510}, ...],                  top 10, by revenue
     "minutes": ["2026-11-27T09:03", ...],                  oldest first
     "categories": ["books", ...],
     "revenue": {"books": [12.5, 0, ...], ...},             one per minute
     "orders": {"books": [1, 0, ...], ...},
     "updatedAt": "2026-11-27T09:12:31Z"}

The leaderboard is a Query of the table's Leaderboard index (board =
"top-products", highest revenue first, Limit 10); the minutes are a Query of
the "minute-totals" partition, newest first, for the last --minutes minutes
that have orders.
"""

import argparse
import datetime
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.config

WEB_DIR = Path(__file__).resolve().parent / "web"
STATIC = {"/": "index.html", "/index.html": "index.html", "/app.js": "app.js",
          "/style.css": "style.css"}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}


def minute_before(minute, n):
    """"2026-11-27T09:12" minus n minutes."""
    t = datetime.datetime.strptime(minute, "%Y-%m-%dT%H:%M")
    return (t - datetime.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M")


class Aggregates:
    def __init__(self, client, table, minutes):
        self.client = client
        self.table = table
        self.minutes = minutes

    def leaderboard(self):
        items = self.client.query(
            TableName=self.table, IndexName="Leaderboard",
            KeyConditionExpression="board = :b",
            ExpressionAttributeValues={":b": {"S": "top-products"}},
            ScanIndexForward=False, Limit=10)["Items"]
        return [{"rank": rank, "productId": item["productId"]["S"],
                 "name": item["name"]["S"], "category": item["category"]["S"],
                 "revenue": float(item["revenue"]["N"]),
                 "orders": int(item["orders"]["N"]), "units": int(item["units"]["N"])}
                for rank, item in enumerate(items, start=1)]

    def per_minute(self):
        """{minute: {category: (revenue, orders)}} for the latest minutes."""
        out = {}
        kwargs = dict(TableName=self.table, KeyConditionExpression="pk = :pk",
                      ExpressionAttributeValues={":pk": {"S": "minute-totals"}},
                      ScanIndexForward=False)
        newest = None
        while True:
            page = self.client.query(**kwargs)
            for item in page["Items"]:
                minute = item["minute"]["S"]
                newest = newest or minute
                if minute <= minute_before(newest, self.minutes):
                    return out, newest
                out.setdefault(minute, {})[item["category"]["S"]] = (
                    float(item["revenue"]["N"]), int(item["orders"]["N"]))
            if "LastEvaluatedKey" not in page:
                return out, newest
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def snapshot(self):
        by_minute, newest = self.per_minute()
        minutes = ([minute_before(newest, n) for n in range(self.minutes - 1, -1, -1)]
                   if newest else [])
        categories = sorted({c for cats in by_minute.values() for c in cats})
        revenue = {c: [by_minute.get(m, {}).get(c, (0.0, 0))[0] for m in minutes]
                   for c in categories}
        orders = {c: [by_minute.get(m, {}).get(c, (0.0, 0))[1] for m in minutes]
                  for c in categories}
        return {"leaderboard": self.leaderboard(), "minutes": minutes,
                "categories": categories, "revenue": revenue, "orders": orders,
                "updatedAt": datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ")}


def make_handler(aggregates, verbose):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/api/aggregates":
                try:
                    body = json.dumps(aggregates.snapshot()).encode()
                except Exception as e:  # noqa: BLE001 - shown on the page
                    self.send(502, "application/json",
                              json.dumps({"error": str(e)}).encode())
                    return
                self.send(200, "application/json", body)
            elif path in STATIC:
                file = WEB_DIR / STATIC[path]
                self.send(200, TYPES[file.suffix], file.read_bytes())
            else:
                self.send(404, "text/plain", b"not found\n")

        def send(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            if verbose:
                super().log_message(fmt, *args)

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serves the live analytics page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0: pick a free one")
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:8000")
    parser.add_argument("--table", default="Aggregates")
    parser.add_argument("--minutes", type=int, default=20,
                        help="how many minutes the chart shows (default 20)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "dummy"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "dummy"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    client = session.client("dynamodb", endpoint_url=args.endpoint_url,
                            config=botocore.config.Config(max_pool_connections=20))
    aggregates = Aggregates(client, args.table, args.minutes)
    server = ThreadingHTTPServer((args.host, args.port),
                                 make_handler(aggregates, args.verbose))
    host, port = server.server_address[:2]
    print(f"serving http://{host}:{port}/ (aggregates from {args.table} at "
          f"{args.endpoint_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
