"""The pages of phone-first accounts: the code that confirms a registration by phone, "send it again", and the
password reset by a code (the rules are in accounts/phone_signup.py and accounts/otp.py).

Which number a page is about is kept in the (server-side) session, never in the address: ``phone_signup``
({"p": phone, "u": account id or None, "x": where to go next, "k": "new" or "mine"}) and ``phone_reset`` (the phone).
A wrong code is shown beside the field and the request is committed anyway, so the wrong try stays counted.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts import otp, phone_signup, services
from accounts.forms import CodeForm, PhoneResetForm, SendAgainForm
from accounts.web import _no_store, _password_reset_done, _start_session, bp
from core import transactions
from core.extensions import limiter
from core.forms import show_error
from core.time import utcnow
from core.urls import safe_next

SIGNUP_KEY = "phone_signup"
RESET_KEY = "phone_reset"


def shown_phone(phone: str) -> str:
    """0912345678 as people write it: 0912 345 678."""
    return f"{phone[:4]} {phone[4:7]} {phone[7:]}" if len(phone) == 10 else phone


def remember_signup(phone: str, user_id: int | None, next_url: str = "", kind: str = "new") -> None:
    """``kind`` "new": a registration (or its login); "mine": an account confirming its number."""
    session[SIGNUP_KEY] = {"p": phone, "u": user_id, "x": next_url or "", "k": kind}


def send_code_for_login(user) -> None:
    """The right password of an account whose number is not confirmed yet: a new code, and its page next."""
    try:
        phone_signup.send_again(user.phone, user.id, now=utcnow(), address=request.remote_addr)
    except otp.SendLimited as limited:
        flash(limited.message, "info")
    remember_signup(user.phone, user.id, safe_next(request.args.get("next"), ""))


def _code_problem(form, error) -> None:
    """Show a code's problem beside its field, keeping what the try changed (its count)."""
    form.code.errors = [*form.code.errors, error.message]


def _pending():
    pending = session.get(SIGNUP_KEY)
    return pending if isinstance(pending, dict) and isinstance(pending.get("p"), str) else None


def _pending_user(pending) -> int | None:
    user_id = pending.get("u")
    return user_id if isinstance(user_id, int) else None


def _page(template: str, **context):
    return _no_store(current_app.make_response(render_template(template, **context)))


@bp.route("/register/phone", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("CODE_LIMIT_PER_IP", "30 per hour"), methods=["POST"])
def phone_verify():
    """Enter the code sent to the phone; the right one confirms the number and logs the account in."""
    pending = _pending()
    if pending is None:
        return redirect(url_for("accounts.register"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = phone_signup.confirm(pending["p"], form.code.data, _pending_user(pending), now=utcnow())
        except otp.CodeError as error:
            _code_problem(form, error)
        except services.AccountError as error:
            show_error(form, error)
        else:
            session.pop(SIGNUP_KEY, None)
            _start_session(user, remember=False)
            flash(_l("Your phone number is confirmed: you can log in with it.") if pending.get("k") == "mine" else
                  _l("Welcome to Chợ Dứa Kép! Your phone number is confirmed and your account is ready."), "success")
            return redirect(safe_next(pending.get("x"), url_for("shop.home")))
    return _page("accounts/phone_verify.html", form=form, again=SendAgainForm(formdata=None),
                 phone=shown_phone(pending["p"]), minutes=otp.minutes())


@bp.route("/register/phone/again", methods=["POST"])
@limiter.limit(lambda: current_app.config.get("CODE_LIMIT_PER_IP", "30 per hour"))
def phone_send_again():
    pending = _pending()
    if pending is None:
        return redirect(url_for("accounts.register"))
    if SendAgainForm().validate_on_submit():
        try:
            phone_signup.send_again(pending["p"], _pending_user(pending), now=utcnow(), address=request.remote_addr)
        except otp.SendLimited as limited:
            transactions.fail()
            flash(limited.message, "error")
        else:
            flash(_l("We have sent a new code to %(phone)s.", phone=shown_phone(pending["p"])), "info")
    return redirect(url_for("accounts.phone_verify"))


@bp.route("/account/phone", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config.get("CODE_LIMIT_PER_IP", "30 per hour"))
def phone_confirm_mine():
    """An account made by e-mail (or before phones were confirmed) confirms its number, to log in with it."""
    user = current_user._get_current_object()
    if not SendAgainForm().validate_on_submit() or user.phone_verified_at is not None:
        return redirect(url_for("accounts.account"))
    try:
        phone_signup.send_again(user.phone, user.id, now=utcnow(), address=request.remote_addr)
    except otp.SendLimited as limited:
        flash(limited.message, "info")
    remember_signup(user.phone, user.id, url_for("accounts.account"), kind="mine")
    return redirect(url_for("accounts.phone_verify"))


def start_reset(phone: str):
    """The forgot-password form got a phone number: a code (or not), and the code page, the same either way."""
    try:
        phone_signup.request_reset(phone, now=utcnow(), address=request.remote_addr, locale=str(get_locale()))
    except otp.SendLimited as limited:
        transactions.fail()
        flash(limited.message, "info")
    else:
        flash(_l("If an account has this phone number, we have sent it a code by text message."), "info")
    session[RESET_KEY] = phone
    return redirect(url_for("accounts.phone_reset"))


@bp.route("/password/reset/phone", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("CODE_LIMIT_PER_IP", "30 per hour"), methods=["POST"])
def phone_reset():
    phone = session.get(RESET_KEY)
    if not isinstance(phone, str):
        return redirect(url_for("accounts.forgot_password"))
    form = PhoneResetForm(phone=phone)
    if form.validate_on_submit():
        try:
            user = phone_signup.reset_password(phone, form.code.data, form.password.data, now=utcnow())
        except otp.CodeError as error:
            _code_problem(form, error)
        else:
            session.pop(RESET_KEY, None)
            return _password_reset_done(user)
    return _page("accounts/phone_reset.html", form=form, phone=shown_phone(phone), minutes=otp.minutes())
