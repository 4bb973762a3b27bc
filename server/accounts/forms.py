"""The account pages' posted forms, as typed (server/forms.py, PostedForm): signing in, the second step, the
first supervisor's set-up, changing a password, and turning two-factor sign-in or a passkey on and off.
Passwords are read as sent (spaces count); everything else stripped. The checks are the service's
(service.py, passkeys.py): a name or code holding what no one can type is no account or a wrong code there."""

from __future__ import annotations

from dataclasses import dataclass

from server.forms import PostedForm, posted


@dataclass
class SignInForm(PostedForm):
    """The password step; `lanjut` is where the person was going (checked by safe_next)."""

    username: str = ""
    password: str = posted(raw=True)
    lanjut: str = ""


@dataclass
class CodeForm(PostedForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code: str = ""


@dataclass
class PasswordChangeForm(PostedForm):
    current: str = posted(raw=True)
    new: str = posted(raw=True)
    repeat: str = posted(raw=True)


@dataclass
class TwoFactorForm(PostedForm):
    """Turning two-factor sign-in on (the secret shown and a code), off (password and code), or adding a
    passkey (password, code and the passkey's name)."""

    secret: str = ""
    code: str = ""
    password: str = posted(raw=True)
    passkey_name: str = ""


@dataclass
class SetupForm(PostedForm):
    """The first supervisor's one-time link (`t`): a password twice, and two-factor sign-in at once."""

    t: str = ""
    password: str = posted(raw=True)
    repeat: str = posted(raw=True)
    secret: str = ""
    code: str = ""
