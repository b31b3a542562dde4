"""Test-only searchable records (names start with "Test"), positioned at real postcodes of the
embedded tables. They are only ever written to temporary data directories."""

from finder.postcodes import lookup


def record(id_, kind, pc, **extra):
    location = lookup(pc)
    base = {
        "id": id_,
        "kind": kind,
        "name": f"Test {kind} {id_}",
        "lat": location.lat,
        "lon": location.lon,
        "location_precision": "postcode",
        "offers_ipt": None,
        "ipt_evidence": None,
        "self_referral_url": None,
        "phone": None,
        "website": None,
        "email": None,
        "source": "https://example.org/source",
        "last_verified": "2026-11-25",
        "works_online": False,
        "works_in_person": True,
    }
    base.update(extra)
    return base
