"""What the tests of localstripe share: the amount, the webhook secret, and a card, an intent, a paid intent."""

AMOUNT = 150000  # VND is zero-decimal: 150 000 ₫, not 1 500 ₫
WEBHOOK_SECRET = "whsec_kep_test"


def card(client, number):
    return client.v1.payment_methods.create(params={
        "type": "card",
        "card": {"number": number, "exp_month": 12, "exp_year": 2030,
                 "cvc": "123"}})


def intent(client, payment_method, **params):
    return client.v1.payment_intents.create(params={
        "amount": AMOUNT, "currency": "vnd",
        "payment_method": payment_method, **params})


def paid_intent(client):
    return intent(client, "pm_card_visa", confirm=True)
