"""Register, log in, log out, account page."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from accounts import reset, services, signup, throttle
from accounts.forms import (ChangePasswordForm, ConfirmForm, ForgotPasswordForm, LoginForm, RegisterForm,
                            ResetPasswordForm)
from core.extensions import db, limiter, login_manager
from core.time import utcnow
from core.urls import safe_next

bp = Blueprint("accounts", __name__)

# Session keys that survive logging in (everything else is dropped, so the session changes).
KEPT_AT_LOGIN = ("lang", "cart")

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
login_manager.user_loader(services.load_user)


def _login_failed(response) -> bool:
    """Only failed attempts (the form shown again) count against the per-address limit."""
    return request.method == "POST" and response.status_code == 200


def _start_session(user, remember: bool) -> None:
    kept = {key: session[key] for key in KEPT_AT_LOGIN if key in session}
    session.clear()
    session.update(kept)
    login_user(user, remember=remember)


def _register_email_key() -> str:
    return "register-email:" + services.normalize_email(request.form.get("email", ""))


def _register_sent(response) -> bool:
    """Only forms that sent a message count against the per-email limit (not forms with mistakes)."""
    return response.status_code == 302


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_register_email_key, deduct_when=_register_sent)
def register():
    """The same answer whether or not the email has an account (accounts/signup.py)."""
    if current_user.is_authenticated:
        return redirect(url_for("shop.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        signup.start(email=form.email.data, full_name=form.full_name.data, phone=form.phone.data,
                     password=form.password.data, now=utcnow(), locale=str(get_locale()),
                     next_url=safe_next(request.args.get("next"), ""))
        db.session.commit()
        return redirect(url_for("accounts.register_sent"))
    return render_template("accounts/register.html", form=form)


@bp.route("/register/sent")
def register_sent():
    return render_template("accounts/register_sent.html", hours=max(1, signup.max_age() // 3600))


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def register_confirm(token: str):
    now = utcnow()
    try:
        details = signup.details(token, now=now)
    except signup.SignupError as error:
        page = render_template("accounts/register.html", form=RegisterForm(formdata=None), problem=error.message)
        return _no_store(current_app.make_response((page, 400)))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            user, next_url = signup.finish(token, now=now)
        except signup.SignupError as error:
            flash(error.message, "info")
            return redirect(url_for("accounts.login"))
        db.session.commit()
        _start_session(user, remember=False)
        flash(_l("Welcome to Chợ Dứa Kép! Your account is ready."), "success")
        return redirect(safe_next(next_url, url_for("shop.home")))
    page = render_template("accounts/register_confirm.html", form=form, details=details)
    return _no_store(current_app.make_response(page))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_login_failed)
def login():
    """Wrong passwords make one (account, address) pair wait longer and longer (accounts/throttle.py)."""
    if current_user.is_authenticated:
        return redirect(url_for("shop.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.log_in(form.email.data, form.password.data, address=request.remote_addr, now=utcnow())
        except throttle.Throttled as wait:
            return render_template("accounts/login.html", form=form, wait_minutes=wait.minutes), 429
        except services.AccountError as error:
            db.session.commit()  # a note to the staff, if this failure made one
            flash(error.message, "error")
        else:
            _start_session(user, remember=form.remember.data)
            flash(_l("You are logged in."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_l("You are logged out."), "info")
    return redirect(url_for("shop.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except services.AccountError as error:
            form.current.errors.append(error.message)
        else:
            db.session.commit()
            _start_session(current_user._get_current_object(), remember=False)
            flash(_l("Your password is changed."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form)


# -- password reset by e-mail (the rules are in accounts/reset.py) ----------------------------------

def _reset_email_key() -> str:
    return "reset-email:" + services.normalize_email(request.form.get("email", ""))


def _no_store(response):
    """The reset pages carry a token in their address: not cached, not sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_reset_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset.request_reset(form.email.data, now=utcnow(), locale=str(get_locale()))
        db.session.commit()
        # The same answer whether or not an account has this email.
        flash(_l("If an account has this email, we have sent it a link to choose a new password. "
                 "The link works for one hour. Also look in the spam folder."), "info")
        return redirect(url_for("accounts.login"))
    return _no_store(current_app.make_response(render_template("accounts/reset_request.html", form=form)))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = reset.user_for_token(token, now=utcnow())
    except reset.ResetError as error:
        page = render_template("accounts/reset_request.html", form=ForgotPasswordForm(formdata=None),
                               problem=error.message)
        return _no_store(current_app.make_response((page, 400)))
    form = ResetPasswordForm(user=user)
    if form.validate_on_submit():
        reset.reset_password(token, form.password.data, now=utcnow())
        db.session.commit()
        if current_user.is_authenticated and current_user.id == user.id:
            logout_user()  # this session ended with the old password, like every other one
        flash(_l("Your new password is saved. Log in with it now."), "success")
        return redirect(url_for("accounts.login"))
    return _no_store(current_app.make_response(render_template("accounts/reset_form.html", form=form, user=user)))
