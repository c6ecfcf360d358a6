"""Command-line tasks: `flask seed-demo`, `flask create-user` and `flask accounts refresh-status`."""

import click
from flask.cli import with_appcontext

from portal.auth.services import create_user as create_user_service
from portal.extensions import db
from portal.models import Account, Role
from portal.models.base import utcnow
from portal.reports.status import describe_changes, refresh_account_statuses
from portal.services import ServiceError


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load the demo accounts, people and cases (once; later runs only print the logins)."""
    from portal.demo import DEMO_PASSWORD, seed_demo_data

    logins, created = seed_demo_data()
    db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present; nothing changed.")
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    width = max(len(role) for role, _ in logins)
    for role, email in logins:
        click.echo(f"  {role:<{width}}  {email}")
    click.echo("")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--account", "account_name", help="Account name (customers only).")
@click.password_option(help="At least 10 characters; asked for when not given.")
@with_appcontext
def create_user(email, name, role, account_name, password):
    """Create a user for a real deployment, such as the first admin."""
    account = None
    if account_name:
        account = db.session.scalar(db.select(Account).where(Account.name == account_name))
        if account is None:
            raise click.BadParameter(f"No account named {account_name!r}.", param_hint="--account")
    try:
        user = create_user_service(email=email, name=name, role=Role(role), password=password, account=account)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}.")


@click.group("accounts")
def accounts():
    """Tasks on the customer accounts."""


@accounts.command("refresh-status")
@with_appcontext
def refresh_status():
    """Set each account that is not churned to at risk or active from its health now (the repeating
    SLA sweep also does this once an hour). Safe at any time: only accounts that change are written."""
    changes = refresh_account_statuses(now=utcnow())
    db.session.commit()
    click.echo(describe_changes(changes))
