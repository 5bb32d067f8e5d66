"""Under the site's content security policy the pages with scripts still work in a real browser, and the
browser reports no violation (an inline script would be blocked and reported)."""

import pytest

from conftest import browser_login
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_charts_and_print_button_run_without_csp_violations(desk_page, personas):
    violations = []
    desk_page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    browser_login(desk_page, "secretary_a", PASSWORD)
    response = desk_page.goto("/activities/figures/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    desk_page.wait_for_selector("#aspect-chart canvas")
    desk_page.goto(f"/orgs/registration-points/{personas.tree.point_a.code}/poster/")
    assert desk_page.locator("[data-print]").count() == 1
    # An injected inline script is refused by the browser: the policy is in force, not just sent.
    desk_page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    assert desk_page.evaluate("() => window.injected") is None
    assert any("Content Security Policy" in text for text in violations)
    violations.remove(next(text for text in violations if "Content Security Policy" in text))
    assert violations == []
