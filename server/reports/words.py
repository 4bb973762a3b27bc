"""The words of the report pages, built once per language. Children see the plain words; staff see the SIMFONI
terms.

Templates get them through the `report_words()` global: building these dictionaries in a template on every
render (an import `with context`, needed so that one language's words don't stick) cost ~100 `_()` calls a page.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

from markupsafe import Markup

from server import i18n


def _(message: str) -> Markup:
    """As a template's `_()` gives it: the translation, marked safe (Jinja's new-style gettext does the same)."""
    return Markup(i18n.gettext(message))  # noqa: S704 - our own catalogue's text, as a template's `_()` trusts it


def current_words() -> SimpleNamespace:
    return words_for(i18n.current_language())


@cache
def words_for(language: str) -> SimpleNamespace:
    with i18n.language(language):
        return SimpleNamespace(
            CATEGORY_WORDS={
                "physical": _("Disakiti badannya — dipukul, ditendang"),
                "psychological": _("Dibentak, diancam, atau dihina terus-menerus"),
                "sexual": _("Disentuh atau diperlakukan tidak pantas di bagian tubuh pribadi"),
                "exploitation": _("Dipaksa bekerja atau dimanfaatkan demi uang"),
                "trafficking": _("Dibawa pergi atau dijual ke orang lain"),
                "neglect": _("Tidak diurus — tidak diberi makan, dilarang sekolah, dibiarkan sakit"),
                "bullying": _("Dirundung atau di-bully, di sekolah atau di internet"),
                "mental_health": _("Merasa sangat sedih, takut, cemas, atau ingin menyakiti diri sendiri"),
                "other": _("Hal lain"),
            },
            CATEGORY_TERMS={
                "physical": _("Kekerasan fisik"),
                "psychological": _("Kekerasan psikis"),
                "sexual": _("Kekerasan seksual"),
                "exploitation": _("Eksploitasi"),
                "trafficking": _("Perdagangan orang (TPPO)"),
                "neglect": _("Penelantaran"),
                "bullying": _("Perundungan"),
                "mental_health": _("Masalah psikologis"),
                "other": _("Lainnya"),
            },
            URGENCY={"darurat": _("Darurat"), "tinggi": _("Tinggi"), "sedang": _("Sedang"), "rendah": _("Rendah")},
            STATUS={
                "submitted": _("Baru masuk"), "triaged": _("Sudah ditelaah"), "assigned": _("Sudah ada konselor"),
                "in_progress": _("Sedang ditangani"), "referred": _("Dirujuk"), "monitoring": _("Pemantauan"),
                "closed": _("Ditutup"), "reopened": _("Dibuka kembali"), "duplicate": _("Laporan ganda"),
                "out_of_scope": _("Diteruskan ke lembaga lain"), "unfounded": _("Tidak terbukti"),
            },
            # What a reporter sees: four plain states, never the staff's finer ones.
            REPORTER_STATUS={
                "submitted": _("Diterima"), "triaged": _("Diterima"),
                "assigned": _("Sedang ditangani"), "in_progress": _("Sedang ditangani"),
                "monitoring": _("Sedang ditangani"), "reopened": _("Sedang ditangani"), "referred": _("Dirujuk"),
                "closed": _("Selesai"), "duplicate": _("Selesai"), "out_of_scope": _("Selesai"),
                "unfounded": _("Selesai"),
            },
            REPORTER_KINDS={
                "child": _("Aku anak/remaja, dan ini tentang diriku"),
                "friend": _("Aku anak/remaja, dan ini tentang temanku"),
                "parent": _("Saya orang tua/wali"),
                "teacher": _("Saya guru"),
                "other": _("Saya orang dewasa lain (tetangga, kerabat)"),
            },
            WHEN={
                "today": _("Hari ini"), "this_week": _("Minggu ini"), "this_month": _("Bulan ini"),
                "longer": _("Sudah lama"), "ongoing": _("Masih terjadi sampai sekarang"),
            },
            WHERE={
                "home": _("Di rumah"), "school": _("Di sekolah"), "online": _("Di internet atau HP"),
                "public": _("Di tempat umum"), "other": _("Di tempat lain"),
            },
            GENDERS={"": _("Tidak mau menyebut"), "girl": _("Perempuan"), "boy": _("Laki-laki"), "other": _("Lainnya")},
            YES_NO_UNSURE={"yes": _("Ya"), "no": _("Tidak"), "unsure": _("Tidak tahu")},
            ASSENT={"yes": _("Ya, anak setuju"), "no": _("Anak tidak setuju"), "not_asked": _("Belum ditanyakan")},
            PARENT_CONSENT={
                "given": _("Orang tua/wali sudah setuju"),
                "not_asked": _("Belum ditanyakan"),
                "parent_may_harm": _("Tidak ditanyakan, karena orang tua mungkin yang menyakiti"),
                "not_reachable": _("Orang tua/wali tidak bisa dihubungi"),
            },
            CONTACT={
                "app": _("Lewat aplikasi ini saja (pesan di halaman Cek laporan)"),
                "phone": _("Telepon ke nomor ini"),
                "whatsapp": _("WhatsApp ke nomor ini"),
                "none": _("Jangan hubungi saya"),
            },
            AGENCY={
                "police": _("Polisi (Unit PPA)"), "health": _("Layanan kesehatan"), "legal_aid": _("Bantuan hukum"),
                "social": _("Dinas Sosial"), "psychologist": _("Psikolog"), "uptd_ppa": _("UPTD PPA lain"),
                "other": _("Lainnya"),
            },
            REFERRAL_STATUS={
                "sent": _("Dikirim"), "accepted": _("Diterima lembaga"), "declined": _("Ditolak"), "done": _("Selesai"),
            },
            EVENT={
                "submitted": _("Laporan masuk"), "triaged": _("Ditelaah"), "assigned": _("Ditugaskan"),
                "status": _("Status diubah"), "note": _("Catatan"), "message": _("Pesan"), "referral": _("Rujukan"),
                "police": _("Diteruskan ke polisi"), "viewed": _("Dilihat"),
                "simfoni": _("Data SIMFONI"),
                "check_in_plan": _("Rencana pemantauan"), "check_in_answer": _("Jawaban pemantauan"),
                "check_in_none": _("Pemantauan tidak dijawab"), "follow_up_done": _("Pemantauan ditindaklanjuti"),
            },
            FORMS={
                "fisik": _("Fisik"), "psikis": _("Psikis"), "seksual": _("Seksual"), "eksploitasi": _("Eksploitasi"),
                "trafficking": _("Trafficking (TPPO)"), "penelantaran": _("Penelantaran"), "lainnya": _("Lainnya"),
            },
            AGE_BANDS={"0-5": _("0–5 tahun"), "6-12": _("6–12 tahun"), "13-17": _("13–17 tahun"),
                       "unknown": _("Tidak diketahui")},
            EDUCATION={
                "belum_sekolah": _("Belum sekolah"), "paud_tk": _("PAUD/TK"), "sd": _("SD/sederajat"),
                "smp": _("SMP/sederajat"), "sma": _("SMA/SMK/sederajat"), "tidak_sekolah": _("Tidak sekolah"),
            },
            MONTHS={
                1: _("Januari"), 2: _("Februari"), 3: _("Maret"), 4: _("April"), 5: _("Mei"), 6: _("Juni"),
                7: _("Juli"), 8: _("Agustus"), 9: _("September"), 10: _("Oktober"), 11: _("November"),
                12: _("Desember"),
            },
            PLACES={
                "home": _("Di rumah"), "school": _("Di sekolah"), "online": _("Di internet atau HP"),
                "public": _("Di tempat umum"), "other": _("Di tempat lain"), "": _("Tidak diketahui"),
            },
            DISABILITY={"ya": _("Ya"), "tidak": _("Tidak")},
            SEXES={"laki_laki": _("Laki-laki"), "perempuan": _("Perempuan"), "tidak_diketahui": _("Tidak diketahui")},
            PERPETRATOR_AGE_BANDS={
                "0-17": _("0–17 tahun"), "18-24": _("18–24 tahun"), "25-44": _("25–44 tahun"),
                "45-59": _("45–59 tahun"), "60+": _("60 tahun ke atas"), "tidak_diketahui": _("Tidak diketahui"),
            },
            RELATIONSHIPS={
                "orang_tua": _("Orang tua"), "orang_tua_tiri": _("Orang tua tiri/angkat"),
                "keluarga": _("Keluarga/saudara"), "pacar": _("Pacar"), "teman": _("Teman"), "guru": _("Guru"),
                "tetangga": _("Tetangga"), "majikan": _("Majikan"), "tidak_dikenal": _("Orang tidak dikenal"),
                "lainnya": _("Lainnya"),
            },
            SERVICES={
                "pengaduan": _("Pengaduan"), "kesehatan": _("Kesehatan"), "bantuan_hukum": _("Bantuan hukum"),
                "penegakan_hukum": _("Penegakan hukum"), "rehabilitasi_sosial": _("Rehabilitasi sosial"),
                "reintegrasi_sosial": _("Reintegrasi sosial"), "pemulangan": _("Pemulangan"),
                "pendampingan_tokoh_agama": _("Pendampingan tokoh agama"),
            },
        )
