"""Satisfaction ratings: customers rate their resolved or closed cases 1–5, once, changeable for 7 days."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_login import login_user
from werkzeug.exceptions import Forbidden

from portal.cases import timeline
from portal.extensions import db
from portal.models import Case, EventType, Status
from portal.models.base import utcnow
from portal.models.satisfaction import SatisfactionRating
from portal.satisfaction import services
from portal.services import ConflictError, ServiceError
from tests import factories


@pytest.fixture
def resolved(world):
    return factories.make_case(requester=world.alice, status=Status.RESOLVED, resolved_at=utcnow())


def ratings_of(case) -> list[SatisfactionRating]:
    return list(db.session.scalars(sa.select(SatisfactionRating).where(SatisfactionRating.case_id == case.id)))


def post_rating(client, case, score, comment=""):
    return client.post(f"/cases/{case.reference}/rating", data={"score": score, "comment": comment})


def test_customer_rates_a_resolved_case_and_the_case_keeps_the_score(client_as, world, resolved):
    response = post_rating(client_as(world.alice), resolved, 4, "Quick and friendly")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{resolved.reference}")
    [rating] = ratings_of(resolved)
    assert (rating.score, rating.comment, rating.rated_by_id) == (4, "Quick and friendly", world.alice.id)
    assert db.session.get(Case, resolved.id).satisfaction_score == 4


def test_another_customer_of_the_account_changes_the_one_rating_within_7_days(client_as, world, resolved):
    post_rating(client_as(world.alice), resolved, 2)
    assert post_rating(client_as(world.anna), resolved, 5, "Better now").status_code == 303
    [rating] = ratings_of(resolved)
    assert (rating.score, rating.comment, rating.rated_by_id) == (5, "Better now", world.anna.id)
    assert db.session.get(Case, resolved.id).satisfaction_score == 5


def test_closed_cases_can_be_rated_too(client_as, world):
    closed = factories.make_case(requester=world.alice, status=Status.CLOSED)
    assert post_rating(client_as(world.alice), closed, 3).status_code == 303


def test_a_rating_is_final_after_7_days(client_as, world, resolved):
    services.rate_case(resolved, score=2, comment=None, actor=world.alice, now=utcnow() - timedelta(days=7, minutes=1))
    response = post_rating(client_as(world.alice), resolved, 5)
    assert response.status_code == 409
    assert "final" in response.get_data(as_text=True)
    assert ratings_of(resolved)[0].score == 2
    page = client_as(world.alice).get(f"/cases/{resolved.reference}/rate").get_data(as_text=True)
    assert "this one is final" in page
    assert 'name="score"' not in page


def test_the_window_is_measured_from_the_first_rating(world, resolved):
    first = utcnow() - timedelta(days=6)
    services.rate_case(resolved, score=2, comment=None, actor=world.alice, now=first)
    services.rate_case(resolved, score=3, comment=None, actor=world.alice, now=first + timedelta(days=6, hours=23))
    with pytest.raises(ConflictError):
        services.rate_case(resolved, score=4, comment=None, actor=world.alice, now=first + timedelta(days=7))
    assert ratings_of(resolved)[0].rated_at == first


def test_open_cases_cannot_be_rated_yet(client_as, world):
    open_case = factories.make_case(requester=world.alice, status=Status.OPEN)
    response = post_rating(client_as(world.alice), open_case, 5)
    assert response.status_code == 409
    assert ratings_of(open_case) == []
    assert db.session.get(Case, open_case.id).satisfaction_score is None


@pytest.mark.parametrize("score", ["0", "6", "", "five"])
def test_a_score_outside_1_to_5_is_refused_with_a_message(client_as, world, resolved, score):
    response = post_rating(client_as(world.alice), resolved, score)
    assert response.status_code == 400
    assert ratings_of(resolved) == []


def test_a_blank_comment_is_no_comment(world, resolved):
    rating = services.rate_case(resolved, score=5, comment="   ", actor=world.alice, now=utcnow())
    assert rating.comment is None


def test_service_refuses_scores_outside_the_range(world, resolved):
    with pytest.raises(ServiceError):
        services.rate_case(resolved, score=9, comment=None, actor=world.alice, now=utcnow())


@pytest.mark.parametrize("role", ["manager_a", "lead", "executive", "admin"])
def test_staff_are_refused_the_rating_routes(client_as, world, resolved, role):
    client = client_as(getattr(world, role))
    assert client.get(f"/cases/{resolved.reference}/rate").status_code == 403
    assert post_rating(client, resolved, 5).status_code == 403
    assert ratings_of(resolved) == []


def test_staff_are_refused_by_the_service(world, resolved):
    with pytest.raises(Forbidden):
        services.rate_case(resolved, score=5, comment=None, actor=world.manager_a, now=utcnow())


def test_customer_gets_404_for_other_accounts_case(client_as, world, resolved):
    client = client_as(world.bob)
    assert client.get(f"/cases/{resolved.reference}/rate").status_code == 404
    assert post_rating(client, resolved, 1).status_code == 404
    assert ratings_of(resolved) == []


def test_restricted_account_customer_gets_404_for_a_colleagues_case(client_as, world, resolved):
    world.account_a.restrict_to_requester = True
    assert client_as(world.anna).get(f"/cases/{resolved.reference}/rate").status_code == 404


def test_the_mail_link_preselects_the_score(client_as, world, resolved):
    html = client_as(world.alice).get(f"/cases/{resolved.reference}/rate?score=2").get_data(as_text=True)
    assert _checked_value(html) == "2"


def test_a_bad_score_in_the_link_preselects_nothing(client_as, world, resolved):
    response = client_as(world.alice).get(f"/cases/{resolved.reference}/rate?score=9")
    assert response.status_code == 200
    assert _checked_value(response.get_data(as_text=True)) is None


def test_the_page_shows_the_current_rating_when_there_is_one(client_as, world, resolved):
    services.rate_case(resolved, score=3, comment=None, actor=world.alice, now=utcnow())
    html = client_as(world.alice).get(f"/cases/{resolved.reference}/rate").get_data(as_text=True)
    assert _checked_value(html) == "3"
    assert "You can change it until" in html


def _checked_value(html: str) -> str | None:
    for tag in html.split("<input")[1:]:
        tag = tag.split(">")[0]
        if 'name="score"' in tag and "checked" in tag:
            return tag.split('value="')[1].split('"')[0]
    return None


def test_the_rate_panel_partial_renders_for_a_resolved_case(app, world, resolved):
    """The partial the case page includes posts the same fields as the rating page."""
    with app.test_request_context():
        login_user(world.alice)
        html = render_template_string('{% include "satisfaction/_rate_panel.html" %}', case=resolved)
    assert f'action="/cases/{resolved.reference}/rating"' in html
    assert html.count('name="score"') == 5


def test_a_rating_and_its_change_appear_on_the_timeline_for_staff_and_customer(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    services.rate_case(case, score=2, comment="Slow answer", actor=world.alice, now=utcnow())
    services.rate_case(case, score=4, comment=None, actor=world.alice, now=utcnow())
    rated = [e for e in timeline.public_events(case) if e.type == EventType.RATED]
    assert [(e.data["score"], e.data["changed"], e.body) for e in rated] == [(2, False, "Slow answer"), (4, True, None)]
    html = client_as(world.manager_a).get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "rated our help 4 out of 5 (changed the rating)" in html
