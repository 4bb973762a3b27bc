"""SIMFONI-PPA's vocabulary: what the national recording system of violence against women and children
(Kementerian PPPA) counts, and how this service's categories map onto its forms of violence.

The words shown for these values are in words.py; the rules that fill them in are in service.py.
"""

from __future__ import annotations

from server.reports.models import Category

# SIMFONI-PPA's forms of violence (bentuk kekerasan).
FORMS = ("fisik", "psikis", "seksual", "eksploitasi", "trafficking", "penelantaran", "lainnya")

# Every category of this service, and the form SIMFONI counts it under. SIMFONI has no word for bullying or
# for mental-health concerns: bullying (perundungan: mocking, threats, exclusion, online or at school) is
# psychological violence, and a bullying case where the child was also hit is triaged with the physical
# category too, so it is counted under fisik as well; a mental-health concern with no violence named is
# "lainnya". A case with several categories counts once under each form it reaches, never twice under one.
CATEGORY_TO_FORM: dict[str, str] = {
    Category.PHYSICAL: "fisik",
    Category.PSYCHOLOGICAL: "psikis",
    Category.SEXUAL: "seksual",
    Category.EXPLOITATION: "eksploitasi",
    Category.TRAFFICKING: "trafficking",
    Category.NEGLECT: "penelantaran",
    Category.BULLYING: "psikis",
    Category.MENTAL_HEALTH: "lainnya",
    Category.OTHER: "lainnya",
}

# The victim's age band, from the age the reporter gave (children only: 0-17).
AGE_BANDS = ("0-5", "6-12", "13-17", "unknown")


def age_band(age: int | None) -> str:
    if age is None or age < 0 or age > 17:
        return "unknown"
    if age <= 5:
        return "0-5"
    return "6-12" if age <= 12 else "13-17"


EDUCATION_LEVELS = ("belum_sekolah", "paud_tk", "sd", "smp", "sma", "tidak_sekolah")
DISABILITY = ("ya", "tidak")
SEXES = ("laki_laki", "perempuan", "tidak_diketahui")
PERPETRATOR_AGE_BANDS = ("0-17", "18-24", "25-44", "45-59", "60+", "tidak_diketahui")
RELATIONSHIPS = ("orang_tua", "orang_tua_tiri", "keluarga", "pacar", "teman", "guru", "tetangga", "majikan",
                 "tidak_dikenal", "lainnya")
SERVICE_KINDS = ("pengaduan", "kesehatan", "bantuan_hukum", "penegakan_hukum", "rehabilitasi_sosial",
                 "reintegrasi_sosial", "pemulangan", "pendampingan_tokoh_agama")
# The victim's sex in SIMFONI's words, from the report's child_gender.
GENDER_TO_SEX = {"girl": "perempuan", "boy": "laki_laki"}
