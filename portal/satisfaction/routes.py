"""Rating pages: the form (reached from the case page or the resolution mail) and its POST."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.auth import policy
from portal.auth.guards import roles_required
from portal.models import Role
from portal.models.base import utcnow
from portal.satisfaction import services
from portal.satisfaction.forms import RatingForm, preselected_score
from portal.web import current_actor, perform

bp = Blueprint("satisfaction", __name__)


def _render(case, form, status=200):
    rating = services.fetch_rating(case)
    changeable = services.is_changeable(rating, now=utcnow())
    return render_template(
        "satisfaction/rate.html",
        case=case,
        form=form,
        rating=rating,
        changeable=changeable,
        rateable=services.is_rateable(case),
        window_ends=rating.rated_at + services.RATING_WINDOW if rating else None,
    ), status


@bp.route("/cases/<caseref:case_id>/rate")
@roles_required(Role.CUSTOMER)
def rate(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_rate_case(user, case))
    rating = services.fetch_rating(case)
    form = RatingForm(formdata=None, obj=rating)
    form.score.data = preselected_score(request.args.get("score")) or (rating.score if rating else None)
    return _render(case, form)


@bp.route("/cases/<caseref:case_id>/rating", methods=["POST"])
@roles_required(Role.CUSTOMER)
def submit(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_rate_case(user, case))
    form = RatingForm()
    if not form.validate_on_submit():
        return _render(case, form, 400)
    work = lambda: services.rate_case(  # noqa: E731
        case, score=form.score.data, comment=form.comment.data, actor=user, now=utcnow()
    )
    _, status = perform(form, work)
    if status is not None:
        return _render(case, form, status)
    flash("Thank you for rating our help.", "success")
    return redirect(url_for("cases.detail", case_id=case.id), code=303)
