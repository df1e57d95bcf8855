"""The buyer's side: home page (the catalogue comes next)."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from core.extensions import db
from farmers.models import Farm
from shop.models import Product

bp = Blueprint("shop", __name__)


@bp.route("/")
def home():
    products = db.session.scalars(
        select(Product).join(Product.farm).where(Product.status == "active", Farm.status == "approved")
        .order_by(Product.created_at.desc()).limit(8)).all()
    farms = db.session.scalars(select(Farm).where(Farm.status == "approved").order_by(Farm.name).limit(12)).all()
    return render_template("shop/home.html", products=products, farms=farms)
