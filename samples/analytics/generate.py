#!/usr/bin/env python3
"""Writes a realistic stream of orders into the Orders table.

A shop of 48 products in 8 categories, with list prices; popularity is
skewed (Zipf: the most popular product sells about twice as often as the
second, ten times as often as the tenth); most orders are for one item,
some for several; one in ten gets a discount. Now and then a customer
cancels an earlier order (DeleteItem) or amends it (UpdateItem: one item
less), so the stream has INSERT, MODIFY and REMOVE records.

    generate.py --rate 20                       # live: 20 orders/s until Ctrl-C
    generate.py --orders 2000 --rate 0 \\
        --backfill-minutes 10 --seed 42         # ten minutes of history, fast

Each order is an item
    OrderId S, OrderedAt S (UTC ISO-8601 with milliseconds), CustomerId S,
    Category S, ProductId S, ProductName S, Quantity N, UnitPrice N,
    Amount N (= Quantity x UnitPrice, two decimals)
OrderedAt is the wall clock when the order is written, or, with
--backfill-minutes M, spread evenly over the last M minutes (history).
The same --seed gives the same orders (but for the times).

At the end (or on Ctrl-C) it prints what it wrote, from its own
bookkeeping: orders, revenue, and the top products by revenue.
"""

import argparse
import datetime
import decimal
import os
import random
import sys
import time

import boto3
import botocore.config

D = decimal.Decimal
CENT = D("0.01")

# (category, [(product name, list price), ...]); ids are P01..P48 in order.
CATALOG = [
    ("electronics", [("Wireless Earbuds", "79.99"), ("USB-C Charger", "24.99"),
                     ("Smart Watch", "199.00"), ("Bluetooth Speaker", "59.90"),
                     ("Mechanical Keyboard", "119.00"), ("27in 4K Monitor", "329.00")]),
    ("books", [("The Pragmatic Programmer", "44.95"), ("Designing Data-Intensive "
               "Applications", "49.99"), ("A Cookbook for Weeknights", "29.00"),
               ("The Long Way Home (novel)", "16.99"), ("Atlas of Rivers", "35.00"),
               ("Kids' Picture Dictionary", "12.50")]),
    ("home", [("Cast Iron Skillet", "39.95"), ("French Press", "27.50"),
              ("Linen Duvet Cover", "89.00"), ("LED Desk Lamp", "34.99"),
              ("Chef's Knife", "64.00"), ("Storage Baskets (3)", "22.00")]),
    ("toys", [("Building Blocks Set", "49.99"), ("Wooden Train", "34.00"),
              ("Puzzle 1000 Pieces", "17.99"), ("Plush Fox", "14.99"),
              ("RC Car", "59.00"), ("Board Game Night", "39.90")]),
    ("sports", [("Yoga Mat", "29.99"), ("Running Shoes", "109.00"),
                ("Water Bottle 1L", "18.50"), ("Resistance Bands", "15.99"),
                ("Bike Helmet", "69.00"), ("Tennis Balls (4)", "9.99")]),
    ("beauty", [("Face Serum", "32.00"), ("Shampoo Bar", "11.50"),
                ("Sunscreen SPF50", "19.90"), ("Hand Cream", "8.99"),
                ("Hair Dryer", "79.00"), ("Lip Balm Trio", "9.50")]),
    ("grocery", [("Espresso Beans 1kg", "26.90"), ("Olive Oil 750ml", "14.50"),
                 ("Green Tea (50 bags)", "7.99"), ("Dark Chocolate Box", "12.99"),
                 ("Granola 500g", "6.49"), ("Maple Syrup", "11.99")]),
    ("fashion", [("Denim Jacket", "89.00"), ("Wool Scarf", "35.00"),
                 ("Leather Belt", "45.00"), ("Cotton T-Shirt", "19.99"),
                 ("Rain Jacket", "129.00"), ("Sneaker Socks (5)", "14.00")]),
]

ZIPF_EXPONENT = 1.07
POPULARITY_SEED = 20261127  # Which products are popular: the same every run.


def catalog():
    """[{id, name, category, price}] and their popularity weights."""
    products = []
    for category, items in CATALOG:
        for name, price in items:
            products.append({"id": f"P{len(products) + 1:02d}", "name": name,
                             "category": category, "price": D(price)})
    ranks = list(range(1, len(products) + 1))
    random.Random(POPULARITY_SEED).shuffle(ranks)
    weights = [1.0 / rank ** ZIPF_EXPONENT for rank in ranks]
    return products, weights


def iso_ms(epoch_s):
    t = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Generator:
    def __init__(self, client, table, seed):
        self.client = client
        self.table = table
        self.rng = random.Random(seed)
        self.prefix = f"{self.rng.getrandbits(32):08x}"
        self.products, self.weights = catalog()
        self.by_id = {p["id"]: p for p in self.products}
        self.live = {}  # OrderId -> order, as it is in the table now
        self.written = self.cancelled = self.amended = 0

    def new_order(self, number, ordered_at):
        rng = self.rng
        product = rng.choices(self.products, weights=self.weights)[0]
        quantity = rng.choices([1, 2, 3, 4, 5], weights=[70, 18, 7, 3, 2])[0]
        price = product["price"]
        if rng.random() < 0.1:  # A discount.
            price = (price * D("0.85")).quantize(CENT, decimal.ROUND_HALF_UP)
        return {
            "OrderId": f"{self.prefix}-{number:07d}",
            "OrderedAt": iso_ms(ordered_at),
            "CustomerId": f"C{int(rng.paretovariate(1.2) * 1000) % 100000:05d}",
            "Category": product["category"],
            "ProductId": product["id"],
            "ProductName": product["name"],
            "Quantity": quantity,
            "UnitPrice": price,
            "Amount": (price * quantity).quantize(CENT),
        }

    def put(self, order):
        item = {k: ({"N": str(v)} if isinstance(v, (int, D)) else {"S": v})
                for k, v in order.items()}
        self.client.put_item(TableName=self.table, Item=item)
        self.live[order["OrderId"]] = order
        self.written += 1

    def cancel_one(self):
        """Deletes a random earlier order of this run."""
        if not self.live:
            return
        order_id = self.rng.choice(sorted(self.live))
        self.client.delete_item(TableName=self.table, Key={"OrderId": {"S": order_id}})
        del self.live[order_id]
        self.cancelled += 1

    def amend_one(self):
        """One item less on a random earlier order of several items."""
        several = sorted(k for k, o in self.live.items() if o["Quantity"] > 1)
        if not several:
            return
        order = self.live[self.rng.choice(several)]
        order["Quantity"] -= 1
        order["Amount"] = (order["UnitPrice"] * order["Quantity"]).quantize(CENT)
        self.client.update_item(
            TableName=self.table, Key={"OrderId": {"S": order["OrderId"]}},
            UpdateExpression="SET Quantity = :q, Amount = :a",
            ExpressionAttributeValues={":q": {"N": str(order["Quantity"])},
                                       ":a": {"N": str(order["Amount"])}})
        self.amended += 1

    def summary(self, top=3):
        revenue = {}
        for order in self.live.values():
            revenue[order["ProductId"]] = revenue.get(order["ProductId"], 0) + order["Amount"]
        total = sum(revenue.values(), D(0))
        lines = [f"wrote {self.written} orders ({self.cancelled} cancelled, "
                 f"{self.amended} amended): {len(self.live)} orders, revenue {total}"]
        ranked = sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0]))
        for rank, (pid, amount) in enumerate(ranked[:top], start=1):
            lines.append(f"top {rank}: {pid} {self.by_id[pid]['name']} {amount}")
        return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:8000")
    parser.add_argument("--table", default="Orders")
    parser.add_argument("--orders", type=int, default=0,
                        help="how many orders (default: until Ctrl-C)")
    parser.add_argument("--rate", type=float, default=10.0,
                        help="orders per second; 0: as fast as possible (default 10)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: from the clock)")
    parser.add_argument("--backfill-minutes", type=float, default=0.0,
                        help="spread OrderedAt over the last M minutes instead of now "
                             "(needs --orders)")
    parser.add_argument("--cancel-rate", type=float, default=0.02,
                        help="chance that an order is followed by a cancellation")
    parser.add_argument("--amend-rate", type=float, default=0.02,
                        help="chance that an order is followed by an amendment")
    args = parser.parse_args(argv)
    if args.backfill_minutes and args.orders <= 0:
        parser.error("--backfill-minutes needs --orders")
    seed = args.seed if args.seed is not None else int(time.time())

    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "dummy"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "dummy"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    client = session.client("dynamodb", endpoint_url=args.endpoint_url,
                            config=botocore.config.Config(retries={"max_attempts": 5}))
    gen = Generator(client, args.table, seed)
    print(f"seed {seed}: writing orders to {args.table} at {args.endpoint_url}",
          file=sys.stderr)

    start = time.time()
    history_start = start - args.backfill_minutes * 60
    number = 0
    last_report = start
    try:
        while args.orders <= 0 or number < args.orders:
            if args.rate > 0:  # Keep the pace without drifting.
                delay = start + number / args.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            if args.backfill_minutes:
                step = args.backfill_minutes * 60 / args.orders
                ordered_at = history_start + (number + gen.rng.random()) * step
            else:
                ordered_at = time.time()
            gen.put(gen.new_order(number, ordered_at))
            number += 1
            if gen.rng.random() < args.cancel_rate:
                gen.cancel_one()
            if gen.rng.random() < args.amend_rate:
                gen.amend_one()
            if time.time() - last_report >= 5:
                last_report = time.time()
                print(f"{iso_ms(last_report)[11:19]} {gen.written} orders written",
                      file=sys.stderr)
    except KeyboardInterrupt:
        pass
    print(gen.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
