"""Account forms. Every message goes through gettext."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional, ValidationError

from accounts import passwords
from core.forms import Form
from core.validators import VietnameseMobile, normalize_vn_mobile

PASSWORD_MIN = 8
PASSWORD_MAX = 128


class NotGuessable:
    """Refuses the most common passwords and the person's own email, phone or name (accounts/passwords.py).
    ``person(form)`` gives (email, phone, name) of whoever chooses the password."""

    def __init__(self, person):
        self.person = person

    def __call__(self, form, field):
        email, phone, name = self.person(form)
        message = passwords.problem(field.data or "", email=email, phone=phone, name=name)
        if message is not None:
            raise ValidationError(message)


def _of_user(user):
    return (user.email, user.phone, user.full_name) if user is not None and user.is_authenticated else (None,) * 3


def _password(label, person):
    return PasswordField(label, validators=[
        InputRequired(message=_l("Enter a password.")),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
               message=_l("The password must have between %(min)d and %(max)d characters.")),
        NotGuessable(person),
    ])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RegisterForm(Form):
    """Phone first: without an e-mail the account is confirmed by a code sent to the phone; with one, by a
    link sent to the e-mail (as before)."""
    email = EmailField(_l("Email (optional)"), filters=[_strip], validators=[
        Optional(),
        Email(message=_l("Enter a valid email address, for example ten@gmail.com."), check_deliverability=False),
        Length(max=254),
    ])
    full_name = StringField(_l("Full name"), validators=[
        DataRequired(message=_l("Enter your full name.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])
    phone = TelField(_l("Mobile phone"), validators=[DataRequired(message=_l("Enter your mobile number.")),
                                                    VietnameseMobile()])
    password = _password(_l("Password (at least 8 characters)"),
                         lambda form: (form.email.data, form.phone.data, form.full_name.data))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])


class ConfirmForm(Form):
    """The button that finishes a registration (its details are in the link)."""


class LoginForm(Form):
    # Named "email" as before (bookmarked pages, password managers); it takes a phone number too.
    email = StringField(_l("Phone number or email"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter your phone number or email.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")),
                                                         Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Remember me on this device"))


class ChangePasswordForm(Form):
    """For the logged-in user (``current_user``)."""
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Enter your current password.")), Length(max=PASSWORD_MAX)])
    password = _password(_l("New password (at least 8 characters)"), lambda form: _of_user(current_user))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])


class PhoneOrEmail:
    """A Vietnamese mobile number (normalized to 0xxxxxxxxx, and kept in ``form.phone``) or an e-mail."""

    def __call__(self, form, field):
        value = field.data or ""
        form.phone = None if "@" in value else normalize_vn_mobile(value)
        if form.phone is not None:
            field.data = form.phone
            return
        if "@" not in value and not any(c.isalpha() for c in value):  # meant as a number
            raise ValidationError(_l("Enter a Vietnamese mobile number (for example 0912 345 678) or an email."))
        Email(message=_l("Enter a valid email address, for example ten@gmail.com."),
              check_deliverability=False)(form, field)


class ForgotPasswordForm(Form):
    email = StringField(_l("Phone number or email"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter your phone number or email.")), Length(max=254), PhoneOrEmail()])
    phone = None


def _code_field():
    return StringField(_l("Code"), filters=[lambda v: "".join(v.split()) if isinstance(v, str) else v],
                       validators=[DataRequired(message=_l("Enter the code from the message.")),
                                   Length(min=6, max=6, message=_l("The code has 6 digits."))])


class CodeForm(Form):
    """The code sent to the phone."""
    code = _code_field()


class SendAgainForm(Form):
    """The button "send the code again"."""


class PhoneResetForm(Form):
    """The code sent to ``phone`` and the new password, on one page."""
    code = _code_field()
    password = _password(_l("New password (at least 8 characters)"), lambda form: (None, form.phone, None))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])

    def __init__(self, *args, phone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone = phone


class ResetPasswordForm(Form):
    """``ResetPasswordForm(user=...)``: the account whose password is chosen (the link's, not who is logged in)."""
    password = _password(_l("New password (at least 8 characters)"), lambda form: _of_user(form.user))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])
