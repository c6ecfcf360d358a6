"""Every endpoint declares its guard, and the guards hold: anonymous visitors sign in first,
other roles get 403. (The idea of GOV.UK Notify's test_route_authentication.py.)"""

import uuid

from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from portal.auth.guards import ALL_ROLES, public, roles_required
from portal.models import Role
from portal.web import CaseRefConverter

# Open to anyone. Making another endpoint public is a decision: add it here in the same change.
PUBLIC_ENDPOINTS = {
    "auth.login",
    "main.home",
    "main.health",
    # Reached from an e-mail by someone who is not signed in; the signed token is the guard.
    "auth.accept_invitation",
    "auth.forgot_password",
    "auth.reset_password",
}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def unguarded_endpoints(app: Flask) -> list[str]:
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, "guard", None) is None
    )


def sample_value(converter):
    if isinstance(converter, IntegerConverter | CaseRefConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def routes(app: Flask):
    """(endpoint, method, url, guard) for every method of every rule except static files."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {name: sample_value(converter) for name, converter in rule._converters.items()}
        url = adapter.build(rule.endpoint, values)
        guard = getattr(app.view_functions[rule.endpoint], "guard", None)
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield rule.endpoint, method, url, guard


def test_every_endpoint_declares_a_guard(app):
    assert unguarded_endpoints(app) == []


def test_the_guard_check_finds_an_unguarded_view():
    app = Flask(__name__)
    app.add_url_rule("/open", "open", public(lambda: "ok"))
    app.add_url_rule("/staff", "staff", roles_required(Role.ADMIN)(lambda: "ok"))
    app.add_url_rule("/naked", "naked", lambda: "ok")
    assert unguarded_endpoints(app) == ["naked"]


def test_only_the_listed_endpoints_are_public(app):
    public_endpoints = {endpoint for endpoint, _, _, guard in routes(app) if guard == "public"}
    assert public_endpoints == PUBLIC_ENDPOINTS


def test_sign_in_stays_public_beneath_the_rate_limiter(app):
    assert app.view_functions["auth.login"].guard == "public"


def test_anonymous_user_is_sent_to_sign_in_from_every_guarded_endpoint(client):
    app = client.application
    checked, wrong = 0, []
    for endpoint, method, url, guard in routes(app):
        if guard == "public":
            continue
        response = client.open(url, method=method)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.startswith("/login?next="):
            wrong.append(f"{method} {url} ({endpoint}): {response.status_code} {location}")
        checked += 1
    assert wrong == []
    assert checked >= 9  # the case pages alone have nine guarded endpoint methods


def test_signed_in_users_of_other_roles_get_403_from_role_restricted_endpoints(app, client_as, world):
    users = {
        Role.CUSTOMER: world.alice,
        Role.ACCOUNT_MANAGER: world.manager_a,
        Role.TEAM_LEAD: world.lead,
        Role.EXECUTIVE: world.executive,
        Role.ADMIN: world.admin,
    }
    checked, wrong = 0, []
    for endpoint, method, url, guard in routes(app):
        if guard == "public" or guard is None:
            continue
        _, allowed = guard
        for role in set(ALL_ROLES) - set(allowed):
            response = client_as(users[role]).open(url, method=method)
            if response.status_code != 403:
                wrong.append(f"{role} {method} {url} ({endpoint}): {response.status_code}")
            checked += 1
    assert wrong == []
    assert checked >= 10  # at least: staff on the new-case form and page, customers on internal notes
