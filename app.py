"""The Flask application factory: the one place that wires everything together."""
from __future__ import annotations

import os

from flask import Flask

import config as settings
from core import assets, errors, formatting, i18n, labels
from core.extensions import babel, csrf, db, limiter, login_manager, migrate
from core.security import add_security_headers


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None, instance_path=os.environ.get("INSTANCE_PATH") or None)
    app.config.update(settings.load(app.instance_path))
    if config:
        app.config.update(config)
    settings.check_production(app.config)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)

    _import_models()
    _register_blueprints(app)
    _register_cli(app)
    formatting.register(app)
    labels.register(app)
    errors.register(app)
    i18n.register(app)
    app.after_request(add_security_headers)
    assets.init_assets(app)
    return app


def _import_models() -> None:
    """Every table's module, so that metadata (and Alembic) sees them all."""
    import accounts.models  # noqa: F401
    import core.audit  # noqa: F401
    import farmers.models  # noqa: F401
    import shop.models  # noqa: F401
    import tours.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from accounts.views import bp as accounts_bp
    from admin.views import bp as admin_bp
    from farmers.views import bp as farmers_bp
    from shop.views import bp as shop_bp
    from tours.views import bp as tours_bp

    for blueprint in (shop_bp, accounts_bp, farmers_bp, tours_bp, admin_bp):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from accounts.cli import create_admin
    from demo_data import seed_demo

    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
