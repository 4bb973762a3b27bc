"""The ceiling for bench.pages: one bare Litestar handler rendering a Jinja page of about the public pages' size.

    .venv/bin/python -m uvicorn --factory bench.ceiling:create_app --port 8001

No database, no middleware, no CSRF, sessions, compression, security headers or translations: what one uvicorn
process can serve of a template of this size on this machine, so that the app's pages can be read as a share
of it. The page (a base layout, a header, 50 link cards, a form, a footer; ~12 KB, between the home page's
~6 KB and the report form's ~19 KB) is rendered on every request from the same template features the app uses:
inheritance, blocks, a loop, autoescaping.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment
from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>
<meta name="csrf-token" content="{{ csrf_token }}">
<title>{% block title %}{% endblock %} · {{ service_name }}</title>
<link rel="stylesheet" href="/static/css/app.css?v=0123456789ab">
<link rel="manifest" href="/manifest.webmanifest">
<script src="/static/vendor/htmx.min.js?v=0123456789ab" defer></script>
<script src="/static/js/app.js?v=0123456789ab" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Langsung ke isi</a>
<header class="site-header">
  <a class="brand" href="/">{{ service_name }}</a>
  <nav aria-label="Menu utama"><ul>
  {% for item in menu %}<li><a href="{{ item.href }}">{{ item.title }}</a></li>{% endfor %}
  </ul></nav>
  <a class="quick-exit" href="https://www.google.com/search?q=cuaca">Keluar cepat</a>
</header>
<main id="main">{% block main %}{% endblock %}</main>
<footer class="site-footer">
  <p>Dalam bahaya sekarang? Telepon <a href="tel:{{ emergency }}">{{ emergency }}</a>.</p>
  <p>{{ service_name }} · {{ city }}</p>
</footer>
</body>
</html>
""",
    "page.html": """{% extends "base.html" %}
{% block title %}Beranda{% endblock %}
{% block main %}
<h1>Selamat datang di {{ service_name }}</h1>
<p class="lead">Tempat aman untuk bercerita. Semua yang kamu tulis hanya dibaca konselor.</p>
<ul class="cards">
{% for card in cards %}
  <li class="card">
    <h2><a href="{{ card.href }}">{{ card.title }}</a></h2>
    <p>{{ card.text }}</p>
    {% if card.badge %}<span class="badge">{{ card.badge }}</span>{% endif %}
  </li>
{% endfor %}
</ul>
<form method="post" action="/bahasa" class="language">
  <input type="hidden" name="_csrf_token" value="{{ csrf_token }}">
  <label for="bahasa">Bahasa</label>
  <select id="bahasa" name="bahasa">{% for code, name in languages %}
    <option value="{{ code }}"{% if code == "id" %} selected{% endif %}>{{ name }}</option>{% endfor %}
  </select>
  <button type="submit">Ganti</button>
</form>
{% endblock %}
""",
}

CONTEXT: dict[str, Any] = {
    "service_name": "Bintang Ceria",
    "city": "Kota Banjarbaru",
    "emergency": "112",
    "csrf_token": "0" * 128,
    "menu": [{"href": f"/menu/{n}", "title": f"Menu {n}"} for n in range(5)],
    "cards": [{"href": f"/halaman/{n}", "title": f"Judul kartu nomor {n}",
               "text": "Ceritakan apa yang terjadi. Boleh tanpa nama. Konselor membaca & membalas <di sini>.",
               "badge": "baru" if n % 3 == 0 else ""} for n in range(50)],
    "languages": [("id", "Bahasa Indonesia"), ("en", "English")],
}


@get("/")
async def home() -> Template:
    return Template(template_name="page.html", context=CONTEXT)


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    environment = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    return Litestar(
        route_handlers=[home, healthz],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
        openapi_config=None,
        debug=False,
    )
