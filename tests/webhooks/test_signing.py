import base64

import pytest

from webhooks.signing import (
    InvalidSecret,
    SecretDecryptionError,
    SignatureInvalid,
    secret_decrypt,
    secret_encrypt,
    secret_generate,
    secret_reencrypt,
    signature_compute,
    signature_headers,
    signature_verify,
)

# The Standard Webhooks reference libraries' signing test (test_sign_function in
# libraries/python/tests/test_webhooks.py; the same vector in every language's tests).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = 1_700_000_000
BODY = b'{"type":"space.created","data":{"id":"6d1f..."}}'


def without(headers, name):
    return {key: value for key, value in headers.items() if key != name}


def other_signature(signature):
    tail = "AAA=" if not signature.endswith("AAA=") else "BBB="
    return signature[:-4] + tail


def signed(*secrets, body=BODY, timestamp=NOW, message_id="msg_1"):
    return signature_headers(message_id=message_id, timestamp=timestamp, body=body, secrets=list(secrets))


def test_the_spec_test_vector_signs_as_the_reference_libraries_do():
    headers = signature_headers(message_id=SPEC_MESSAGE_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY,
                                secrets=[SPEC_SECRET])
    assert headers == {"webhook-id": SPEC_MESSAGE_ID, "webhook-timestamp": str(SPEC_TIMESTAMP),
                       "webhook-signature": SPEC_SIGNATURE}
    signature_verify(secret=SPEC_SECRET, headers=headers, body=SPEC_BODY, now=SPEC_TIMESTAMP)


def test_the_spec_vector_verifies_with_the_prefix_or_without_it():
    headers = {"webhook-id": SPEC_MESSAGE_ID, "webhook-timestamp": str(SPEC_TIMESTAMP),
               "webhook-signature": SPEC_SIGNATURE}
    signature_verify(secret=SPEC_SECRET.removeprefix("whsec_"), headers=headers, body=SPEC_BODY, now=SPEC_TIMESTAMP)


def test_a_generated_secret_is_whsec_and_32_random_bytes():
    first, second = secret_generate(), secret_generate()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second


def test_a_signature_round_trips_and_header_names_are_case_insensitive():
    secret = secret_generate()
    headers = signed(secret)
    signature_verify(secret=secret, headers=headers, body=BODY, now=NOW)
    signature_verify(secret=secret, headers={name.title(): value for name, value in headers.items()}, body=BODY,
                     now=NOW)


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    current, previous = secret_generate(), secret_generate()
    headers = signed(current, previous)
    assert len(headers["webhook-signature"].split(" ")) == 2
    signature_verify(secret=current, headers=headers, body=BODY, now=NOW)
    signature_verify(secret=previous, headers=headers, body=BODY, now=NOW)
    with pytest.raises(SignatureInvalid, match="no matching signature"):
        signature_verify(secret=secret_generate(), headers=headers, body=BODY, now=NOW)


def test_the_signature_covers_the_exact_bytes_sent():
    secret = secret_generate()
    headers = signed(secret)
    expected = signature_compute(secret=secret, message_id="msg_1", timestamp=NOW, body=BODY)
    assert headers["webhook-signature"] == expected
    reserialised = BODY.replace(b",", b", ")  # the same JSON, other bytes
    with pytest.raises(SignatureInvalid, match="no matching signature"):
        signature_verify(secret=secret, headers=headers, body=reserialised, now=NOW)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h, b: (h, b + b" "), "no matching signature"),
        (lambda h, b: ({**h, "webhook-timestamp": str(NOW - 1)}, b), "no matching signature"),
        (lambda h, b: ({**h, "webhook-id": "msg_2"}, b), "no matching signature"),
        (lambda h, b: ({**h, "webhook-signature": other_signature(h["webhook-signature"])}, b),
         "no matching signature"),
        (lambda h, b: ({**h, "webhook-signature": "v1,"}, b), "no matching signature"),
        (lambda h, b: ({**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")}, b),
         "no matching signature"),
        (lambda h, b: (without(h, "webhook-signature"), b), "missing header webhook-signature"),
        (lambda h, b: (without(h, "webhook-id"), b), "missing header webhook-id"),
        (lambda h, b: (without(h, "webhook-timestamp"), b), "missing header webhook-timestamp"),
        (lambda h, b: ({**h, "webhook-timestamp": "hello"}, b), "not a Unix time"),
    ],
)
def test_a_tampered_request_is_refused(tamper, reason):
    secret = secret_generate()
    headers, body = tamper(signed(secret), BODY)
    with pytest.raises(SignatureInvalid, match=reason):
        signature_verify(secret=secret, headers=headers, body=body, now=NOW)


def test_timestamps_outside_the_tolerance_are_refused_even_when_signed():
    secret = secret_generate()
    signature_verify(secret=secret, headers=signed(secret, timestamp=NOW - 300), body=BODY, now=NOW)
    signature_verify(secret=secret, headers=signed(secret, timestamp=NOW + 300), body=BODY, now=NOW)
    with pytest.raises(SignatureInvalid, match="too old"):
        signature_verify(secret=secret, headers=signed(secret, timestamp=NOW - 301), body=BODY, now=NOW)
    with pytest.raises(SignatureInvalid, match="too new"):
        signature_verify(secret=secret, headers=signed(secret, timestamp=NOW + 301), body=BODY, now=NOW)
    signature_verify(secret=secret, headers=signed(secret, timestamp=NOW - 301), body=BODY, now=NOW,
                     tolerance_seconds=600)


def test_a_refusal_carries_its_reason():
    with pytest.raises(SignatureInvalid) as refused:
        signature_verify(secret=secret_generate(), headers={}, body=BODY, now=NOW)
    assert refused.value.reason == "missing header webhook-id"


@pytest.mark.parametrize("message_id", ["", "msg.1", "msg 1"])
def test_message_ids_that_would_make_the_signed_string_ambiguous_are_refused(message_id):
    with pytest.raises(ValueError, match="message id"):
        signed(secret_generate(), message_id=message_id)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", ""])
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(InvalidSecret):
        signed(secret)


def test_a_secret_round_trips_through_encryption(settings):
    settings.WEBHOOK_SECRETS_KEY = "a" * 40
    secret = secret_generate()
    token = secret_encrypt(secret)
    assert secret not in token
    assert secret_encrypt(secret) != token  # Fernet tokens are randomised
    assert secret_decrypt(token) == secret


def test_a_wrong_key_or_a_tampered_token_is_refused(settings):
    settings.WEBHOOK_SECRETS_KEY = "a" * 40
    token = secret_encrypt(secret_generate())
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(SecretDecryptionError, match="WEBHOOK_SECRETS_KEY"):
        secret_decrypt(tampered)
    with pytest.raises(SecretDecryptionError):
        secret_decrypt("not a token")
    settings.WEBHOOK_SECRETS_KEY = "b" * 40
    with pytest.raises(SecretDecryptionError, match="WEBHOOK_SECRETS_KEY"):
        secret_decrypt(token)


def test_secrets_stay_readable_across_a_key_rotation(settings):
    settings.WEBHOOK_SECRETS_KEY = "old" * 12
    secret = secret_generate()
    token = secret_encrypt(secret)
    settings.WEBHOOK_SECRETS_KEY, settings.WEBHOOK_SECRETS_KEY_PREVIOUS = "new" * 12, ["old" * 12]
    assert secret_decrypt(token) == secret
    moved = secret_reencrypt(token)
    settings.WEBHOOK_SECRETS_KEY_PREVIOUS = []
    assert secret_decrypt(moved) == secret
    with pytest.raises(SecretDecryptionError):
        secret_decrypt(token)
