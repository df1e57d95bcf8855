"""Account forms. Every message goes through gettext."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from core.forms import Form
from core.validators import VietnameseMobile

PASSWORD_MIN = 8
PASSWORD_MAX = 128


def _password(label):
    return PasswordField(label, validators=[
        InputRequired(message=_l("Enter a password.")),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
               message=_l("The password must have between %(min)d and %(max)d characters.")),
    ])


class RegisterForm(Form):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Enter your email address.")),
        Email(message=_l("Enter a valid email address, for example ten@gmail.com."), check_deliverability=False),
        Length(max=254),
    ])
    full_name = StringField(_l("Full name"), validators=[
        DataRequired(message=_l("Enter your full name.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])
    phone = TelField(_l("Mobile phone"), validators=[DataRequired(message=_l("Enter your mobile number.")),
                                                    VietnameseMobile()])
    password = _password(_l("Password (at least 8 characters)"))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(message=_l("Enter your email address.")),
                                                Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")),
                                                         Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Remember me on this device"))


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Enter your current password.")), Length(max=PASSWORD_MAX)])
    password = _password(_l("New password (at least 8 characters)"))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter your email address.")),
        Email(message=_l("Enter a valid email address, for example ten@gmail.com."), check_deliverability=False),
        Length(max=254),
    ])


class ResetPasswordForm(Form):
    password = _password(_l("New password (at least 8 characters)"))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("password", message=_l("The two passwords are not the same."))])
