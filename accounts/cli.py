"""``flask create-admin EMAIL``: commune-staff accounts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from accounts import services
from accounts.forms import PASSWORD_MIN
from core.extensions import db


@click.command("create-admin")
@click.argument("email")
@click.option("--name", "full_name", default="Commune staff", help="Full name shown on staff pages.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (or set ADMIN_PASSWORD).", envvar="ADMIN_PASSWORD")
@with_appcontext
def create_admin(email: str, full_name: str, password: str) -> None:
    """Create a commune-staff (admin) account, or make an existing account admin."""
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    if len(password) < PASSWORD_MIN:
        raise click.BadParameter(f"at least {PASSWORD_MIN} characters", param_hint="--password")
    user = services.create_admin(email, password, full_name=full_name)
    db.session.commit()
    click.echo(f"Admin account ready: {user.email}")


@click.command("purge-sessions")
@with_appcontext
def purge_sessions() -> None:
    """Delete expired sessions and day-old one-time codes (run it from cron, e.g. hourly; safe to run twice)."""
    from accounts import otp
    from accounts.session_store import purge_expired
    from core.time import utcnow

    click.echo(f"Expired sessions deleted: {purge_expired(utcnow())}")
    codes = otp.purge(utcnow())
    db.session.commit()
    click.echo(f"Old one-time codes deleted: {codes}")
