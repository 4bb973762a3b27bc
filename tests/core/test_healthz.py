from dataclasses import replace

from litestar.testing import TestClient

from server.app import create_app


def test_it_reports_ok_with_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_it_answers_503_when_the_database_cannot_be_reached(settings, tmp_path):
    broken = replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none")
    with TestClient(app=create_app(broken)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
