"""The personalised greeting as data plus text, so a flow node can say it and route on it.

Known caller: "Good morning, Anna." + the most relevant open item (an upcoming scheduled
request, else a bill forecast over the limit, else an open request) + a repeat-contact offer
when they contacted us about something in the last 7 days on any channel ("Are you calling
about your router again?" — `offer.intent` is where "yes" goes). Ambiguous callers hear no
name and are asked to identify; unknown, withheld and unavailable get the generic greeting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.customers import phrases
from ivr.customers.crm import LookupResult
from ivr.store.domain import Account, Customer, Interaction

REPEAT_WINDOW = timedelta(days=7)
LANGUAGES = ("en", "ru")

# intent -> (English object, Russian genitive after "по поводу").
TOPICS: Mapping[str, tuple[str, str]] = {
    "router": ("your router", "роутера"),
    "internet": ("your internet connection", "интернета"),
    "billing": ("your bill", "счёта"),
    "bill": ("your bill", "счёта"),
    "payment": ("your payment", "оплаты"),
    "balance": ("your balance", "баланса"),
    "outage": ("the outage", "аварии"),
    "technician": ("the technician visit", "визита мастера"),
    "request_status": ("your request", "вашей заявки"),
}
GENERIC = {"en": "Good {part}, and thank you for calling.", "ru": "{part}! Спасибо за звонок."}
IDENTIFY = {
    "en": "Several accounts use this number, so we will ask you to identify yourself.",
    "ru": "Этот номер привязан к нескольким лицевым счетам, поэтому мы попросим вас представиться.",
}


@dataclass(frozen=True, slots=True)
class OpenItem:
    kind: Literal["scheduled_request", "bill_over_limit", "open_request"]
    text: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RepeatOffer:
    intent: str
    text: str
    channel: str
    last_contact: datetime


@dataclass(frozen=True, slots=True)
class Greeting:
    kind: Literal["personal", "ambiguous", "generic"]
    language: str
    salutation: str
    item: OpenItem | None = None
    offer: RepeatOffer | None = None
    customer_id: int | None = None

    @property
    def sentences(self) -> tuple[str, ...]:
        parts = [self.salutation]
        parts += [self.item.text] if self.item else []
        parts += [self.offer.text] if self.offer else []
        return tuple(parts)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _salute(language: str, local: datetime, name: str | None) -> str:
    word = phrases.SALUTATIONS[language][phrases.part_of_day(local.hour)]
    if name is None:
        return GENERIC[language].format(part=word.removeprefix("Good ").lower()
                                        if language == "en" else word)  # fmt: skip
    return f"{word}, {name}." if language == "en" else f"{word}, {name}!"


def _language(wanted: str) -> str:
    return wanted if wanted in LANGUAGES else "en"


def build_greeting(
    lookup: LookupResult,
    now: datetime,
    *,
    recent: Sequence[Interaction] = (),
    language: str = "en",
    zone: str | None = None,
) -> Greeting:
    """``language``/``zone`` apply when the caller is not known (the line's own settings)."""
    customer = lookup.customer
    if customer is not None:
        return _personal(customer, now, recent)
    if lookup.kind == "ambiguous":
        languages = {c.language for c in lookup.customers}
        lang = _language(languages.pop() if len(languages) == 1 else language)
        local = now.astimezone(_zone(zone))
        return Greeting("ambiguous", lang, f"{_salute(lang, local, None)} {IDENTIFY[lang]}")
    lang = _language(language)
    return Greeting("generic", lang, _salute(lang, now.astimezone(_zone(zone)), None))


def _personal(customer: Customer, now: datetime, recent: Sequence[Interaction]) -> Greeting:
    lang = _language(customer.language)
    zone = _zone(customer.time_zone)
    local = now.astimezone(zone)
    first_name = customer.name.split()[0] if customer.name.strip() else None
    return Greeting(
        "personal",
        lang,
        _salute(lang, local, first_name),
        item=open_item(customer, now, lang, zone),
        offer=repeat_offer(recent, now, lang),
        customer_id=customer.id,
    )


def open_item(customer: Customer, now: datetime, lang: str, zone: tzinfo) -> OpenItem | None:
    upcoming = [
        r for r in customer.open_requests
        if r.scheduled_from is not None and (r.scheduled_to or r.scheduled_from) >= now
    ]  # fmt: skip
    if upcoming:
        request = min(upcoming, key=lambda r: r.scheduled_from or now)
        start = (request.scheduled_from or now).astimezone(zone)
        end = request.scheduled_to.astimezone(zone) if request.scheduled_to else None
        when = phrases.day_phrase(start.date(), now.astimezone(zone).date(), lang)
        window = phrases.window_phrase(start, end, lang)
        text = (
            f"Your request '{request.title}' is scheduled {when} {window}."
            if lang == "en"
            else f"Ваша заявка «{request.title}» запланирована {when} {window}."
        )
        return OpenItem("scheduled_request", text, {"request_title": request.title,
                                                     "request_id": str(request.id)})  # fmt: skip
    over = [a for a in customer.accounts if a.over_limit]
    if over:
        return _bill_item(over[0], lang)
    if customer.open_requests:
        request = max(customer.open_requests, key=lambda r: r.updated_at)
        text = (
            f"Your request '{request.title}' is in progress."
            if lang == "en"
            else f"Ваша заявка «{request.title}» в работе."
        )
        return OpenItem("open_request", text, {"request_title": request.title,
                                               "request_id": str(request.id)})  # fmt: skip
    return None


def _bill_item(account: Account, lang: str) -> OpenItem:
    # over_limit guarantees both figures are present.
    amount = phrases.whole(account.forecast or Decimal(0))
    cap = phrases.whole(account.bill_limit or Decimal(0))
    currency = account.currency
    if lang == "en":
        text = (
            f"Your bill this month is forecast at {phrases.money(amount, currency, 'en')}, "
            f"over your {phrases.money_adjective(cap, currency)} limit."
        )
    else:
        text = (
            f"По прогнозу ваш счёт за этот месяц составит {phrases.money(amount, currency, 'ru')}"
            f" — это больше вашего лимита в {phrases.money(cap, currency, 'ru')}."
        )
    return OpenItem("bill_over_limit", text, {"forecast": str(amount), "limit": str(cap),
                                              "currency": currency})  # fmt: skip


def repeat_offer(
    recent: Sequence[Interaction], now: datetime, lang: str, window: timedelta = REPEAT_WINDOW
) -> RepeatOffer | None:
    """The newest interaction with an intent in the window, on any channel."""
    candidates = [i for i in recent if i.intent and now - window <= i.started_at <= now]
    if not candidates:
        return None
    last = max(candidates, key=lambda i: i.started_at)
    intent = last.intent or ""
    topic = TOPICS.get(intent)
    if lang == "en":
        what = topic[0] if topic else "your " + intent.replace("_", " ")
        text = f"Are you calling about {what} again?"
    elif topic:
        text = f"Вы снова звоните по поводу {topic[1]}?"
    else:
        text = "Вы звоните по тому же вопросу, что и в прошлый раз?"
    return RepeatOffer(intent, text, last.channel, last.started_at)
