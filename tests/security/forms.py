"""Read the forms of a page as a browser would send them (hidden fields, current values, checked boxes and
radios, selected options), so a test can change a few fields and post the rest as the page had them."""
from __future__ import annotations

from html.parser import HTMLParser

_TEXT_INPUTS = {"hidden", "text", "email", "tel", "number", "date", "time", "url", "search", "password", ""}


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict]] = []
        self._fields: dict | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = {key: value if value is not None else "" for key, value in attrs}
        if tag == "form":
            self._fields = {}
            self.forms.append((attr.get("action", ""), self._fields))
        elif self._fields is None:
            return
        elif tag == "input" and attr.get("name"):
            kind = attr.get("type", "").lower()
            if kind in _TEXT_INPUTS:
                self._fields[attr["name"]] = attr.get("value", "")
            elif kind in ("checkbox", "radio") and "checked" in attr:
                if kind == "checkbox" and attr["name"] in self._fields:
                    self._fields[attr["name"]] = [*_as_list(self._fields[attr["name"]]), attr.get("value", "on")]
                else:
                    self._fields[attr["name"]] = attr.get("value", "on")
        elif tag == "textarea" and attr.get("name"):
            self._textarea = attr["name"]
            self._fields[self._textarea] = ""
        elif tag == "select" and attr.get("name"):
            self._select, self._first_option = attr["name"], None
        elif tag == "option" and self._select:
            value = attr.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self._fields.setdefault(self._select, value)
            if "selected" in attr:
                self._fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data


def _as_list(value):
    return value if isinstance(value, list) else [value]


def forms(html: str) -> list[tuple[str, dict]]:
    """Every form of the page: (action, fields)."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field: str) -> dict:
    """The fields of the first form that has ``field``."""
    for _action, fields in forms(html):
        if field in fields:
            return dict(fields)
    raise AssertionError(f"no form with a field {field!r}")
