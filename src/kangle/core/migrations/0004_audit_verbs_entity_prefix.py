"""Audit verbs in one style, ``<entity>.<verb>``: rename the events written before under the app's name
(``activities.activity_create`` becomes ``activity.create``). ``RENAMED`` is the one table of old and new
names; no new name was in use before, so the rename runs both ways."""

from django.db import migrations

RENAMED = {
    # activities
    "activities.activity_cancel": "activity.cancel",
    "activities.activity_create": "activity.create",
    "activities.beneficiaries_set": "activity.beneficiaries_set",
    "activities.reminders_sent": "activity.reminders_sent",
    "activities.figures_export": "activity_figures.export",
    "activities.call_close": "call.close",
    "activities.call_create": "call.create",
    "activities.call_respond": "call.respond",
    "activities.call_respond_collective": "call.respond_collective",
    "activities.call_respond_grid": "call.respond_grid",
    "activities.response_present": "call.response_present",
    "activities.check_in": "attendance.check_in",
    "activities.check_out": "attendance.check_out",
    "activities.session_check_in": "attendance.session_check_in",
    "activities.session_check_out": "attendance.session_check_out",
    "activities.record_self_report": "record.self_report",
    "activities.record_staff_enter": "record.staff_enter",
    "activities.record_verify": "record.verify",
    "activities.record_revoke": "record.revoke",
    "activities.record_reject": "record.reject",
    "activities.signup_cancel": "signup.cancel",
    "activities.signup_create": "signup.create",
    "activities.signup_household": "signup.household",
    "activities.team_signup": "signup.team",
    # points
    "points.adjust": "ledger.adjust",
    "points.adjust_decide": "ledger.adjust_decide",
    "points.adjust_request": "ledger.adjust_request",
    "points.adjustment_limit": "ledger.adjustment_limit",
    "points.award": "ledger.award",
    "points.reverse": "ledger.reverse",
    "points.benefit_create": "benefit.create",
    "points.slot_create": "slot.create",
    "points.book": "booking.create",
    "points.booking_cancel": "booking.cancel",
    "points.pass_issue": "priority_pass.issue",
    "points.pass_use": "priority_pass.use",
    "points.ranking_visibility": "ranking.visibility",
    "points.rankings_export": "ranking.export",
    "points.rule_create": "points_rule.create",
    "points.rule_update": "points_rule.update",
    # posts
    "posts.aspect_update": "aspect.update",
    "posts.category_update": "service_category.update",
    "posts.claim_confirm": "claim.confirm",
    "posts.claim_create": "claim.create",
    "posts.claim_remove": "claim.remove",
    "posts.claim_withdraw": "claim.withdraw",
    "posts.invitation_send": "invitation.send",
    "posts.post_create": "post.create",
    "posts.post_update": "post.update",
    "posts.post_publish": "post.publish",
    "posts.post_close": "post.close",
    "posts.post_reopen": "post.reopen",
    "posts.proposal_confirm": "proposal.confirm",
    "posts.proposal_create": "proposal.create",
    # prevention
    "prevention.analysis_export": "warning_analysis.export",
    "prevention.campaign_close": "campaign.close",
    "prevention.campaign_create": "campaign.create",
    "prevention.campaign_export": "campaign.export",
    "prevention.campaign_inspect": "campaign.inspect",
    "prevention.finding": "finding.create",
    "prevention.point_create": "point.create",
    "prevention.point_retire": "point.retire",
    "prevention.reading": "reading.create",
    "prevention.round_close": "round.close",
    "prevention.round_open": "round.open",
    "prevention.spraying": "spraying.create",
    "prevention.warning": "warning.create",
    "prevention.warning_open_case": "warning.open_case",
    # recognition
    "recognition.letter_download": "letter.download",
    "recognition.letter_draft": "letter.draft",
    "recognition.letter_issue": "letter.issue",
    "recognition.letter_send": "letter.send",
    "recognition.letter_update": "letter.update",
    "recognition.nominate": "nomination.create",
    "recognition.nomination_result": "nomination.result",
    "recognition.nomination_review": "nomination.review",
    "recognition.story_create": "story.create",
    "recognition.story_photo_add": "story.photo_add",
    "recognition.story_publish": "story.publish",
    "recognition.story_update": "story.update",
    # drills
    "drills.assignment_add": "assignment.add",
    "drills.care_home_create": "care_home.create",
    "drills.care_home_update": "care_home.update",
    "drills.contest_result": "drill.contest_result",
    "drills.drill_record": "drill.record",
    "drills.timings": "drill.timings",
    "drills.finding_add": "drill_finding.add",
    "drills.follow_up_done": "follow_up.done",
    "drills.group_create": "resident_group.create",
    "drills.plan_create": "drill_plan.create",
    # members
    "members.base_numbers_export": "base_number.export",
    "members.expected_import": "base_number.import",
    "members.expected_set": "base_number.set",
    # reports
    "reports.cockpit_export": "cockpit.export",
    "reports.street_settings_set": "street_settings.set",
    # cases
    "cases.figures_export": "case_figures.export",
    "cases.open311_read": "case.api_read",
    # changes made in the orgs admin
    "orgunit.create.admin": "orgunit.admin_create",
    "orgunit.update.admin": "orgunit.admin_update",
    "venue.create.admin": "venue.admin_create",
    "venue.update.admin": "venue.admin_update",
    "registrationpoint.create.admin": "registration_point.admin_create",
    "registrationpoint.update.admin": "registration_point.admin_update",
}


def _rename(apps, pairs):
    events = apps.get_model("core", "AuditEvent")
    for old, new in pairs:
        events.objects.filter(verb=old).update(verb=new)


def forwards(apps, schema_editor):
    _rename(apps, RENAMED.items())


def backwards(apps, schema_editor):
    _rename(apps, ((new, old) for old, new in RENAMED.items()))


class Migration(migrations.Migration):
    dependencies = [("core", "0003_holiday_calendar")]

    operations = [migrations.RunPython(forwards, backwards)]
