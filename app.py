"""The Flask application factory: the one place that wires everything together."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as settings
from core import assets, errors, formatting, i18n, inputs, labels, transactions
from core.extensions import babel, configure_sqlite, csrf, db, limiter, login_manager, migrate
from core.pagecache import init_page_cache
from core.requestlog import init_request_log
from core.security import add_security_headers
from core.storage import init_storage
from core.urls import public_url


def create_app(config: dict | None = None) -> Flask:
    env = settings.environment()  # the settings file is read once
    app = Flask(__name__, static_folder=None, instance_path=env.get("INSTANCE_PATH") or None)
    inputs.init_app(app)  # request values cleaned, bounded URL converters: before any route is added
    app.config.update(settings.load(app.instance_path, env))
    if config:
        app.config.update(config)
    settings.check_production(app.config)
    _trust_proxies(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = settings.engine_options(app.config)

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine, busy_timeout_seconds=app.config["DB_LOCK_TIMEOUT_SECONDS"])
    _init_sessions(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    init_storage(app)
    init_request_log(app)

    _import_models()
    _check_receiving_account(app)
    _register_blueprints(app)
    _connect_domains(app)
    _register_cli(app)
    transactions.init_app(app)
    formatting.register(app)
    labels.register(app)
    errors.register(app)
    i18n.register(app)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    app.jinja_env.globals["public_url"] = public_url
    app.after_request(add_security_headers)
    assets.init_assets(app)
    init_page_cache(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT proxies, the client's address, scheme and host are read from the
    X-Forwarded-* headers those proxies add; with 0 (the default) the headers are ignored, so a client
    cannot choose its own address (and dodge the rate limits) by sending one."""
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)


def _init_sessions(app: Flask) -> None:
    """Server-side sessions, before CSRFProtect: a session that cannot be read is answered first."""
    from accounts.session_store import init_sessions

    init_sessions(app)


def _import_models() -> None:
    """Every table's module, so that metadata (and Alembic) sees them all."""
    import accounts.assist  # noqa: F401
    import accounts.farms  # noqa: F401
    import accounts.models  # noqa: F401
    import accounts.session_store  # noqa: F401
    import core.audit  # noqa: F401
    import core.messages  # noqa: F401 - with core.outbox, and its alert when a message is given up on
    import core.outbox  # noqa: F401
    import core.settings_store  # noqa: F401
    import core.zalo_tokens  # noqa: F401
    import shop.batch_models  # noqa: F401
    import shop.certificate_models  # noqa: F401
    import shop.credit_models  # noqa: F401
    import shop.delivery_models  # noqa: F401
    import shop.ledger  # noqa: F401
    import shop.models  # noqa: F401
    import shop.order_models  # noqa: F401
    import shop.payment_models  # noqa: F401
    import shop.payout_models  # noqa: F401
    import shop.referrals  # noqa: F401
    import shop.review_models  # noqa: F401
    import shop.shipment_models  # noqa: F401
    import shop.statement_models  # noqa: F401
    import tours.checkin_models  # noqa: F401
    import tours.models  # noqa: F401
    import tours.rain_models  # noqa: F401
    import tours.resource_models  # noqa: F401


def _check_receiving_account(app: Flask) -> None:
    """Production never starts with the demo (or no) receiving bank account. What staff saved on the Settings
    page counts; it is only read when BANK_* alone would be refused (so `flask db upgrade` on an empty database
    works once BANK_* are set)."""
    if settings.bank_problem(app.config, {}) is None:
        return
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from core.settings_store import Setting

    staff_set: dict[str, str] = {}
    with app.app_context():
        try:
            staff_set = dict(db.session.execute(select(Setting.key, Setting.value)).all())
        except SQLAlchemyError:
            pass  # no settings table yet, or no database: BANK_* must do
        finally:
            db.session.remove()
    problem = settings.bank_problem(app.config, staff_set)
    if problem:
        raise settings.UnsafeConfiguration(problem)


def _register_blueprints(app: Flask) -> None:
    import farmers.checkin_offline_views  # noqa: F401  (check-in without signal, on farmer_tours_bp)
    import farmers.rain_views  # noqa: F401  (its rain route is on farmer_tours_bp)
    import farmers.resource_views  # noqa: F401  (the guides and vehicles, on farmer_tours_bp too)
    import farmers.slot_views  # noqa: F401  (its slot, manifest and check-in routes are on farmer_tours_bp)
    import tours.rain_views  # noqa: F401  (the visitor's rain choice is on tours_bp)
    import tours.rebook_views  # noqa: F401  (its change-of-date routes are on tours_bp)
    import tours.waitlist_views  # noqa: F401  (its waiting-list routes are on tours_bp)
    from accounts.message_views import bp as account_messages_bp
    from accounts.views import bp as accounts_bp
    from admin.assist_views import bp as admin_assist_bp
    from admin.settings_views import bp as admin_settings_bp
    from admin.views import bp as admin_bp
    from core.health import bp as health_bp
    from core.media import bp as media_bp
    from core.zalo_webhook import bp as zalo_webhook_bp
    from farmers.batch_views import bp as farmer_batches_bp
    from farmers.checkin_offline_views import sw_bp as checkin_sw_bp
    from farmers.delivery_views import bp as farmer_delivery_bp
    from farmers.order_views import bp as farmer_orders_bp
    from farmers.product_views import bp as farmer_products_bp
    from farmers.tour_views import bp as farmer_tours_bp
    from farmers.views import bp as farmers_bp
    from shop.address_views import bp as addresses_bp
    from shop.batch_views import bp as batches_bp
    from shop.certificate_views import bp as certificates_bp
    from shop.order_views import bp as orders_bp
    from shop.review_views import bp as reviews_bp
    from shop.shipping_views import bp as shipping_bp
    from shop.views import bp as shop_bp
    from tours.views import bp as tours_bp

    for blueprint in (shop_bp, orders_bp, accounts_bp, farmers_bp, farmer_products_bp, farmer_orders_bp, tours_bp,
                      farmer_tours_bp,
                      admin_bp, admin_settings_bp, admin_assist_bp, media_bp, health_bp, account_messages_bp,
                      zalo_webhook_bp, addresses_bp, farmer_delivery_bp, shipping_bp, reviews_bp, certificates_bp,
                      batches_bp, farmer_batches_bp, checkin_sw_bp):
        app.register_blueprint(blueprint)

    from admin.payment_views import bp as admin_payments_bp
    from admin.reconcile_views import bp as admin_reconcile_bp
    from shop.payment_views import bp as payments_bp

    app.register_blueprint(payments_bp)
    app.register_blueprint(admin_payments_bp)
    app.register_blueprint(admin_reconcile_bp)

    from admin.payout_views import bp as admin_payouts_bp
    from farmers.dashboard_views import bp as farmer_dashboard_bp
    from farmers.statement_views import bp as statements_bp

    app.register_blueprint(farmer_dashboard_bp)
    app.register_blueprint(statements_bp)
    app.register_blueprint(admin_payouts_bp)

    from farmers.share_views import bp as farmer_share_bp
    from farmers.share_views import posters_bp

    app.register_blueprint(farmer_share_bp)
    app.register_blueprint(posters_bp)


def _connect_domains(app: Flask) -> None:
    """The packages above the shop join it through its interfaces: kinds of cart line (shop/lines.py), what its
    pages show (shop/showcase.py) and its events (shop/events.py). Each ``connect`` may run again (every app)."""
    from shop import credits
    from shop import receivers as shop_receivers
    from shop.payments import registry
    from tours import events as tour_events

    unknown = set(app.config.get("PAYMENT_PROVIDERS") or ()) - registry.codes()
    if unknown:
        raise settings.UnsafeConfiguration(f"PAYMENT_PROVIDERS lists {sorted(unknown)}, but no module in "
                                           "shop/payments/providers/ has that code.")

    shop_receivers.connect()
    tour_events.connect()
    credits.init_app(app)


def _register_cli(app: Flask) -> None:
    from accounts.cli import create_admin, purge_sessions
    from demo_data import seed_demo
    from shop.carriers.ghn_places import ghn_places_command
    from shop.cli import expire_orders

    app.cli.add_command(create_admin)
    app.cli.add_command(ghn_places_command)
    app.cli.add_command(purge_sessions)
    app.cli.add_command(seed_demo)
    app.cli.add_command(expire_orders)

    from shop.payment_cli import check_payos_links, process_bank_notifications, send_notifications, send_refunds

    app.cli.add_command(send_notifications)
    app.cli.add_command(send_refunds)
    app.cli.add_command(process_bank_notifications)
    app.cli.add_command(check_payos_links)

    from core.worker import worker_command
    from shop.certificates import remind_certificate_expiry
    from tours.rain import apply_rain_defaults
    from tours.reminders import send_visit_reminders
    from tours.waitlist import expire_waitlist_offers

    app.cli.add_command(worker_command)
    app.cli.add_command(remind_certificate_expiry)
    app.cli.add_command(apply_rain_defaults)
    app.cli.add_command(send_visit_reminders)
    app.cli.add_command(expire_waitlist_offers)
