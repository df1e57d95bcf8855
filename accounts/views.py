"""Register, log in, log out, account page."""
from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from accounts import otp, phone_signup, reset, services, sessions, signup, throttle
from accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from accounts.session_store import user_of_session
from accounts.web import (  # noqa: F401  (tests/helpers.py logs in with _start_session)
    KEPT_AT_LOGIN,
    _current_key,
    _forget_current_row,
    _new_session_id,
    _no_store,
    _password_reset_done,
    _start_session,
    bp,
)
from core import transactions
from core.extensions import db, limiter, login_manager
from core.forms import show_error
from core.time import utcnow
from core.urls import safe_next

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


def _browser_identifier() -> str:
    """What "strong" session protection binds a login to: the browser (its User-Agent), not the network
    address. Phones on 3G/4G change address often (carrier NAT), and a session that ended at each change
    would log buyers out in the middle of a checkout; a session is revocable on the server anyway.
    (Flask-Login 0.6 takes this function from ``_session_identifier_generator``; it hashes address and
    browser by default.)"""
    return hashlib.sha512((request.headers.get("User-Agent") or "").encode("utf-8", "replace")).hexdigest()


login_manager._session_identifier_generator = _browser_identifier
login_manager.user_loader(user_of_session)


def _login_failed(response) -> bool:
    """Only failed attempts (the form shown again) count against the per-address limit."""
    return request.method == "POST" and response.status_code == 200


def _login_key(raw: str) -> str:
    """What a form's phone-or-e-mail field names, spelled one way (for the limits keyed by it)."""
    return services.login_phone(raw) or services.normalize_email(raw)


def _register_email_key() -> str:
    """Per e-mail, or per phone number when no e-mail is given (a registration by phone)."""
    email = services.normalize_email(request.form.get("email", ""))
    return "register-email:" + (email or "phone:" + _login_key(request.form.get("phone", "")))


def _register_sent(response) -> bool:
    """Only forms that sent a message count against the per-email limit (not forms with mistakes)."""
    return response.status_code == 302


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_register_email_key, deduct_when=_register_sent)
def register():
    """The same answer whether or not the email (or the phone number) has an account (accounts/signup.py,
    accounts/phone_signup.py). Without an e-mail the account is confirmed by a code sent to the phone."""
    if current_user.is_authenticated:
        return redirect(url_for("shop.home"))
    form = RegisterForm()
    valid = form.validate_on_submit()
    if valid and not form.email.data:
        if otp.can_send():
            return _register_by_phone(form)
        form.email.errors = [_l("Enter your email address: codes cannot be sent to phones yet.")]
    elif valid:
        signup.start(email=form.email.data, full_name=form.full_name.data, phone=form.phone.data,
                     password=form.password.data, now=utcnow(), locale=str(get_locale()),
                     next_url=safe_next(request.args.get("next"), ""))
        return redirect(url_for("accounts.register_sent"))
    return render_template("accounts/register.html", form=form, phone_codes=otp.can_send())


def _register_by_phone(form):
    """No e-mail: the account is made now, unconfirmed, and the page asking for the code comes next."""
    try:
        user = phone_signup.start(full_name=form.full_name.data, phone=form.phone.data, password=form.password.data,
                                  now=utcnow(), locale=str(get_locale()), address=request.remote_addr)
    except otp.SendLimited as limited:
        show_error(form, services.AccountError(limited.message, field="phone"))
        return render_template("accounts/register.html", form=form, phone_codes=otp.can_send())
    phone_views.remember_signup(form.phone.data, user.id if user is not None else None,
                                safe_next(request.args.get("next"), ""))
    return redirect(url_for("accounts.phone_verify"))


@bp.route("/register/sent")
def register_sent():
    return render_template("accounts/register_sent.html", hours=max(1, signup.max_age() // 3600))


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def register_confirm(token: str):
    now = utcnow()
    try:
        details = signup.details(token, now=now)
    except signup.SignupError as error:
        page = render_template("accounts/register.html", form=RegisterForm(formdata=None), problem=error.message,
                               phone_codes=otp.can_send())
        return _no_store(current_app.make_response((page, 400)))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            user, next_url = signup.finish(token, now=now)
        except signup.SignupError as error:  # shown as a note, not an error: the account may well exist
            transactions.fail()
            flash(error.message, "info")
            return redirect(url_for("accounts.login"))
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
        except services.PhoneNotVerified as pending:
            phone_views.send_code_for_login(pending.user)
            return redirect(url_for("accounts.phone_verify"))
        except services.AccountError as error:
            db.session.commit()  # kept although the login failed: the staff's note, if this failure made one
            flash(error.message, "error")
        else:
            _start_session(user, remember=form.remember.data)
            flash(_l("You are logged in."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    return render_template("accounts/login.html", form=form)


def _end_this_session(message) -> None:
    """Log out here: this session's row is deleted; only the language choice is kept (on a new id)."""
    logout_user()
    lang = session.get("lang")
    session.clear()
    _new_session_id()
    if lang:
        session["lang"] = lang
    flash(message, "info")


@bp.route("/logout", methods=["POST"])
def logout():
    _end_this_session(_l("You are logged out."))
    return redirect(url_for("shop.home"))


@bp.route("/account/sessions/end-all", methods=["POST"])
@login_required
def end_all_sessions():
    user = current_user._get_current_object()
    sessions.end_sessions(user, reason="logout_all")
    _forget_current_row()
    _end_this_session(_l("You are logged out on every device, this one too."))
    return redirect(url_for("shop.home"))


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):
    user = current_user._get_current_object()
    current = next((s for s in sessions.active_sessions(user.id, now=utcnow(), current_key=_current_key())
                    if s.id == session_id and s.current), None)
    if current is not None:  # ending this device's session is logging out
        return logout()
    if sessions.end_session(user, session_id):
        flash(_l("That device is logged out."), "success")
    else:
        flash(_l("This session has already ended."), "info")
    return redirect(url_for("accounts.account"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current.data, form.password.data)
        except services.AccountError as error:
            show_error(form, error)
        else:
            sessions.end_sessions(user, keep_key=_current_key(), reason="password_changed")
            _start_session(user, remember=session.permanent)  # this device stays logged in, on a new id
            flash(_l("Your password is changed. Your other devices are logged out."), "success")
            return redirect(url_for("accounts.account"))
    devices = sessions.active_sessions(current_user.id, now=utcnow(), current_key=_current_key())
    return render_template("accounts/account.html", form=form, devices=devices)


# -- password reset by e-mail (the rules are in accounts/reset.py) ----------------------------------

def _reset_email_key() -> str:
    return "reset-email:" + _login_key(request.form.get("email", ""))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_reset_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    valid = form.validate_on_submit()
    if valid and form.phone is not None:
        if otp.can_send():
            return phone_views.start_reset(form.phone)
        form.email.errors = [_l("Codes cannot be sent to phones yet: type the email of your account.")]
    elif valid:
        reset.request_reset(form.email.data, now=utcnow(), locale=str(get_locale()))
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
        return _password_reset_done(user)
    return _no_store(current_app.make_response(render_template("accounts/reset_form.html", form=form, user=user)))


from accounts import phone_views  # noqa: E402,F401  (its routes are on this blueprint)
