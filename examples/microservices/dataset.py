"""A deterministic microservices workload: every change the showcase writes, in commit order.

`generate(seed, scale)` returns the same list of `Change`s for the same arguments (one seeded
`random.Random`, no clock, no uuid4), so the showcase and its test can derive every expected
number from it. Six collections: users, user_profiles, user_preferences, products, inventory,
orders (see README.md for the document shapes).

Business processes (one `correlation_id` and `business_process_id` per instance, carried in
each changed document's `event_meta`):

- catalog: a product insert, then its inventory insert;
- user onboarding: users insert, user_profiles insert, user_preferences insert;
- order fulfilment: orders insert, one inventory decrement per line item, then the order's
  status update to `confirmed`; some orders are later `shipped` or `cancelled` (a cancel
  restocks the inventory) under the same correlation id.

Other activity (logins, email and tier changes, preference tweaks) is one change with a
correlation id of its own; an account closure stamps, then deletes, the user's three
documents. Every write sets `event_meta`, so each event's business columns name its own
process (the subscriptions read post-images, and pre-images for deletes).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

COLLECTIONS = ("users", "user_profiles", "user_preferences", "products", "inventory", "orders")
EPOCH = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)  # document dates; never the wall clock

FIRST_NAMES = ("ada", "alan", "grace", "linus", "barbara", "edsger", "margaret", "ken",
               "frances", "dennis", "radia", "niklaus", "katherine", "donald", "hedy")  # fmt: skip
CITIES = (("London", "GB"), ("Lyon", "FR"), ("Berlin", "DE"), ("Austin", "US"),
          ("Osaka", "JP"), ("Porto", "PT"), ("Toronto", "CA"))  # fmt: skip
CATEGORIES = {
    "audio": ("headphones", "speaker", "microphone"),
    "home": ("kettle", "lamp", "desk fan"),
    "office": ("notebook", "monitor arm", "keyboard"),
    "outdoor": ("tent", "backpack", "water bottle"),
}
INTERESTS = ("cycling", "jazz", "chess", "hiking", "cooking", "photography", "gardening")


@dataclass(frozen=True)
class Scale:
    """Sizes of one run. The default writes a few hundred changes."""

    products: int = 12
    users: int = 24
    orders: int = 42
    activity: int = 40


DEFAULT = Scale()
SMALL = Scale(products=6, users=8, orders=15, activity=12)


@dataclass
class Change:
    """One write, in commit order. `kind` is insert, update or delete; `document` is the
    inserted document, `update` the update document ($set/$inc), `key` the `_id`."""

    seq: int
    collection: str
    kind: str
    key: str
    document: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    correlation_id: str | None = None
    business_process_id: str | None = None
    step: str = ""  # what the change means in its process, e.g. "reserve_stock"

    @property
    def updated_fields(self) -> set[str]:
        """Top-level fields an update changes (what updateDescription.updatedFields names)."""
        if self.update is None:
            return set()
        return {path.split(".")[0] for op in self.update.values() for path in op}


@dataclass
class Workload:
    changes: list[Change] = field(default_factory=list)
    order_seqs: dict[str, int] = field(default_factory=dict)  # order _id -> order_seq

    def of(self, collection: str) -> list[Change]:
        return [c for c in self.changes if c.collection == collection]


class _Writer:
    """Builds the Change list and the random choices behind it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.work = Workload()
        self.clock = EPOCH

    def ident(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self) -> dt.datetime:
        self.clock += dt.timedelta(seconds=self.rng.randint(5, 90))
        return self.clock

    def add(self, collection: str, kind: str, key: str, **rest: Any) -> Change:
        change = Change(len(self.work.changes) + 1, collection, kind, key, **rest)
        self.work.changes.append(change)
        return change


def meta(correlation: str, process: str, source: str, target: str, interaction: str) -> dict:
    return {
        "correlation_id": correlation,
        "business_process_id": process,
        "source_service": source,
        "target_service": target,
        "interaction_type": interaction,
    }


def generate(seed: int = 2026, scale: Scale = DEFAULT) -> Workload:
    w = _Writer(seed)
    stock = _catalog(w, scale.products)
    users = _onboarding(w, scale.users)
    orders = _orders(w, scale.orders, users, stock)
    _activity(w, scale.activity, users, orders)
    return w.work


def _catalog(w: _Writer, count: int) -> dict[str, dict[str, Any]]:
    stock: dict[str, dict[str, Any]] = {}
    kinds = [(cat, item) for cat, items in CATEGORIES.items() for item in items]
    for n in range(1, count + 1):
        category, item = kinds[(n - 1) % len(kinds)]
        product_id = f"prod-{n:03d}"
        corr, process = w.ident(), f"catalog-{n:03d}"
        price = round(w.rng.uniform(4, 240), 2)
        product = {
            "_id": product_id,
            "sku": f"{category[:3].upper()}-{n:04d}",
            "name": f"{w.rng.choice(('basic', 'pro', 'eco', 'travel'))} {item}",
            "category": category,
            "price": price,
            "attributes": {
                "weight_kg": round(w.rng.uniform(0.1, 6), 2),
                "tags": sorted(w.rng.sample(("new", "bestseller", "gift", "sale", "eco"), 2)),
            },
            "active": True,
            "created_at": w.tick(),
            "event_meta": meta(corr, process, "catalog_admin", "catalog_service", "add_product"),
        }
        w.add("products", "insert", product_id, document=product, correlation_id=corr,
              business_process_id=process, step="add_product")  # fmt: skip
        on_hand = w.rng.randint(30, 80)
        inventory = {
            "_id": f"inv-{product_id}",
            "product_id": product_id,
            "warehouse": w.rng.choice(("north", "south")),
            "on_hand": on_hand,
            "reserved": 0,
            "reorder_level": 10,
            "event_meta": meta(corr, process, "catalog_service", "inventory_service", "stock_in"),
        }
        w.add("inventory", "insert", inventory["_id"], document=inventory, correlation_id=corr,
              business_process_id=process, step="stock_in")  # fmt: skip
        stock[product_id] = {"price": price, "sku": product["sku"], "on_hand": on_hand}
    return stock


def _onboarding(w: _Writer, count: int) -> list[str]:
    users = []
    for n in range(1, count + 1):
        user_id = f"user-{n:03d}"
        name = f"{FIRST_NAMES[(n - 1) % len(FIRST_NAMES)]}{n}"
        corr, process = w.ident(), f"onboarding-{n:03d}"
        city, country = w.rng.choice(CITIES)
        signed_up = w.tick()
        w.add("users", "insert", user_id, correlation_id=corr, business_process_id=process,
              step="register", document={
                  "_id": user_id, "email": f"{name}@example.com", "name": name.title(),
                  "status": "active", "subscription_tier": w.rng.choice(("free", "free", "plus")),
                  "created_at": signed_up, "lastLogin": None,
                  "event_meta": meta(corr, process, "signup_web", "user_service", "register")})  # fmt: skip
        w.add("user_profiles", "insert", f"profile-{n:03d}", correlation_id=corr,
              business_process_id=process, step="create_profile", document={
                  "_id": f"profile-{n:03d}", "user_id": user_id, "display_name": name.title(),
                  "address": {"city": city, "country": country},
                  "interests": sorted(w.rng.sample(INTERESTS, 2)),
                  "event_meta": meta(corr, process, "user_service", "profile_service", "create_profile")})  # fmt: skip
        w.add("user_preferences", "insert", f"prefs-{n:03d}", correlation_id=corr,
              business_process_id=process, step="default_preferences", document={
                  "_id": f"prefs-{n:03d}", "user_id": user_id,
                  "notifications": {"email": True, "sms": w.rng.random() < 0.3},
                  "language": w.rng.choice(("en", "fr", "de", "ja")), "theme": "light",
                  "event_meta": meta(corr, process, "user_service", "preference_service", "default_preferences")})  # fmt: skip
        users.append(user_id)
    return users


def _orders(
    w: _Writer, count: int, users: list[str], stock: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    orders = []
    for n in range(1, count + 1):
        order_id = f"order-{n:04d}"
        corr, process = w.ident(), f"fulfilment-{n:04d}"
        items = []
        for product_id in w.rng.sample(sorted(stock), w.rng.randint(1, 3)):
            quantity = w.rng.randint(1, 3)
            items.append({"product_id": product_id, "sku": stock[product_id]["sku"],
                          "quantity": quantity, "unit_price": stock[product_id]["price"]})  # fmt: skip
        total = round(sum(i["quantity"] * i["unit_price"] for i in items), 2)
        placed = w.tick()
        w.add("orders", "insert", order_id, correlation_id=corr, business_process_id=process,
              step="place_order", document={
                  "_id": order_id, "order_seq": n, "user_id": w.rng.choice(users),
                  "status": "pending", "line_items": items, "order_total": total,
                  "currency": "EUR", "correlation_id": corr, "business_process_id": process,
                  "created_at": placed,
                  "event_meta": meta(corr, process, "storefront", "order_service", "place_order")})  # fmt: skip
        for item in items:
            stock[item["product_id"]]["on_hand"] -= item["quantity"]
            w.add("inventory", "update", f"inv-{item['product_id']}", correlation_id=corr,
                  business_process_id=process, step="reserve_stock", update={
                      "$inc": {"on_hand": -item["quantity"], "reserved": item["quantity"]},
                      "$set": {"event_meta": meta(corr, process, "order_service",
                                                  "inventory_service", "reserve_stock")}})  # fmt: skip
        w.add("orders", "update", order_id, correlation_id=corr, business_process_id=process,
              step="confirm_order", update={"$set": {
                  "status": "confirmed", "confirmed_at": w.tick(),
                  "event_meta": meta(corr, process, "inventory_service", "order_service", "confirm_order")}})  # fmt: skip
        w.work.order_seqs[order_id] = n
        orders.append({"_id": order_id, "items": items, "corr": corr, "process": process,
                       "status": "confirmed"})  # fmt: skip
    return orders


def _activity(
    w: _Writer,
    count: int,
    users: list[str],
    orders: list[dict[str, Any]],
) -> None:
    live_users = list(users)
    for n in range(1, count + 1):
        roll = w.rng.random()
        if roll < 0.25:
            _login(w, w.rng.choice(live_users), n)
        elif roll < 0.55:
            _order_followup(w, w.rng.choice(orders))
        elif roll < 0.7:
            _user_change(w, w.rng.choice(live_users), n)
        elif roll < 0.85:
            _preference_change(w, w.rng.choice(live_users), n)
        elif len(live_users) > len(users) // 2:
            user_id = w.rng.choice(live_users)
            live_users.remove(user_id)
            _close_account(w, user_id)
        else:
            _login(w, w.rng.choice(live_users), n)


def _login(w: _Writer, user_id: str, n: int) -> None:
    corr, process = w.ident(), f"session-{n:03d}"
    w.add("users", "update", user_id, correlation_id=corr, business_process_id=process,
          step="login", update={"$set": {
              "lastLogin": w.tick(),
              "event_meta": meta(corr, process, "auth_web", "authentication_service", "login")}})  # fmt: skip


def _user_change(w: _Writer, user_id: str, n: int) -> None:
    corr, process = w.ident(), f"account-{n:03d}"
    field_name, value = w.rng.choice((("email", f"{user_id}.{n}@example.org"),
                                      ("subscription_tier", "premium"), ("status", "suspended")))  # fmt: skip
    w.add("users", "update", user_id, correlation_id=corr, business_process_id=process,
          step=f"change_{field_name}", update={"$set": {
              field_name: value, "updated_at": w.tick(),
              "event_meta": meta(corr, process, "account_web", "user_service", f"change_{field_name}")}})  # fmt: skip


def _preference_change(w: _Writer, user_id: str, n: int) -> None:
    number = user_id.split("-")[1]
    corr, process = w.ident(), f"preferences-{n:03d}"
    w.add("user_preferences", "update", f"prefs-{number}", correlation_id=corr,
          business_process_id=process, step="tweak_preferences", update={"$set": {
              "theme": w.rng.choice(("dark", "sepia")), "updated_at": w.tick(),
              "event_meta": meta(corr, process, "account_web", "preference_service", "tweak_preferences")}})  # fmt: skip


def _close_account(w: _Writer, user_id: str) -> None:
    """Each document is stamped with the closure, then deleted: a delete event's business
    columns come from its pre-image, which then names the closure."""
    number = user_id.split("-")[1]
    corr, process = w.ident(), f"closure-{number}"
    for collection, key in (("user_preferences", f"prefs-{number}"),
                            ("user_profiles", f"profile-{number}"), ("users", user_id)):  # fmt: skip
        w.add(collection, "update", key, correlation_id=corr, business_process_id=process,
              step="close_account", update={"$set": {
                  "closed_at": w.tick(),
                  "event_meta": meta(corr, process, "account_web", "user_service", "close_account")}})  # fmt: skip
        w.add(
            collection,
            "delete",
            key,
            correlation_id=corr,
            business_process_id=process,
            step="close_account",
        )


def _order_followup(w: _Writer, order: dict[str, Any]) -> None:
    """Ship or cancel a confirmed order, under the order's correlation id."""
    if order["status"] != "confirmed":
        return
    corr, process = order["corr"], order["process"]
    if w.rng.random() < 0.7:
        order["status"] = "shipped"
        w.add("orders", "update", order["_id"], correlation_id=corr, business_process_id=process,
              step="ship_order", update={"$set": {
                  "status": "shipped", "shipped_at": w.tick(),
                  "event_meta": meta(corr, process, "warehouse_service", "order_service", "ship_order")}})  # fmt: skip
        return
    order["status"] = "cancelled"
    w.add("orders", "update", order["_id"], correlation_id=corr, business_process_id=process,
          step="cancel_order", update={"$set": {
              "status": "cancelled", "cancelled_at": w.tick(),
              "event_meta": meta(corr, process, "storefront", "order_service", "cancel_order")}})  # fmt: skip
    for item in order["items"]:
        w.add("inventory", "update", f"inv-{item['product_id']}", correlation_id=corr,
              business_process_id=process, step="restock", update={
                  "$inc": {"on_hand": item["quantity"], "reserved": -item["quantity"]},
                  "$set": {"event_meta": meta(corr, process, "order_service",
                                              "inventory_service", "restock")}})  # fmt: skip
