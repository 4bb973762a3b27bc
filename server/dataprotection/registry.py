"""The records of processing (UU PDP Art. 31): every kind of data the service keeps, field by field, with why
(purpose), on what legal basis (Art. 20(2)), whether it is specific data (Art. 4(2): children's data, health,
crime), who may see it and how long it is kept (a rule of server/dataprotection/retention.py).

It is the one list: the supervisors' page and its CSV export read it, docs/dpia.md is written from it, and
tests/dataprotection/test_registry.py fails when a table gains a column this list does not describe."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.i18n import lazy_gettext as _l


class Basis(StrEnum):
    """The legal bases of UU PDP Art. 20(2), by the letter of the paragraph."""
    CONSENT = "a"
    CONTRACT = "b"
    LEGAL_OBLIGATION = "c"
    VITAL_INTEREST = "d"
    PUBLIC_TASK = "e"
    LEGITIMATE_INTEREST = "f"
    NONE = "-"


BASIS_LABELS = {
    Basis.CONSENT: _l("Persetujuan (Pasal 20 ayat 2 huruf a)"),
    Basis.CONTRACT: _l("Pemenuhan perjanjian (Pasal 20 ayat 2 huruf b)"),
    Basis.LEGAL_OBLIGATION: _l("Kewajiban hukum (Pasal 20 ayat 2 huruf c)"),
    Basis.VITAL_INTEREST: _l("Kepentingan vital anak (Pasal 20 ayat 2 huruf d)"),
    Basis.PUBLIC_TASK: _l("Pelayanan publik perlindungan anak (Pasal 20 ayat 2 huruf e)"),
    Basis.LEGITIMATE_INTEREST: _l("Kepentingan yang sah: keamanan layanan (Pasal 20 ayat 2 huruf f)"),
    Basis.NONE: _l("Bukan data pribadi"),
}

# Who may see a kind of data, in a few words.
CASE_STAFF = _l("Konselor yang menangani kasus, tim kecamatannya dan supervisor")
CASE_AND_REPORTER = _l("Pelapor (dengan akun atau kode) dan petugas kasus")
OWNER_AND_SUPERVISOR = _l("Pemilik akun dan supervisor")
SYSTEM_ONLY = _l("Hanya sistem; tidak tampil kepada siapa pun")
SUPERVISORS = _l("Supervisor")
EVERYONE = _l("Semua pengguna")
APPOINTMENT_PEOPLE = _l("Peminta janji temu, konselornya dan supervisor")
APPOINTMENT_STAFF = _l("Konselor janji temu dan supervisor")


@dataclass(frozen=True)
class Record:
    """One kind of data: some columns of one table that share purpose, basis and retention."""
    key: str
    table: str
    fields: tuple[str, ...]
    what: object  # a lazy string
    purpose: object
    basis: Basis
    specific: bool
    who: object
    retention: str  # a rule's key in retention.RULES

    @property
    def personal(self) -> bool:
        return self.basis is not Basis.NONE

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS[self.basis])


def _r(key: str, table: str, fields: str, what: object, purpose: object, basis: Basis, specific: bool, who: object,
       retention: str) -> Record:
    return Record(key, table, tuple(fields.split()), what, purpose, basis, specific, who, retention)


_P, _L, _V, _F, _N = Basis.PUBLIC_TASK, Basis.LEGAL_OBLIGATION, Basis.VITAL_INTEREST, Basis.LEGITIMATE_INTEREST, Basis.NONE

RECORDS: tuple[Record, ...] = (
    # --- accounts -------------------------------------------------------------------------------------------
    _r("user.identity", "user_account", "id username display_name role school_id district_id active created_at",
       _l("Akun: nama, nama pengguna, peran, sekolah atau kecamatan"),
       _l("Masuk ke layanan dan menentukan siapa boleh melihat apa"), _P, False, OWNER_AND_SUPERVISOR, "account"),
    _r("user.security", "user_account",
       "password_hash last_sign_in_at totp_secret two_factor_enabled_at totp_last_step two_factor_reset_at "
       "two_factor_required_at",
       _l("Akun: kata sandi (tersandi), verifikasi dua langkah, waktu masuk terakhir"),
       _l("Menjaga akun dari orang lain"), _F, False, SYSTEM_ONLY, "account"),
    _r("child", "child", "id nickname birth_year school_id user_id",
       _l("Anak yang terhubung dengan akun orang tua: nama panggilan, tahun lahir, sekolah"),
       _l("Orang tua membuat janji temu dan laporan untuk anaknya"), _P, True, OWNER_AND_SUPERVISOR, "account"),
    _r("guardianship", "guardianship", "id parent_id child_id relation",
       _l("Hubungan orang tua atau wali dengan anak"),
       _l("Menentukan siapa boleh bertindak untuk anak"), _P, True, OWNER_AND_SUPERVISOR, "account"),
    _r("web_session", "web_session", "id user_id created_at last_seen_at ip",
       _l("Sesi masuk: perangkat yang sedang masuk dan alamat jaringannya"),
       _l("Tetap masuk selama memakai layanan; keamanan"), _F, False, SYSTEM_ONLY, "sessions"),
    _r("case_session", "case_session", "id report_id created_at last_seen_at",
       _l("Sesi pemegang kode laporan"), _l("Pelapor tanpa akun mengikuti laporannya"), _P, True, SYSTEM_ONLY,
       "sessions"),
    _r("recovery_code", "recovery_code", "id user_id code_hash used_at",
       _l("Kode pemulihan verifikasi dua langkah (tersandi)"), _l("Masuk jika ponsel autentikator hilang"), _F,
       False, SYSTEM_ONLY, "account"),
    _r("pending_sign_in", "pending_sign_in", "id user_id created_at next_url",
       _l("Masuk yang menunggu kode dua langkah"), _l("Menyelesaikan masuk dua langkah"), _F, False, SYSTEM_ONLY,
       "sessions"),
    _r("setup_link", "setup_link", "id token_hash user_id created_at expires_at used_at",
       _l("Tautan sekali pakai untuk menyiapkan akun"), _l("Orang baru menyiapkan kata sandinya sendiri"), _F,
       False, SYSTEM_ONLY, "sessions"),
    _r("passkey", "passkey", "id user_id credential_id public_key sign_count name created_at last_used_at",
       _l("Passkey: kunci publik perangkat dan namanya"), _l("Masuk tanpa kata sandi yang bisa dicuri"), _F, False,
       OWNER_AND_SUPERVISOR, "account"),
    _r("webauthn_challenge", "webauthn_challenge", "id user_id purpose challenge expires_at",
       _l("Tantangan sekali pakai untuk passkey"), _l("Memeriksa passkey"), _F, False, SYSTEM_ONLY, "sessions"),
    _r("district", "district", "id name active code", _l("Kecamatan dan kode Kemendagri-nya"),
       _l("Pembagian wilayah kerja"), _N, False, EVERYONE, "config"),
    _r("village", "village", "id code name kind district_id", _l("Kelurahan/desa dan kode Kemendagri-nya"),
       _l("Pilihan tempat kejadian pada laporan"), _N, False, EVERYONE, "config"),
    _r("region", "region", "code name province zone set_at", _l("Kabupaten/kota layanan ini dan zona waktunya"),
       _l("Nama kota, kecamatan dan waktu setempat"), _N, False, EVERYONE, "config"),
    _r("school", "school", "id name district_id active", _l("Sekolah"), _l("Pilihan sekolah"), _N, False,
       EVERYONE, "config"),
    # --- reports and cases ----------------------------------------------------------------------------------
    _r("report.access", "report",
       "id code_hash pin_hash idempotency_key_hash browser_token_hash sealed_receipt version",
       _l("Laporan: kode dan PIN (tersandi), tanda kirim ulang"),
       _l("Pelapor tanpa akun mengikuti laporannya; laporan tidak terkirim dua kali"), _P, False, SYSTEM_ONLY,
       "case"),
    _r("report.reporter", "report", "submitted_by_id reporter_kind contact_method",
       _l("Laporan: siapa pelapornya dan cara menghubunginya"), _l("Menjawab dan melindungi pelapor"), _P, True,
       CASE_AND_REPORTER, "case"),
    _r("report.contact", "report", "contact_detail contact_safe_time",
       _l("Laporan: nomor kontak dan waktu aman untuk dihubungi"),
       _l("Menghubungi pelapor dengan aman"), _V, True, CASE_STAFF, "contact_numbers"),
    _r("report.story", "report",
       "created_at danger_now happened_when happened_where where_detail district_id village_id school_id child_age "
       "child_gender child_words how_learned child_knows afraid_to_go_home incident_on in_household",
       _l("Laporan: apa yang terjadi, di mana, kapan, usia dan jenis kelamin anak, kata-kata anak"),
       _l("Menilai bahaya dan menolong anak (UU 35/2014 Perlindungan Anak)"), _V, True, CASE_AND_REPORTER,
       "case"),
    _r("report.named", "report", "student_name student_class others_involved",
       _l("Laporan: nama murid dan orang lain yang disebut"),
       _l("Menemukan anak yang perlu ditolong"), _V, True, CASE_STAFF, "case"),
    _r("report.consent", "report", "child_assent parent_consent consent_by consent_reason",
       _l("Laporan: persetujuan anak dan orang tua"), _l("Menghormati suara anak dan kewenangan orang tua"), _P,
       True, CASE_AND_REPORTER, "case"),
    _r("report.handling", "report",
       "updated_at urgency urgency_rank status is_open assigned_to_id team_district_id first_response_due_at "
       "first_response_at police_due_at police_reported_at next_due_at closed_reason forwarded_to "
       "duplicate_of_id suspected_spam",
       _l("Penanganan kasus: urgensi, status, tenggat, petugas"), _l("Menangani kasus tepat waktu"), _P, True,
       CASE_STAFF, "case"),
    _r("report.simfoni", "report",
       "victim_education victim_disability victim_disability_kind entered_in_simfoni_at",
       _l("Data SIMFONI-PPA: pendidikan dan disabilitas korban"),
       _l("Pencatatan wajib ke SIMFONI-PPA (Permen PPPA)"), _L, True, CASE_STAFF, "case"),
    _r("report.child", "report", "child_id", _l("Laporan: anak dengan akun yang dilaporkan"),
       _l("Menghubungkan laporan dengan anak"), _V, True, CASE_STAFF, "case"),
    _r("report_category", "report_category", "report_id category", _l("Jenis kekerasan yang dilaporkan"),
       _l("Menilai bahaya; statistik"), _V, True, CASE_AND_REPORTER, "case"),
    _r("case_event", "case_event",
       "id report_id at actor_id kind from_status to_status body visible_to_reporter from_reporter",
       _l("Riwayat kasus: pesan dengan pelapor dan catatan internal konselor"),
       _l("Menangani kasus dan mempertanggungjawabkannya"), _V, True, CASE_STAFF, "case"),
    _r("referral", "referral",
       "id report_id created_at updated_at created_by_id agency_kind agency_name status note",
       _l("Rujukan ke lembaga lain"), _l("Menolong anak bersama lembaga lain"), _V, True, CASE_STAFF, "case"),
    _r("perpetrator", "perpetrator", "id report_id created_at created_by_id sex age_band relationship",
       _l("Terlapor: jenis kelamin, kelompok usia, hubungan dengan anak (tanpa nama)"),
       _l("Pencatatan SIMFONI-PPA dan menilai bahaya"), _L, True, CASE_STAFF, "case"),
    _r("case_service", "case_service", "id report_id created_at created_by_id kind given_on given_by note",
       _l("Layanan yang diberikan untuk kasus"), _l("Pencatatan SIMFONI-PPA"), _L, True, CASE_STAFF, "case"),
    _r("report_month_version", "report_month_version", "month n", _l("Penghitung statistik per bulan"),
       _l("Statistik"), _N, False, SYSTEM_ONLY, "config"),
    # --- notifications --------------------------------------------------------------------------------------
    _r("notification_job", "notification_job",
       "id kind recipient_user_id recipient_report_id url topic urgency object_type object_id object_version "
       "event_at status due_at created_at sent_at read_at attempts last_error claimed_by lease_until channel ladder "
       "step_of_id shown_at seen_at provider_id ladder_done_at",
       _l("Pemberitahuan: untuk siapa, jenisnya, kapan terkirim dan dibaca (tanpa isi kasus)"),
       _l("Memberi tahu orang tentang kabar untuk mereka"), _P, False, OWNER_AND_SUPERVISOR, "notification_jobs"),
    _r("push_subscription", "push_subscription",
       "id endpoint p256dh auth user_id report_id language device created_at last_seen_at",
       _l("Perangkat penerima pemberitahuan push"), _l("Mengirim pemberitahuan ke ponsel"), _P, False,
       OWNER_AND_SUPERVISOR, "push_devices"),
    _r("channel_consent", "channel_consent",
       "id user_id report_id phone whatsapp sms show_service_name agreed_at withdrawn_at withdrawn_how",
       _l("Persetujuan pengingat lewat WhatsApp/SMS: nomornya, kapan diberikan dan ditarik"),
       _l("Mengingatkan jadwal bila push tidak sampai"), Basis.CONSENT, False, OWNER_AND_SUPERVISOR, "account"),
    # --- appointments ---------------------------------------------------------------------------------------
    _r("appointment", "appointment",
       "id created_at updated_at version counselor_id service_type_id starts_at ends_at block_start block_end "
       "status is_live hold_expires_at requester_user_id report_id child_id child_agreed note decline_reason "
       "cancelled_by cancel_reason rescheduled_from_id counselor_change_reason rating_invite",
       _l("Janji temu konseling: kapan, dengan siapa, untuk anak siapa, catatan"),
       _l("Mengatur sesi konseling"), _P, True, APPOINTMENT_PEOPLE, "case"),
    _r("appointment.phone", "appointment", "phone_number", _l("Nomor telepon untuk sesi lewat telepon"),
       _l("Menelepon pada waktu sesi"), _P, False, APPOINTMENT_PEOPLE, "contact_numbers"),
    _r("call_task", "call_task", "id appointment_id counselor_id created_at done_at",
       _l("Tugas konselor menelepon peminta sebelum sesi"), _l("Memastikan peminta tahu jadwalnya"), _P, False,
       APPOINTMENT_STAFF, "case"),
    _r("call_task.phone", "call_task", "phone", _l("Nomor yang ditelepon konselor sebelum sesi"),
       _l("Memastikan peminta tahu jadwalnya"), _P, False, APPOINTMENT_STAFF, "contact_numbers"),
    _r("service_type", "service_type",
       "id name description duration_minutes mode place buffer_before_minutes buffer_after_minutes "
       "min_notice_hours max_days_ahead needs_confirmation active",
       _l("Jenis layanan"), _l("Pilihan layanan"), _N, False, EVERYONE, "config"),
    _r("weekly_hours", "weekly_hours", "id counselor_id weekday starts ends service_type_id",
       _l("Jam kerja konselor"), _l("Menawarkan waktu bebas"), _P, False, EVERYONE, "account"),
    _r("availability_exception", "availability_exception", "id counselor_id starts_at ends_at reason note",
       _l("Waktu konselor tidak bertugas (cuti, sakit)"), _l("Tidak menawarkan waktu yang tidak ada"), _P, True,
       SUPERVISORS, "account"),
    _r("schedule_version", "schedule_version", "id n", _l("Penghitung perubahan jadwal"), _l("Teknis"), _N,
       False, SYSTEM_ONLY, "config"),
    # --- aftercare ------------------------------------------------------------------------------------------
    _r("check_in_plan", "check_in_plan", "id report_id created_at created_by_id offsets declined declined_reason",
       _l("Rencana menanyakan kabar setelah kasus ditutup"), _l("Memastikan anak tetap aman"), _V, True,
       CASE_STAFF, "case"),
    _r("check_in", "check_in",
       "id plan_id report_id step recipient_user_id due_at retry_at give_up_at status version answered_at answer "
       "message follow_up_due_at follow_up_done_at follow_up_done_by_id",
       _l("Jawaban tanya kabar dan tindak lanjutnya"), _l("Memastikan anak tetap aman"), _V, True,
       CASE_AND_REPORTER, "case"),
    _r("session_rating", "session_rating", "id month service_type_id face safe_to_talk words",
       _l("Penilaian sesi oleh anak, tanpa nama"), _l("Memperbaiki layanan"), _N, False, SUPERVISORS, "config"),
    _r("session_rating_given", "session_rating_given", "appointment_id",
       _l("Tanda bahwa satu sesi sudah dinilai"), _l("Satu penilaian per sesi"), _P, False, SYSTEM_ONLY, "case"),
    _r("session_rating_pending", "session_rating_pending", "id sealed",
       _l("Penilaian yang menunggu dalam amplop tersegel"), _l("Penilaian tidak bisa ditelusuri ke anak"), _N,
       False, SYSTEM_ONLY, "config"),
    # --- waiting list ---------------------------------------------------------------------------------------
    _r("waitlist_entry", "waitlist_entry",
       "id created_at updated_at version service_type_id requester_user_id report_id child_id status expires_at "
       "offer_appointment_id offer_expires_at ended_at",
       _l("Daftar tunggu janji temu"), _l("Menawarkan waktu yang terbuka"), _P, True, APPOINTMENT_PEOPLE, "case"),
    _r("waitlist_offer", "waitlist_offer", "id entry_id appointment_id starts_at offered_at outcome answered_at",
       _l("Tawaran waktu dari daftar tunggu"), _l("Menawarkan waktu yang terbuka"), _P, False,
       APPOINTMENT_PEOPLE, "case"),
    # --- the core -------------------------------------------------------------------------------------------
    _r("audit_entry", "audit_entry", "id at actor_id actor_label action object_type object_id ip detail",
       _l("Catatan audit: siapa melihat atau mengubah apa, kapan, dari mana"),
       _l("Pertanggungjawaban; bukti bila ada kebocoran (Pasal 35, 46)"), _L, False, SUPERVISORS, "audit"),
    _r("rate_limit_counter", "rate_limit_counter", "key window_start count",
       _l("Penghitung percobaan per alamat jaringan"), _l("Menahan penyalahgunaan"), _F, False, SYSTEM_ONLY,
       "rate_limits"),
    _r("attempt_throttle", "attempt_throttle", "key failures last_failure_at wait_until",
       _l("Percobaan masuk yang gagal"), _l("Menahan tebakan kata sandi dan kode"), _F, False, SYSTEM_ONLY,
       "rate_limits"),
    _r("service_setting", "service_setting", "key value", _l("Pengaturan layanan"), _l("Konfigurasi"), _N,
       False, SUPERVISORS, "config"),
    _r("holiday", "holiday", "day kind name", _l("Hari libur"), _l("Menghitung hari kerja"), _N, False,
       EVERYONE, "config"),
    _r("backup_run", "backup_run", "id kind started_at ended_at ok reason archive sentinel size_bytes",
       _l("Catatan cadangan data"), _l("Memulihkan layanan bila rusak"), _N, False, SUPERVISORS, "config"),
    _r("dispatcher_heartbeat", "dispatcher_heartbeat", "worker started_at last_seen stopped_at",
       _l("Tanda hidup pengirim pemberitahuan"), _l("Teknis"), _N, False, SUPERVISORS, "config"),
    # --- this domain ----------------------------------------------------------------------------------------
    _r("data_request", "data_request",
       "id received_at due_at version kind requester_user_id report_id details status decided_at decided_by_id "
       "answer alerted_at",
       _l("Permintaan orang tentang datanya sendiri dan jawabannya"),
       _l("Memenuhi hak subjek data (Pasal 5-13) dan membuktikannya"), _L, False, SUPERVISORS, "compliance"),
    _r("destruction_report", "destruction_report", "id ran_at rule kind action count",
       _l("Berita acara pemusnahan: jenis dan jumlah, tanpa isi"), _l("Membuktikan retensi berjalan (Pasal 43)"),
       _N, False, SUPERVISORS, "compliance"),
    _r("breach", "breach",
       "id recorded_at recorded_by_id version found_at due_at systems data_kinds how affected measures "
       "window_start window_end account_id people_notified_at authority_notified_at",
       _l("Daftar insiden kebocoran data"), _l("Pemberitahuan kegagalan pelindungan data (Pasal 46)"), _L, False,
       SUPERVISORS, "compliance"),
)


def described() -> dict[str, set[str]]:
    """Table -> the columns the registry describes."""
    found: dict[str, set[str]] = {}
    for record in RECORDS:
        found.setdefault(record.table, set()).update(record.fields)
    return found
