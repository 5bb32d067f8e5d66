"""Personal data encrypted at rest, keyed-hash lookup, key rotation, masking and normalising helpers."""

from __future__ import annotations

import pytest
from django.db import connection

from kangle.accounts.models import User
from kangle.core import crypto
from kangle.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.notify.models import OutboxMessage
from kangle.notify.services import queue_sms

OLD_KEY = "old-field-key-" + "o" * 32
NEW_KEY = "new-field-key-" + "n" * 32


def raw_column(table: str, column: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_phone_is_not_stored_in_clear(personas):
    stored = raw_column("accounts_user", "phone", personas.secretary_a.pk)
    assert stored.startswith(crypto.TOKEN_PREFIX)
    assert "13900000003" not in stored and "0000" not in stored
    assert User.objects.get(pk=personas.secretary_a.pk).phone == "13900000003"
    # Nothing in the whole row gives the number away.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_user WHERE id = %s", [personas.secretary_a.pk])
        assert "13900000003" not in " ".join(str(value) for value in cursor.fetchone())


@pytest.mark.django_db
def test_the_same_phone_encrypts_differently_each_time(personas):
    a = raw_column("accounts_user", "phone", personas.secretary_a.pk)
    personas.secretary_a.save()
    b = raw_column("accounts_user", "phone", personas.secretary_a.pk)
    assert a != b  # randomised: equal numbers cannot be spotted in a dump


@pytest.mark.django_db
def test_blind_index_finds_a_user_by_phone_in_any_spelling(personas):
    for typed in ["13900000003", "139 0000 0003", "+8613900000003", "１３９０００００００３"]:
        assert User.objects.get_by_phone(typed).pk == personas.secretary_a.pk, typed
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_phone("13900000009")
    stored_hash = raw_column("accounts_user", "phone_hash", personas.secretary_a.pk)
    assert stored_hash == crypto.blind_index("13900000003")
    assert "13900000003" not in stored_hash and len(stored_hash) == 64


@pytest.mark.django_db
def test_users_without_a_phone_store_no_hash(personas):
    assert raw_column("accounts_user", "phone_hash", personas.area_admin.pk) is None
    assert raw_column("accounts_user", "phone", personas.area_admin.pk) == ""


def test_blind_index_depends_on_the_key(settings):
    settings.KANGLE_FIELD_KEYS = [OLD_KEY]
    with_old = crypto.blind_index("13800000000")
    settings.KANGLE_FIELD_KEYS = [NEW_KEY]
    assert crypto.blind_index("13800000000") != with_old


def test_key_rotation_keeps_old_data_readable(settings):
    settings.KANGLE_FIELD_KEYS = [OLD_KEY]
    old_token = crypto.encrypt("上海市徐汇区康健路 1 号")
    # Rotate: the new key first (it encrypts), the old one after it (it still decrypts).
    settings.KANGLE_FIELD_KEYS = [NEW_KEY, OLD_KEY]
    assert crypto.decrypt(old_token) == "上海市徐汇区康健路 1 号"
    new_token = crypto.encrypt("康健路 2 号")
    # New data is written with the new key alone...
    settings.KANGLE_FIELD_KEYS = [NEW_KEY]
    assert crypto.decrypt(new_token) == "康健路 2 号"
    # ...and the old data needs the old key.
    with pytest.raises(ValueError, match="KANGLE_FIELD_KEY"):
        crypto.decrypt(old_token)


def test_a_value_that_is_not_a_token_is_refused(settings):
    with pytest.raises(ValueError):
        crypto.decrypt("13900000003")
    with pytest.raises(ValueError):
        crypto.decrypt(crypto.TOKEN_PREFIX + "garbage")


@pytest.mark.django_db
def test_rotation_through_the_model_field(settings):
    settings.KANGLE_FIELD_KEYS = [OLD_KEY]
    message = queue_sms(phone="13912345678", text="测试")
    settings.KANGLE_FIELD_KEYS = [NEW_KEY, OLD_KEY]
    assert OutboxMessage.objects.get(pk=message.pk).to == "13912345678"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812341234", "138****1234"),
        ("", ""),
        (None, ""),
        ("12345", "*****"),
        ("02164871234", "021****1234"),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("310104199001011234", "310104********1234"), ("3101041234", "**********"), ("", "")],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("Li", "L*"), ("", "")]
)
def test_mask_name(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("康健路300弄12号501室", "康健路300****"), ("康健路", "康健*"), ("", "")],
)
def test_mask_address(value, masked):
    assert mask_address(value) == masked


def test_normalising_what_people_type():
    assert normalise_text("  康健路　３００弄  ") == "康健路 300弄"
    assert normalise_phone("（+86）139-0000 0003") == "13900000003"
    assert normalise_phone("0086 13900000003") == "13900000003"
    assert is_mobile("13900000003")
    assert not is_mobile("12900000003")
    assert not is_mobile("1390000000")
    assert not is_mobile("02164871234")


@pytest.mark.django_db
def test_rotation_keeps_phone_hashes_and_login_lookup(settings):
    """A new key in front encrypts from then on; the hashes stay keyed by the original (last) key."""
    from kangle.accounts.models import User

    settings.KANGLE_FIELD_KEYS = [OLD_KEY]
    user = User.objects.create_user("rotating", "x" * 12, phone="13912345670")
    hash_before = crypto.blind_index("13912345670")
    settings.KANGLE_FIELD_KEYS = [NEW_KEY, OLD_KEY]
    assert crypto.blind_index("13912345670") == hash_before
    assert User.objects.get_by_phone("139 1234 5670").pk == user.pk
