"""The profile page: name and time zone."""

from portal.extensions import db
from portal.models import User


def test_user_changes_their_time_zone_and_dates_follow_it(client_as, world):
    client = client_as(world.alice)
    response = client.post("/profile", data={"name": "Alice C.", "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    user = db.session.get(User, world.alice.id)
    assert (user.name, user.timezone) == ("Alice C.", "Asia/Tokyo")


def test_unknown_time_zone_is_refused_and_nothing_changes(client_as, world):
    response = client_as(world.alice).post("/profile", data={"name": "Changed", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.get(User, world.alice.id).name == "Alice Customer"


def test_profile_needs_a_signed_in_user(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
