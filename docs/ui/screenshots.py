"""Take the README's Dagster UI screenshots from a running `make run` (http://127.0.0.1:3000).

Not part of the test suite, and not a project dependency: Playwright lives in a scratch
virtualenv and drives the system Chromium (no `playwright install`, no download):

    python3 -m venv /tmp/pw && /tmp/pw/bin/pip install playwright
    /tmp/pw/bin/python docs/ui/screenshots.py            # the four screenshots
    /tmp/pw/bin/python docs/ui/screenshots.py --launch   # also click "Launch 1 run": a real manual sync

With --launch the script waits for a new `synced_commit` materialization of the website
before shooting it. Without it, the materialization shown is the latest one (take the
screenshots after at least one sync). Only the given base URL is contacted.
"""

import argparse
import json
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Keep Chromium offline: no updater, no sync, no background fetches.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 900}
# The UI fills in asynchronously (GraphQL); a fixed settle time is enough on a local instance.
SETTLE_SECONDS = 4.0
RUN_TIMEOUT_SECONDS = 180.0
AUTOMATIONS = 7  # sensors and schedules of the code location


def settle(page: Page, seconds: float = SETTLE_SECONDS) -> None:
    page.wait_for_load_state("networkidle")
    time.sleep(seconds)


def dismiss_community_modal(page: Page) -> None:
    """The first visit shows "Join the Dagster community": skip it (it is remembered in local storage)."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()
        time.sleep(0.5)


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    settle(page)
    dismiss_community_modal(page)


LATEST_EVENTS = """query LatestEvents($path: [String!]!, $partitions: [String!]) {
  assetOrError(assetKey: {path: $path}) { ... on Asset {
    assetMaterializations(partitions: $partitions, limit: 1) { timestamp }
    assetObservations(partitions: $partitions, limit: 1) { timestamp } } } }"""


def graphql(base: str, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{base}/graphql", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def latest_event_timestamp(base: str, asset: str, website: str, kind: str = "assetMaterializations") -> str | None:
    """Timestamp (ms, as the UI's `time=` parameter wants it) of the asset partition's latest event of that kind."""
    asset_node = graphql(base, LATEST_EVENTS, {"path": [asset], "partitions": [website]})["assetOrError"]
    events = asset_node.get(kind) or []
    return events[0]["timestamp"] if events else None


def wait_for_new_materialization(base: str, website: str, before: str | None) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if latest_event_timestamp(base, "synced_commit", website) not in (None, before):
            return
        time.sleep(2)
    raise SystemExit(f"no new synced_commit materialization for {website} after {RUN_TIMEOUT_SECONDS:.0f} s: "
                     "look at the run in the UI (Runs)")


def shoot_lineage(page: Page, base: str, out: Path) -> None:
    open_page(page, f"{base}/locations/osuny_pipeline/asset-groups/osuny")
    page.get_by_text("synced_commit").first.wait_for()
    # Only the graph: the nodes sit in the middle band of the canvas.
    page.screenshot(path=out / "lineage.png", clip={"x": 240, "y": 0, "width": 1200, "height": 640})


def shoot_materialize_dialog(page: Page, base: str, website: str, out: Path, launch: bool) -> None:
    open_page(page, f"{base}/assets/synced_commit?partition={website}")
    page.get_by_role("button", name="Materialize…").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(website, exact=True).first.wait_for()
    settle(page, 1.5)
    page.screenshot(path=out / "manual-sync-dialog.png", clip={"x": 360, "y": 100, "width": 720, "height": 580})
    if not launch:
        dialog.get_by_role("button", name="Cancel").click()
        return
    before = latest_event_timestamp(base, "synced_commit", website)
    dialog.get_by_role("button", name="Launch 1 run").click()
    wait_for_new_materialization(base, website, before)


def shoot_sync_materialization(page: Page, base: str, website: str, out: Path) -> None:
    # `time=` selects that event in the list (an observation may be newer than the materialization).
    when = latest_event_timestamp(base, "synced_commit", website)
    open_page(page, f"{base}/assets/synced_commit?view=events&partition={website}&time={when}")
    page.get_by_text("pushed_files").first.wait_for()
    page.screenshot(path=out / "manual-sync-materialization.png",
                    clip={"x": 240, "y": 0, "width": 1200, "height": 900})


def shoot_automation(page: Page, base: str, out: Path) -> None:
    open_page(page, f"{base}/automation")
    # Wait for every sensor and schedule row to show its on/off switch.
    switches = page.get_by_role("switch")
    deadline = time.monotonic() + 30
    while switches.count() < AUTOMATIONS and time.monotonic() < deadline:
        time.sleep(0.5)
    settle(page, 2)
    page.screenshot(path=out / "automation.png", clip={"x": 240, "y": 0, "width": 1200, "height": 620})


def shoot_pending_or_changed_files(page: Page, base: str, website: str, out: Path) -> None:
    """The pending_files observation of synced_commit if the sensor recorded one, else git_files' changed files."""
    observed = latest_event_timestamp(base, "synced_commit", website, "assetObservations")
    if observed:
        open_page(page, f"{base}/assets/synced_commit?view=events&partition={website}&time={observed}")
        page.get_by_text("pending_files").first.wait_for()
        name, height = "pending-files-observation.png", 480  # two numbers: no need for the empty rest
    else:
        open_page(page, f"{base}/assets/git_files?view=events&partition={website}")
        page.get_by_text("changed_files").first.wait_for()
        name, height = "git-files-materialization.png", 900
    settle(page, 1)
    page.screenshot(path=out / name, clip={"x": 240, "y": 0, "width": 1200, "height": height})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--website", default="demo")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--launch", action="store_true", help="launch the manual sync from the dialog")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        shoot_lineage(page, base, args.out)
        shoot_materialize_dialog(page, base, args.website, args.out, args.launch)
        shoot_sync_materialization(page, base, args.website, args.out)
        shoot_automation(page, base, args.out)
        shoot_pending_or_changed_files(page, base, args.website, args.out)
        browser.close()
    for png in sorted(args.out.glob("*.png")):
        print(f"{png.name}: {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
