"""Made-up posts for the benches, the tests and the demo: an outage told in many words by many
customers, and unrelated everyday questions (no real person's text)."""

from __future__ import annotations

import random

_OPEN = ["", "hey ", "um ", "so ", "wow ", "again? ", "seriously ", "guys ", "ugh "]
_OUTAGE = [
    "is the app down? can't log in",
    "app won't load, login keeps failing",
    "login is broken, the app says error 503",
    "your service is down, I cannot log in",
    "the app is down again, login fails every time",
    "can't log in to the app, it just spins and fails",
    "login not working, app down for everyone?",
    "is there an outage? the app login fails",
    "app down? login error when I try to sign in",
    "cannot login, the app shows an error and won't load",
    "the login page fails with an error, is the app down",
    "outage? can't log into the app at all",
]
_PAYMENT = [
    "checkout keeps failing, my card is declined",
    "payment error at checkout, card declined three times",
    "I cannot pay, the checkout page gives a payment error",
    "card declined at checkout but my bank says all fine",
    "payments broken? checkout fails with my visa",
    "why is my card declined on your checkout today",
    "checkout payment failed again, cannot finish my order",
    "is payment down? card gets declined at checkout",
]
_TAIL = ["", " since this morning", " for an hour now", " on my phone", " on android",
         " on iphone", " on the website too", " please fix", " what is going on", " !!",
         " any news?", " help", " in Berlin", " in Lyon", " at work"]
_UNRELATED = [
    "my parcel has not arrived yet, order {n}",
    "how do I change the delivery address of my order",
    "I was charged twice for the same subscription this month",
    "do you ship to Canada? asking for a friend",
    "what time does the store on Main street open on Sunday",
    "the new blue jacket is lovely, will it come in size {n}",
    "can I get a refund for a gift I did not like",
    "my voucher code {n} says expired but it should be valid",
    "thanks for the quick help yesterday with my invoice",
    "is the summer sale coming back this year",
    "where can I find the user manual for the coffee machine",
    "my loyalty points from order {n} are missing",
    "how long does a return take to be processed",
    "the cashier in your shop was really kind today",
    "can I pay with a bank transfer instead of a card",
]


def outage_posts(count: int, seed: int = 7, brand: str = "@Brand",
                 theme: str = "login") -> list[str]:
    """`count` posts about one failure: "login" (the app is down) or "payment"."""
    rng = random.Random(seed)
    pool = _PAYMENT if theme == "payment" else _OUTAGE
    return [f"{brand} {rng.choice(_OPEN)}{rng.choice(pool)}{rng.choice(_TAIL)}".strip()
            for _ in range(count)]


def unrelated_posts(count: int, seed: int = 11, brand: str = "@Brand") -> list[str]:
    rng = random.Random(seed)
    return [f"{brand} " + rng.choice(_UNRELATED).format(n=rng.randrange(10, 99999))
            for _ in range(count)]
