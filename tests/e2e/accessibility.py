"""axe-core in the browser tests: the page as a shopper or staff member sees it has no violation.

axe-playwright-python ships axe.min.js, so this works offline: the script is
evaluated in the page, nothing is fetched.
"""

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()


def axe_violations(page) -> list[str]:
    """One line per violation: rule id, impact and the first few elements it found."""
    results = _axe.run(page)
    lines = []
    for violation in results.response["violations"]:
        targets = [" ".join(node["target"]) for node in violation["nodes"]]
        lines.append(
            f"{violation['id']} ({violation['impact']}, {len(targets)}): {violation['help']} — {targets[:4]}"
        )
    return lines


def assert_no_axe_violations(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe-core on {page.url}:\n" + "\n".join(violations)
