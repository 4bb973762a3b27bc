"""The words a report and a case are described in: the answers the form offers and the kinds of referral. Several
domains read them (statistics counts by them), so they live here, apart from the rules, and hold no logic."""

from __future__ import annotations

REPORTER_KINDS = ("child", "friend", "parent", "teacher", "other")
ADULT_REPORTER_KINDS = frozenset({"parent", "teacher", "other"})
WHEN = ("today", "this_week", "this_month", "longer", "ongoing")
WHERE = ("home", "school", "online", "public", "other")
GENDERS = ("", "girl", "boy", "other")
YES_NO_UNSURE = ("yes", "no", "unsure")
ASSENT = ("yes", "no", "not_asked")
PARENT_CONSENT = ("given", "not_asked", "parent_may_harm", "not_reachable")
CONTACT_METHODS = ("app", "phone", "whatsapp", "none")
PHONE_CONTACT_METHODS = frozenset({"phone", "whatsapp"})
AGENCY_KINDS = ("police", "health", "legal_aid", "social", "psychologist", "uptd_ppa", "other")
REFERRAL_STATUSES = ("sent", "accepted", "declined", "done")
