"""What a code message says, per language, and how destinations are masked in logs."""

from __future__ import annotations

TEXTS = {
    "en": (
        "Your verification code",
        "Your verification code is {code}. It is valid for {minutes} minutes. "
        "Never share it with anyone.",
    ),
    "ru": (
        "Ваш код подтверждения",
        "Ваш код подтверждения: {code}. Он действует {minutes} мин. Никому не сообщайте этот код.",
    ),
}


def code_message(code: str, minutes: int, language: str) -> tuple[str, str]:
    """(subject, text) in the customer's language (English when we have no texts for it)."""
    subject, text = TEXTS.get(language, TEXTS["en"])
    return subject, text.format(code=code, minutes=minutes)


def mask(destination: str) -> str:
    """``+15550100001`` -> ``+1*****0001``; ``anna@example.test`` -> ``a***@example.test``."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 4 if len(destination) > 6 else 1
    return destination[:2] + "*" * max(len(destination) - 2 - keep, 0) + destination[-keep:]
