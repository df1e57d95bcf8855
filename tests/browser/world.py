"""The shared world of the browser journeys: one live app, one Chromium, one browser context per person.

A journey is a plain function that takes the world and does, through the pages, what a person does.
``World.once(name, journey)`` runs it the first time it is asked for and hands back what it made
afterwards, so each test can ask for the journeys it builds on (journey 4 asks for 2 and 3, which ask
for 1) and still makes sense alone, while a full run does each journey once.

Every step a journey names is screenshotted (kept in memory; written to
``test-artifacts/browser/<test>/NN-<person>-<step>.png`` when the test fails), and every page a journey
sees is also rendered in the other language and kept for journey 5's comparison.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.browser.languages import EXTRACT_JS
from tests.browser.live import PHONE_VIEWPORT, LiveApp

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# Ids used twice by elements people see or use (hidden inputs such as csrf_token do not count).
DUPLICATE_IDS_JS = """() => {
  const count = {};
  for (const element of document.querySelectorAll('[id]:not(input[type=hidden])'))
    count[element.id] = (count[element.id] || 0) + 1;
  return Object.keys(count).filter((id) => count[id] > 1);
}"""


def with_lang(url: str, lang: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"] + [("lang", lang)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "step"


@dataclass
class Person:
    name: str
    lang: str
    context: object
    page: object
    problems: list[str] = field(default_factory=list)  # JavaScript errors and console errors (CSP included)


@dataclass
class Capture:
    label: str
    person: str
    url: str
    renderings: dict[str, dict]  # lang -> {"lang": <html lang>, "items": [...]}


class JourneyFailedEarlier(AssertionError):
    pass


class World:
    def __init__(self, live: LiveApp, browser, stripe_url: str) -> None:
        self.live = live
        self.browser = browser
        self.stripe_url = stripe_url
        self.people: dict[str, Person] = {}
        self.typed: set[str] = set()          # what the journeys typed: taken out before comparing languages
        self.captures: list[Capture] = []
        self.shots: list[tuple[str, bytes]] = []
        self.results: dict[str, object] = {}
        self._running: set[str] = set()

    # -- journeys ------------------------------------------------------------------------------------------

    def once(self, name: str, journey: Callable[["World"], object]):
        if name in self.results:
            return self.results[name]
        if name in self._running:
            raise JourneyFailedEarlier(f"{name} failed earlier in this run (see that failure); "
                                       "the journeys that build on it cannot go on")
        self._running.add(name)
        self.results[name] = journey(self)
        return self.results[name]

    # -- people --------------------------------------------------------------------------------------------

    def person(self, name: str, lang: str = "vi") -> Person:
        """A person with their own browser context (cookies), on a phone-sized screen."""
        if name not in self.people:
            context = self.browser.new_context(viewport=PHONE_VIEWPORT, base_url=self.live.base_url,
                                               accept_downloads=True)
            context.set_default_timeout(15_000)
            page = context.new_page()
            person = Person(name, lang, context, page)
            page.on("pageerror", lambda error, p=person: p.problems.append(f"JavaScript error: {error}"))
            page.on("console", lambda message, p=person: p.problems.append(
                f"console error on {p.page.url}: {message.text}") if message.type == "error" else None)
            self.people[name] = person
            page.goto(with_lang("/", lang))
        return self.people[name]

    def remember(self, *values: str) -> None:
        """Strings the journeys typed (names, descriptions...): data, not interface text."""
        for value in values:
            if value:
                self.typed.add(str(value))
                self.typed.update(line.strip() for line in str(value).splitlines() if line.strip())

    # -- steps: screenshots, and the page in both languages ----------------------------------------------------

    def shot(self, person: Person, step: str) -> None:
        name = f"{len(self.shots) + 1:02d}-{_slug(person.name)}-{_slug(step)}.png"
        self.shots.append((name, person.page.screenshot(full_page=True)))

    def seen(self, person: Person, label: str) -> None:
        """A step that lands on a page: screenshot it, and keep it in both languages for journey 5.

        The page as the person sees it counts for their language; the other language is rendered from
        the same address, and then the page is loaded again in the person's language, so the journey
        goes on from where it was (a flash message already read is not shown again)."""
        self.shot(person, label)
        page = person.page
        url = page.url
        for duplicate in page.evaluate(DUPLICATE_IDS_JS):
            person.problems.append(f"two elements with id={duplicate!r} on {label} ({url}): a label points "
                                   "at the wrong field")
        other = "en" if person.lang == "vi" else "vi"
        renderings = {person.lang: page.evaluate(EXTRACT_JS)}
        page.goto(with_lang(url, other))
        renderings[other] = page.evaluate(EXTRACT_JS)
        page.goto(with_lang(url, person.lang))
        self.captures.append(Capture(label, person.name, url, renderings))

    def start_test(self) -> None:
        self.shots = []
        self.live.errors.records.clear()
        for person in self.people.values():
            person.problems.clear()

    def save_shots(self, test_name: str) -> Path:
        folder = ARTIFACTS / _slug(test_name)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        shots = list(self.shots)
        for person in self.people.values():
            try:
                shots.append((f"{len(shots) + 1:02d}-{_slug(person.name)}-at-failure.png",
                              person.page.screenshot(full_page=True)))
            except Exception:  # noqa: BLE001 - a closed page has nothing to show
                pass
        for name, data in shots:
            (folder / name).write_bytes(data)
        return folder

    # -- checks shared by the journeys -------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """JavaScript and console errors in any page, and errors the app logged, since the test began."""
        found = [problem for person in self.people.values() for problem in person.problems]
        return found + [f"server error: {record}" for record in self.live.errors.records]

    def query(self, work: Callable[[], object]):
        """Run ``work`` against the app's database (in an app context of its own); its result."""
        from core.extensions import db

        with self.live.app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    def close(self) -> None:
        for person in self.people.values():
            person.context.close()
