"""The public-reply guard knows the customer (finding 11): his coordinates never go public in
any wording or format, the brand's own contacts are an explicit list (no guess from "we"), and
requests for part of a card number are refused in public but allowed as a move to private."""

from __future__ import annotations

import pytest

from threadline.triage import Known, check_outbound

CUSTOMER = Known(customer=("+447911123456", "+14155550132", "maria.lopez88@example.org",
                           "jane@example.com", "maria_tg_77"))
BRAND = ("+18005550199", "help@acme.example", "https://acme.example/contact")


def refused(text: str, known: Known = CUSTOMER) -> set[tuple[str, str | None]]:
    verdict = check_outbound(text, visibility="public", known=known)
    assert verdict.blocked == bool(verdict.reasons)
    return {(r.code, r.pii_type) for r in verdict.reasons}


class TestTheFinding:
    @pytest.mark.parametrize(("text", "kind"), [
        ("Thanks Maya, we will call you at +44 7911 123456 shortly", "PHONE_NUMBER"),
        ("We have your number as (415) 555-0132, is that right?", "PHONE_NUMBER"),
        ("we've emailed you at maria.lopez88@example.org", "EMAIL_ADDRESS"),
        ("Update: we wrote to you at Jane@Example.com and this is now resolved.",
         "EMAIL_ADDRESS"),
    ])
    def test_the_customers_own_coordinates_are_refused(self, text: str, kind: str) -> None:
        assert ("customer_coordinate", kind) in refused(text)

    @pytest.mark.parametrize("text", [
        "Thanks Maya, we will call you at +44 7911 123456 shortly",
        "We have your number as (415) 555-0132, is that right?",
        "we've emailed you at maria.lopez88@example.org",
    ])
    def test_refused_even_when_the_guard_knows_nothing_about_the_customer(self,
                                                                          text: str) -> None:
        # No "we/us/our" guess: an unlisted phone or email is personal data.
        assert refused(text, Known())

    def test_last_four_digits_of_the_card_asked_in_public(self) -> None:
        assert refused("We need the last 4 digits of your card") == {
            ("requests_personal_data", "CARD_PARTIAL")}


class TestFormats:
    @pytest.mark.parametrize("text", [
        "We will ring +447911123456 today",
        "We will ring 07911 123456 today",
        "We will ring 0044 7911 123 456 today",
        "We will ring 7911-123-456 today",
        "We will ring (0)7911.123.456 today",
        "Is 415.555.0132 still your number?",
        "Is +1-415-555-0132 still your number?",
        "Is 555-0132 still the best line?",
        "Is 4155550132 still your number?",
    ])
    def test_phone_written_any_way(self, text: str) -> None:
        assert ("customer_coordinate", "PHONE_NUMBER") in refused(text)

    @pytest.mark.parametrize("text", [
        "We wrote to MARIA.LOPEZ88@EXAMPLE.ORG",
        "We wrote to maria.lopez88 at example dot org",
        "We wrote to maria.lopez88 [at] example [dot] org",
        "We wrote to maria.lopez88(at)example.org",
    ])
    def test_email_written_any_way(self, text: str) -> None:
        assert ("customer_coordinate", "EMAIL_ADDRESS") in refused(text)

    def test_handle_on_a_private_channel(self) -> None:
        assert ("customer_coordinate", "ACCOUNT_HANDLE") in refused(
            "We found you on Telegram as @maria_tg_77, check there")

    def test_spans_point_at_the_coordinate_and_messages_never_quote_it(self) -> None:
        text = "Thanks Maya, we will call you at +44 7911 123456 shortly"
        verdict = check_outbound(text, visibility="public", known=CUSTOMER)
        [reason] = verdict.reasons
        assert text[reason.start or 0:reason.end] == "+44 7911 123456"
        assert "7911" not in reason.message and "customer's own phone number" in reason.message

    @pytest.mark.parametrize("text", [
        "Order 5550133 has shipped, Maya.",  # not the customer's digits
        "Sorry about the wait, Maria. We're on it.",
        "Flight AK 7911 leaves at 12:34 today.",
    ])
    def test_near_misses_pass(self, text: str) -> None:
        assert refused(text) == set()


class TestBrandContacts:
    @pytest.mark.parametrize("text", [
        "Call us at 1-800-555-0199 and the team will help.",
        "Call us at +1 (800) 555-0199.",
        "Write to HELP@acme.example and we will sort it out.",
        "Our form is at https://acme.example/contact?email=help@acme.example",
    ])
    def test_listed_brand_contacts_are_allowed(self, text: str) -> None:
        assert refused(text, Known(brand=BRAND)) == set()

    @pytest.mark.parametrize("text", [
        "Call us at 1-800-555-0199 and the team will help.",
        "Our helpline is +44 20 7946 0958.",
        "Our team is at support@elsewhere.example",
    ])
    def test_unlisted_numbers_after_we_or_our_are_refused(self, text: str) -> None:
        assert refused(text, Known()) & {("personal_data", "PHONE_NUMBER"),
                                         ("personal_data", "EMAIL_ADDRESS")}

    def test_a_brand_contact_that_is_also_the_customers_is_refused(self) -> None:
        both = Known(customer=("+18005550199",), brand=BRAND)
        assert ("customer_coordinate", "PHONE_NUMBER") in refused(
            "Call us at 1-800-555-0199.", both)


class TestPartialCards:
    @pytest.mark.parametrize("text", [
        "We need the last 4 digits of your card",
        "Please reply with the first six digits of the card.",
        "Can you confirm the last four numbers on your Visa?",
        "What's the card ending you paid with?",
        "Tell us the first 6 and last 4 of your payment card.",
        "Please confirm the expiry date on the card.",
        "What is the CVV on the back?",
        "Could you give us the 3-digit code on the back of the card?",
        "Please send your PIN so we can check.",
        "Please share the security code.",
    ])
    def test_asked_in_public(self, text: str) -> None:
        kinds = {kind for code, kind in refused(text) if code == "requests_personal_data"}
        assert kinds & {"CARD_PARTIAL", "CARD_SECURITY", "PASSWORD"}, text

    @pytest.mark.parametrize("text", [
        "DM us your card's last 4 digits and we'll look into it.",
        "Could you send us a DM with the first 6 and last 4 of your payment card?",
        "Please send us a DM. Include the last 4 digits of the card.",
        "We'll need the last 4 digits of the card. Could you fire it over via DM?",
        "Use this secure link to confirm the card ending: https://acme.example/secure",
        "Please don't share the last 4 digits of your card here.",
        "Call us and we'll take the expiry date over the phone.",
    ])
    def test_private_redirections_are_allowed(self, text: str) -> None:
        assert refused(text) == set()

    def test_a_card_ending_given_in_public_is_refused(self) -> None:
        assert ("personal_data", "CARD_PARTIAL") in refused(
            "The refund went to the Credit Card ending *1166 on 11 Oct.")

    @pytest.mark.parametrize("text", [
        "Thanks for the DM. What are the last 4 digits of your card?",
        "Tell us the last 4 digits of your card by 5 pm.",
        "DM us if you like, but reply here with the last 4 digits of your card.",
    ])
    def test_no_private_route_in_fact(self, text: str) -> None:
        assert ("requests_personal_data", "CARD_PARTIAL") in refused(text)


@pytest.mark.parametrize("text", [  # real brand wording the guard refused before (TWCS)
    "We'd suggest deleting your previous tweet as it contains your email address.",
    "Please tell me more about what happened (no account number).",
    "This is done. Please check your email.",
    "You'll need a recurring payment method such as PayPal or a debit/credit card.",
    "We'll need the account's email address. Could you fire it over via DM?",
    "Tell us your account email by 5 pm. Send it by DM, please.",
])
def test_real_agent_wording_that_is_no_public_request(text: str) -> None:
    assert refused(text, Known()) == set()


def test_private_visibility_is_never_blocked() -> None:
    verdict = check_outbound("We will call +44 7911 123456; last 4 digits of your card?",
                             visibility="private", known=CUSTOMER)
    assert not verdict.blocked and verdict.reasons == []


def test_a_long_reply_full_of_coordinates_is_refused_with_a_bounded_verdict() -> None:
    text = "Call +44 7911 123456, 07911123456 or (415) 555-0132. " * 400
    verdict = check_outbound(text, visibility="public", known=CUSTOMER)
    assert verdict.blocked and len(verdict.reasons) == 50
    assert {r.code for r in verdict.reasons} == {"customer_coordinate"}
