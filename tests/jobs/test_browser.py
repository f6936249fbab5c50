"""Real Chromium: select three customers, set their status as a background job run by a
real worker process, watch the progress reach 100%, and see the new status in the list."""

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from crmadmin.jobs.models import Job, JobState
from tests.jobs.test_rq import ROOT, _database_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_select_three_customers_set_their_status_and_watch_the_job(
    page, live_server, browser_login, world, settings
):
    world["customers"](5)
    settings.CRM_SANDBOX_LATENCY_MS = 150  # slow enough to see the bar move
    owner = world["owner"]
    browser_login(page, owner, "correct-horse-battery")
    base = live_server.url

    page.goto(f"{base}/customers/")
    for code in ("KH001", "KH002", "KH004"):
        page.get_by_label(f"Select {code}").check()
    page.get_by_label("With the selected customers:").select_option(label="Set status…")
    page.get_by_role("button", name="Continue with the selected").click()

    expect(page.locator("[data-count]").first).to_have_attribute("data-count", "3")
    page.get_by_label("New status").select_option(label="VIP (VIP)")
    page.get_by_role("button", name="Show the calls").click()
    expect(page.locator("pre[data-body]")).to_have_count(3)
    expect(page.locator('pre[data-body="KH002"]')).to_contain_text('"customer_status_code": "VIP"')
    page.get_by_role("button", name="Start the job for 3 customers").click()

    expect(page.locator("[data-job-state]")).to_have_text("queued")
    job = Job.objects.get()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "jobs_worker", "--burst"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "ENV_FILE": "/dev/null",
            "DATABASE_URL": _database_url(),
            "CRM_API_URL": settings.CRM_API_URL,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        expect(page.locator("[data-percent]")).to_have_text("100%", timeout=60_000)
        expect(page.locator("[data-job-state]")).to_have_text("finished")
        expect(page.locator('[data-count="succeeded"]')).to_have_text("3")
    finally:
        _, errors = worker.communicate(timeout=60)
    assert worker.returncode == 0, errors[-3000:]
    job.refresh_from_db()
    assert job.state == JobState.FINISHED

    page.goto(f"{base}/customers/")
    for code, status in (("KH000", "Mới"), ("KH001", "VIP"), ("KH002", "VIP"), ("KH004", "VIP")):
        expect(page.locator(f'tr[data-code="{code}"] td[data-label="Status"]')).to_have_text(status)
