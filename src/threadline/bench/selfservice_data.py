"""The self-service bench's data: the bitext intents as a knowledge base (one article per
intent; the older bitext samples carry no answers, so each article's body is the short answer
written here for its intent), the seeded splits of the utterances, and the labelled real
tweets (ids and labels in `selfservice_labels.txt`; the text is read from the data folder)."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SEED = 17
BITEXT = Path("bitext_customer_support") / "8k_customer_service" / \
    "Bitext_Sample_Customer_Service_Training_Dataset.csv"
TWEETS = Path("twcs") / "head5000_all_brands" / "twcs_head5000.csv"
LABELS = Path(__file__).with_name("selfservice_labels.txt")
HANDOVER_INTENTS = ("complaint", "contact_human_agent")
TRAIN, DEV = 0.5, 0.2  # the rest (0.3) is held out
PER_INTENT = 30  # held-out utterances per intent sent through the pipeline (seeded sample)
MAX_QUESTIONS = 50  # an article's example questions: a help centre's, not a training set

TITLES: dict[str, tuple[str, str, str]] = {
    # intent: (title, category, answer)
    "cancel_order": ("How to cancel an order", "Orders",
                     "You can cancel an order that has not shipped yet from Your orders: open "
                     "the order and choose Cancel order. If it has shipped, refuse the delivery "
                     "or return it and we refund you."),
    "change_order": ("Changing or editing an order", "Orders",
                     "Until an order ships you can change it: open Your orders, choose the "
                     "order and Edit items to add or remove items or change quantities."),
    "change_shipping_address": ("Changing the delivery address of an order", "Delivery",
                                "Before the order ships, open it in Your orders and choose "
                                "Change delivery address. Once shipped, the carrier's "
                                "tracking page lets you redirect it."),
    "check_cancellation_fee": ("Cancellation and early termination fees", "Billing",
                               "Cancelling within 14 days is free. After that an early "
                               "termination fee applies; Account > Plan shows the exact fee "
                               "before you confirm."),
    "check_invoice": ("Finding your invoices", "Billing",
                      "All invoices are under Account > Billing > Invoices, listed by date, "
                      "with their amounts and status."),
    "check_payment_methods": ("Accepted payment methods", "Payments",
                              "We accept Visa, Mastercard, American Express, PayPal, Apple Pay, "
                              "Google Pay and bank transfer."),
    "check_refund_policy": ("Our refund policy", "Refunds",
                            "You can ask for a refund within 30 days of delivery for items "
                            "returned unused. Refunds reach your account 5 to 10 business "
                            "days after we receive the return."),
    "contact_customer_service": ("How to contact customer service", "Contact",
                                 "Our customer service answers by chat, email and phone, "
                                 "Monday to Friday 8:00 to 20:00. The Contact page lists the "
                                 "numbers and the email address."),
    "create_account": ("Creating an account", "Account",
                       "Choose Sign up, enter your email address and a password, and confirm "
                       "the link we email you. Your account is ready at once."),
    "delete_account": ("Deleting your account", "Account",
                       "Go to Account > Privacy > Delete account. We erase your data within 30 "
                       "days; open orders must be completed or cancelled first."),
    "delivery_options": ("Delivery options", "Delivery",
                         "We offer standard delivery (3-5 days), express (1-2 days), next-day "
                         "and pick-up points; the options for your address show at checkout."),
    "delivery_period": ("How long delivery takes", "Delivery",
                        "Standard delivery takes 3 to 5 business days, express 1 to 2. The "
                        "expected date is in your order confirmation."),
    "edit_account": ("Editing your account details", "Account",
                     "Open Account > Profile to change your name, email address, phone number "
                     "or personal details, then save."),
    "get_invoice": ("Downloading an invoice", "Billing",
                    "Open Account > Billing > Invoices and choose Download PDF next to the "
                    "invoice you need. Invoices of any month are kept for 7 years."),
    "get_refund": ("How to get a refund", "Refunds",
                   "Start a return from Your orders, choose Refund and send the item back "
                   "with the prepaid label. The money goes back to your original payment "
                   "method."),
    "newsletter_subscription": ("Subscribing to or unsubscribing from the newsletter",
                                "Account",
                                "Manage the newsletter under Account > Notifications, or use "
                                "the Unsubscribe link at the bottom of any newsletter email."),
    "payment_issue": ("Problems with a payment", "Payments",
                      "If a payment fails, check the card's expiry date and billing address "
                      "and try again. You can report a payment problem from Account > "
                      "Billing > Report a payment issue."),
    "place_order": ("How to place an order", "Orders",
                    "Add the items to your basket, choose Checkout, pick a delivery option "
                    "and pay. You receive a confirmation email with the order number."),
    "recover_password": ("Recovering your password or PIN", "Account",
                         "Choose Forgot password on the sign-in page and enter your email: we "
                         "send a link to set a new password or PIN. The link is valid for one "
                         "hour."),
    "registration_problems": ("Problems signing up", "Account",
                              "If sign-up fails, check the email address is not registered "
                              "already and that the password has 8 characters or more. Report "
                              "a sign-up error with the form on the Sign up page."),
    "review": ("Leaving a review or feedback", "Feedback",
               "We love feedback: open the order in Your orders and choose Write a review, or "
               "send your comments through the feedback form on the Contact page."),
    "set_up_shipping_address": ("Adding a shipping address", "Delivery",
                                "Go to Account > Addresses and choose Add address. You can "
                                "save several and pick one as the default."),
    "switch_account": ("Switching between accounts or profiles", "Account",
                       "Open the menu under your name and choose Switch account, or sign out "
                       "and sign in with the other account."),
    "track_order": ("Tracking your order", "Orders",
                    "Open Your orders and choose Track package: you see where the parcel is "
                    "and when it is expected. The carrier's tracking number is in the "
                    "shipping email."),
    "track_refund": ("Checking the status of a refund", "Refunds",
                     "Your orders > Returns shows each refund's status. Once issued, a refund "
                     "takes 5 to 10 business days to reach your bank."),
}


@dataclass(frozen=True)
class Utterance:
    text: str
    intent: str


@dataclass(frozen=True)
class Splits:
    questions: dict[str, list[str]]  # intent -> the article's example questions
    dev: list[Utterance]
    test: list[Utterance]


def read_bitext(data: Path) -> list[Utterance]:
    with (data / BITEXT).open(encoding="utf-8-sig", newline="") as handle:
        return [Utterance(row["utterance"].strip(), row["intent"])
                for row in csv.DictReader(handle) if row["utterance"].strip()]


def split(rows: list[Utterance], seed: int = SEED) -> Splits:
    """Per intent, shuffled with a fixed seed: half trains (the article's questions, at most
    MAX_QUESTIONS), a fifth is the development split, the rest is held out."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_intent[row.intent].append(row.text)
    rng = random.Random(seed)
    questions: dict[str, list[str]] = {}
    dev: list[Utterance] = []
    test: list[Utterance] = []
    for intent in sorted(by_intent):
        texts = sorted(set(by_intent[intent]))
        rng.shuffle(texts)
        a, b = int(len(texts) * TRAIN), int(len(texts) * (TRAIN + DEV))
        if intent in TITLES:
            questions[intent] = texts[:a][:MAX_QUESTIONS]
        dev += [Utterance(t, intent) for t in texts[a:b]]
        test += [Utterance(t, intent) for t in texts[b:]]
    return Splits(questions, dev, test)


def read_tweets(data: Path) -> dict[str, str]:
    """Tweet id -> text of the twcs head file (its bare carriage returns are spaces)."""
    raw = (data / TWEETS).read_text(encoding="utf-8").replace("\r", " ")
    return {row["tweet_id"]: row["text"] for row in csv.DictReader(io.StringIO(raw))}


def read_labels(path: Path = LABELS) -> list[tuple[str, str]]:
    """(tweet id, label) rows: label is an intent, "none" or "handover"."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        tweet_id, label = line.split("\t")
        rows.append((tweet_id, label))
    return rows


def sample(rows: list[Utterance], per_intent: int = PER_INTENT,
           seed: int = SEED) -> list[Utterance]:
    """A seeded sample of `per_intent` utterances of each intent (in a shuffled order)."""
    by_intent: dict[str, list[Utterance]] = defaultdict(list)
    for row in rows:
        by_intent[row.intent].append(row)
    rng = random.Random(seed)
    picked = [u for intent in sorted(by_intent)
              for u in rng.sample(by_intent[intent], min(per_intent, len(by_intent[intent])))]
    rng.shuffle(picked)
    return picked
