from decimal import Decimal

from ninja import Schema


class UnitOut(Schema):
    code: str
    name: str
    kind: str
    estate_type: str
    parent_code: str | None
    path: str
    depth: int
    is_active: bool

    @staticmethod
    def resolve_parent_code(obj):
        # The path already holds the parent's code: no extra query per row (a unit or a values() row).
        path = obj["path"] if isinstance(obj, dict) else obj.path
        codes = [code for code in path.split("/") if code]
        return codes[-2] if len(codes) > 1 else None


class UnitCreateIn(Schema):
    kind: str
    code: str
    name: str
    parent_code: str
    sort_order: int = 0


class UnitUpdateIn(Schema):
    name: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None


class UnitMoveIn(Schema):
    parent_code: str


class VenueOut(Schema):
    id: int
    org_code: str
    kind: str
    name: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    opening_hours: str
    is_active: bool

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code


class VenueCreateIn(Schema):
    org_code: str
    kind: str
    name: str
    address: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    opening_hours: str = ""


class RegistrationPointOut(Schema):
    code: str
    name: str
    org_code: str
    venue_id: int | None
    is_active: bool
    url: str

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code

    @staticmethod
    def resolve_url(obj):
        from kangle.orgs.qr import registration_url

        return registration_url(obj)


class RegistrationPointCreateIn(Schema):
    org_code: str
    code: str
    name: str
    venue_id: int | None = None
