"""Catalog data model (pydantic v1) and the bundled product list."""

import json
from importlib import resources
from typing import List

from ledgerfmt import Money
from pydantic import BaseModel, Field, validator


class Product(BaseModel):
    sku: str = Field(..., regex=r"^[A-Z]{3}-\d{4}$")
    name: str
    price: str
    tags: List[str] = []

    @validator("price")
    def price_is_money(cls, v):
        Money(v)  # raises on anything that is not a decimal amount
        return v

    def display_price(self) -> str:
        return str(Money(self.price))


def load_products() -> List[Product]:
    raw = resources.files("catalog").joinpath("products.json").read_text()
    return [Product(**p) for p in json.loads(raw)]
