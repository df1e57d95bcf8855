"""Is a page fully in Vietnamese? Compare its Vietnamese and English renderings (journey 5).

What is compared: every text node of the page's header (with the navigation), ``main`` and footer,
the page title and description, and the attributes people read or hear (``alt``, ``title``,
``aria-label``, ``placeholder``, button values, and the messages card.js and countdown.js show,
kept in ``data-*-text`` attributes). The text of a ``<noscript>`` counts too. Not counted: the card
fields Stripe.js puts in ``#card-element`` (Stripe's own frame; localstripe's stand-in in the tests).

How: the same page, in the same state, is rendered with ``?lang=en`` and ``?lang=vi``. Each text is
reduced to its interface part: what the test itself typed (farm, product, visit and person names,
descriptions, e-mails...), the villages and banks (place and company names), brand and technical
words that are the same in both languages, and numbers, amounts, dates, times, codes and e-mail
addresses are taken out. A Vietnamese text whose interface part (two letters or more) is also an
interface part of the English rendering was not translated. Comparing sets, not positions, keeps
this independent of the layout (a message shown in one rendering only moves nothing). A second,
independent check looks for common English words in the Vietnamese interface parts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Proper names and technical words that read the same in Vietnamese and English.
SAME_IN_BOTH = (
    "Chợ Dứa Kép", "Tiếng Việt", "English", "VietQR", "VietGAP", "NAPAS", "Visa", "Mastercard", "Stripe", "Email",
    "email", "CSV", "Excel", "QR", "Google Maps", "Queen", "kg", "HTX DUA KEP", "OK",
)

EXTRACT_JS = r"""
() => {
  const attributes = ["alt", "title", "aria-label", "placeholder", "data-busy-text", "data-error-text",
                      "data-load-error", "data-left-text", "data-expired-text"];
  const items = [];
  const add = (text) => { text = (text || "").replace(/\s+/g, " ").trim(); if (text) items.push(text); };
  add(document.title);
  const description = document.querySelector('meta[name="description"]');
  if (description) add(description.getAttribute("content"));
  for (const root of document.querySelectorAll("body > header, main, body > footer")) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        const parent = node.parentElement;
        if (!parent || parent.closest("script, style, template, #card-element")) continue;
        if (parent.closest("noscript")) { add(node.textContent.replace(/<[^>]*>/g, " ")); continue; }
        add(node.textContent);
        continue;
      }
      if (node.closest("#card-element")) continue;
      for (const name of attributes) if (node.hasAttribute(name)) add(node.getAttribute(name));
      if (node.matches('input[type="submit"], input[type="button"]')) add(node.value);
    }
  }
  return {lang: document.documentElement.lang, items: items};
}
"""

_PATTERNS = [re.compile(p) for p in (
    r"https?://\S+",
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+",
    r"\bKEP[2-9A-HJKMNP-Z]{7}\b",                  # order references (shop/payments/reference.py)
    r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b",                # ticket codes
    r"\bpi_\w+",                                   # Stripe ids
    r"\bFT\w+",                                    # bank transaction ids (the journeys' transfers are FT…)
    r"\d+([.,:/\u00a0\u202f -]\d+)*",              # numbers, amounts, dates, times, phone numbers
    r"[₫%×·–—\-→←✕()\[\]{}:;,.!?/|+*#@&'\"“”‘’…]",
)]
_LETTER = re.compile(r"[^\W\d_]")
ENGLISH_WORDS = re.compile(
    r"(?<![^\W\d_])(the|your|you|please|with|this|that|are|is|of|and|for|will|have|has|been|there|here|from|into"
    r"|order|orders|cart|paid|ticket)(?![^\W\d_])", re.IGNORECASE)


def _data_pattern(data: tuple[str, ...]) -> re.Pattern:
    """The data strings as whole words ("Ca" the village, not the "Ca" of "Cart"), longest first."""
    alternatives = "|".join(re.escape(value) for value in data if value)
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])") if alternatives else re.compile(r"(?!)")


_compiled: dict[tuple[str, ...], re.Pattern] = {}


def interface_part(text: str, data: list[str]) -> str:
    """``text`` without the data in it (``data`` longest first), numbers, codes and punctuation."""
    key = tuple(data)
    if key not in _compiled:
        _compiled[key] = _data_pattern(key)
    text = _compiled[key].sub(" ", text)
    for pattern in _PATTERNS:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def _has_words(text: str) -> bool:
    return len(_LETTER.findall(text)) >= 2


@dataclass
class PageFinding:
    page: str
    untranslated: list[str] = field(default_factory=list)   # the same interface text in both renderings
    english_words: list[str] = field(default_factory=list)  # Vietnamese interface text with English words
    compared: int = 0                                       # Vietnamese interface texts looked at

    @property
    def clean(self) -> bool:
        return not self.untranslated and not self.english_words


def data_strings(typed: set[str]) -> list[str]:
    """Everything to take out before comparing, longest first (so "Kép 10" goes before "Kép")."""
    from accounts.farms import VILLAGES
    from core.banks import BANKS

    values = set(typed) | set(VILLAGES) | set(BANKS.values()) | set(SAME_IN_BOTH)
    return sorted((v for v in values if v and v.strip()), key=len, reverse=True)


def compare(page: str, english: list[str], vietnamese: list[str], data: list[str]) -> PageFinding:
    """What of the Vietnamese rendering ``vietnamese`` is still English (see the module's docstring)."""
    english_parts = {part for part in (interface_part(t, data) for t in english) if _has_words(part)}
    finding = PageFinding(page)
    seen = set()
    for text in vietnamese:
        part = interface_part(text, data)
        if not _has_words(part) or part in seen:
            continue
        seen.add(part)
        finding.compared += 1
        if part in english_parts:
            finding.untranslated.append(text)
        elif ENGLISH_WORDS.search(part):
            finding.english_words.append(text)
    return finding


def differing(english: list[str], vietnamese: list[str]) -> int:
    """How many texts of the Vietnamese rendering are not in the English one (a sanity figure)."""
    return len(set(vietnamese) - set(english))
