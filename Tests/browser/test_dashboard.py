"""The dashboard in a real browser (headless Chromium through Selenium), against `otp dev`.

Run by .ci/browser, which starts `otp dev` and exports what its demo.env holds. The tests run in
file order and share one signed-in browser: each step builds on the ones before it, as a person
would use the dashboard. After every page the browser console must be free of errors, and a
screenshot of the page is saved under $SCREENSHOTS.
"""

import base64
import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlparse

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through .ci/browser")
    return value


BASE = env("OTP_URL")
APPID = env("APPID")
KEY_ID = env("KEY_ID")
SECRET = env("SECRET")
DATABASE_URL = env("DATABASE_URL")
EMAIL = env("DASHBOARD_EMAIL")
PASSWORD = env("DASHBOARD_PASSWORD")
OTP = env("OTP")
SCREENSHOTS = os.environ.get("SCREENSHOTS", ".build/browser-screenshots")

NAV = {
    "/dashboard/",
    "/dashboard/apps",
    "/dashboard/keys",
    "/dashboard/templates",
    "/dashboard/verifications",
    "/dashboard/logs",
    "/dashboard/reports",
    "/dashboard/fraud",
}
# The demo app allows 5 sends to one recipient in 10 minutes: each send here has its own number.
# This one's must never be shown in full; it is not the README's +14155550123, which a page may
# show as an example.
RECIPIENT = "+14155550177"
# A body no page can show before it is typed, so its preview proves the live update.
MARKER = "Browser check"

# What later steps need from earlier ones.
state = {}


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    # Debian's chromium and chromedriver: Selenium Manager cannot download a browser or driver here.
    options.binary_location = "/usr/bin/chromium"
    # --no-sandbox because CI runs as root; /dev/shm is small in containers.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Should revoking ask "are you sure?", the answer is yes.
    options.unhandled_prompt_behavior = "accept"
    browser = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    yield browser
    browser.quit()


# Browser helpers.


def wait(driver, condition, expected):
    """Waits for condition(driver) to be truthy and returns it; the timeout names what was expected."""
    waiter = WebDriverWait(
        driver, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    return waiter.until(condition, message=f"expected {expected}")


def path(driver):
    return urlparse(driver.current_url).path


def shown(element):
    """An element's text, or its value when it is an input (a secret may be shown in either)."""
    return element.text.strip() or (element.get_attribute("value") or "").strip()


def console_errors(driver, allowed_status=None):
    """SEVERE console entries since the last call, less favicon 404s and, where a page is meant to
    answer an error status, the browser's note of that status."""
    errors = []
    for entry in driver.get_log("browser"):
        message = entry["message"]
        if entry["level"] != "SEVERE":
            continue
        if "favicon.ico" in message and "404" in message:
            continue
        expected = allowed_status and f"status of {allowed_status}" in message
        if expected and entry.get("source") == "network" and urlparse(driver.current_url).path in message:
            continue
        errors.append(message)
    return errors


def settle(driver, screenshot, signed_in=True, allowed_status=None):
    """What every page that the browser lands on is checked for."""
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete", f"{screenshot} to load")
    driver.save_screenshot(os.path.join(SCREENSHOTS, f"{screenshot}.png"))
    headings = driver.find_elements(By.TAG_NAME, "h1")
    assert len(headings) == 1, f"{screenshot}: expected one h1, found {len(headings)}"
    errors = console_errors(driver, allowed_status)
    assert not errors, f"{screenshot}: expected no console errors, got {errors}"
    # A form that changes something carries its CSRF token (GET filter forms need none).
    for form in driver.find_elements(By.CSS_SELECTOR, "form"):
        if (form.get_attribute("method") or "get").lower() == "post":
            tokens = form.find_elements(By.CSS_SELECTOR, 'input[type="hidden"][name="csrf"]')
            name = form.get_attribute("id") or form.get_attribute("action")
            assert tokens and tokens[0].get_attribute("value"), f"{screenshot}: expected a hidden csrf input in {name}"
    if not signed_in:
        return
    links = {urlparse(a.get_dom_attribute("href") or "").path for a in driver.find_elements(By.CSS_SELECTOR, "nav a")}
    assert NAV <= links, f"{screenshot}: expected nav links to {sorted(NAV - links)}"
    assert EMAIL in driver.find_element(By.ID, "whoami").text, f"{screenshot}: expected {EMAIL} in #whoami"
    logout = driver.find_element(By.ID, "logout-form")
    assert urlparse(logout.get_attribute("action")).path == "/dashboard/logout", (
        f"{screenshot}: expected #logout-form to post to /dashboard/logout"
    )
    logout.find_element(By.ID, "logout")


def visit(driver, page, screenshot, **checks):
    driver.get(urljoin(BASE, page))
    settle(driver, screenshot, **checks)


def left_the_page(element):
    """EC.staleness_of, also when chromium says it in other words: asked about the old page's node
    while the new page replaces it, it can answer "Node with given id does not belong to the
    document" instead of a stale element."""

    def check(_driver):
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise

    return check


def click_through(driver, element, screenshot, **checks):
    """Clicks a link or a submit button and waits for the page it leads to."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait(driver, left_the_page(old), f"a new page after clicking towards {screenshot}")
    settle(driver, screenshot, **checks)


def fill(element, text):
    element.clear()
    element.send_keys(text)


# HTTP helpers: urllib, with no redirect followed, so that a 303 is seen as such.


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


def request(method, target, headers=None, body=None):
    req = urllib.request.Request(urljoin(BASE, target), data=body, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def session_cookie(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def send(key_id, secret, recipient):
    """POST /otp/send as an API client: (status, JSON body or {}). A send is queued: 202."""
    auth = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    status, _, body = request(
        "POST",
        "/otp/send",
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        body=json.dumps({"appid": APPID, "recipient": recipient}).encode(),
    )
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {}


def listed_policy(appid):
    """The app's policy as `otp apps list --json` prints it, straight from the database."""
    result = subprocess.run(
        [OTP, "apps", "list", "--json"],
        env={**os.environ, "DATABASE_URL": DATABASE_URL},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"expected `otp apps list --json` to succeed: {result.stderr}"
    apps = {app["appid"]: app for app in json.loads(result.stdout)["apps"]}
    assert appid in apps, f"expected {appid} in `otp apps list --json`"
    return apps[appid]["policy"]


def need(key, step):
    if key not in state:
        pytest.fail(f"needs {step} to have passed first")
    return state[key]


# The steps, in order.


def test_sign_in(driver):
    status, headers, _ = request("GET", "/dashboard/")
    assert status == 303 and urlparse(headers.get("Location", "")).path == "/dashboard/login", (
        f"expected a signed-out GET /dashboard/ to answer 303 to /dashboard/login, got {status}"
        f" {headers.get('Location')}"
    )
    visit(driver, "/dashboard/", "login", signed_in=False)
    assert path(driver) == "/dashboard/login", f"expected the browser at /dashboard/login, not {path(driver)}"

    # Wrong password: 401, the same page with an error.
    fill(driver.find_element(By.CSS_SELECTOR, '#login-form [name="email"]'), EMAIL)
    fill(driver.find_element(By.CSS_SELECTOR, '#login-form [name="password"]'), PASSWORD + "-wrong")
    submit = driver.find_element(By.ID, "login-submit")
    click_through(driver, submit, "login-error", signed_in=False, allowed_status=401)
    assert driver.find_element(By.ID, "login-error").is_displayed(), "expected #login-error after a wrong password"

    fill(driver.find_element(By.CSS_SELECTOR, '#login-form [name="email"]'), EMAIL)
    fill(driver.find_element(By.CSS_SELECTOR, '#login-form [name="password"]'), PASSWORD)
    click_through(driver, driver.find_element(By.ID, "login-submit"), "overview")
    assert path(driver) == "/dashboard/", f"expected the overview after signing in, not {path(driver)}"
    state["signed_in"] = True


def test_security_headers(driver):
    need("signed_in", "test_sign_in")
    status, headers, _ = request("GET", "/dashboard/", headers={"Cookie": session_cookie(driver)})
    assert status == 200, f"expected 200 for /dashboard/ with the browser's session cookie, got {status}"
    csp = headers.get("Content-Security-Policy", "")
    assert csp.split(";")[0].strip() == "default-src 'self'", f"expected CSP default-src 'self' first, got {csp!r}"
    frames = headers.get("X-Frame-Options")
    assert frames == "DENY", f"expected X-Frame-Options: DENY, got {frames!r}"


def test_change_app_setting(driver):
    need("signed_in", "test_sign_in")
    visit(driver, "/dashboard/apps", "apps")
    links = driver.find_elements(By.CSS_SELECTOR, "table#apps a.app-link")
    demo = [a for a in links if urlparse(a.get_dom_attribute("href")).path == f"/dashboard/apps/{APPID}"]
    assert demo, f"expected table#apps to link to /dashboard/apps/{APPID}"
    click_through(driver, demo[0], "app")

    form = driver.find_element(By.ID, "app-form")
    for name in ("code_length", "ttl", "max_attempts", "max_sends", "resend_cooldown", "default_channel",
                 "from", "resend_policy", "rate_limit.recipient_10m", "web_otp_domain"):
        assert form.find_elements(By.NAME, name), f"expected a field {name} in #app-form"
    channels = {box.get_attribute("value") for box in form.find_elements(By.NAME, "channels")}
    assert channels >= {"sms", "whatsapp"}, f"expected channel checkboxes sms and whatsapp, got {channels}"

    ttl = "240" if form.find_element(By.NAME, "ttl").get_attribute("value") != "240" else "270"
    fill(form.find_element(By.NAME, "ttl"), ttl)
    click_through(driver, driver.find_element(By.ID, "app-save"), "app-saved")
    assert path(driver) == f"/dashboard/apps/{APPID}", f"expected to land back on the app page, not {path(driver)}"
    assert "Saved" in driver.find_element(By.ID, "notice").text, "expected #notice to say Saved"
    assert driver.find_element(By.NAME, "ttl").get_attribute("value") == ttl, f"expected the ttl field to show {ttl}"
    assert listed_policy(APPID)["ttl"] == int(ttl), f"expected policy.ttl == {ttl} in `otp apps list --json`"

    # A refused value: the server's 422, not the browser's own form validation, is what is tested.
    code_length = listed_policy(APPID)["code_length"]
    driver.execute_script("document.getElementById('app-form').noValidate = true")
    fill(driver.find_element(By.NAME, "code_length"), "99")
    click_through(driver, driver.find_element(By.ID, "app-save"), "app-refused", allowed_status=422)
    assert driver.find_element(By.ID, "form-error").is_displayed(), "expected #form-error for code_length 99"
    assert listed_policy(APPID)["code_length"] == code_length, "expected code_length 99 not to be saved"


def test_create_key_and_use_it(driver):
    need("signed_in", "test_sign_in")
    visit(driver, "/dashboard/keys", "keys")
    demo = driver.find_element(By.CSS_SELECTOR, f'table#keys tr[data-key-id="{KEY_ID}"]')
    assert demo.find_element(By.CSS_SELECTOR, "td.key-state").text.strip() == "active", "expected the demo key active"

    form = driver.find_element(By.ID, "key-create-form")
    app = form.find_element(By.CSS_SELECTOR, f'input[name="apps"][value="{APPID}"]')
    if not app.is_selected():
        app.click()
    click_through(driver, driver.find_element(By.ID, "key-create"), "key-created")
    key_id = shown(driver.find_element(By.ID, "new-key-id"))
    secret = shown(driver.find_element(By.ID, "new-key-secret"))
    assert key_id and secret, "expected #new-key-id and #new-key-secret to show the new key"
    driver.find_element(By.ID, "copy-secret")

    status, body = send(key_id, secret, "+14155550121")
    assert status == 202 and body.get("verification_id"), f"expected the new key to send (202), got {status} {body}"
    state["key"] = (key_id, secret)

    # Shown once: a reload has the key but not its secret.
    visit(driver, "/dashboard/keys", "keys-reloaded")
    assert secret not in driver.page_source, "expected the secret gone from /dashboard/keys after a reload"
    row = driver.find_element(By.CSS_SELECTOR, f'table#keys tr[data-key-id="{key_id}"]')
    assert row.find_element(By.CSS_SELECTOR, "td.key-state").text.strip() == "active", "expected the new key active"


def save_fraud_guard(driver, mode, prefix_floor, allow, screenshot):
    """Sets the demo app's fraud guard on its page, as an owner does."""
    visit(driver, f"/dashboard/apps/{APPID}", screenshot + "-form")
    form = driver.find_element(By.ID, "fraud-guard")
    Select(form.find_element(By.NAME, "fraud_guard")).select_by_value(mode)
    fill(form.find_element(By.NAME, "fraud_threshold.prefix_floor"), prefix_floor)
    fill(form.find_element(By.NAME, "fraud_allow"), allow)
    click_through(driver, driver.find_element(By.ID, "app-save"), screenshot)
    assert "Saved" in driver.find_element(By.ID, "notice").text, "expected #notice to say Saved"


def test_fraud_guard(driver):
    key_id, secret = need("key", "test_create_key_and_use_it")
    save_fraud_guard(driver, "enforce", "3", "GB", "app-fraud-enforce")
    policy = listed_policy(APPID)
    assert policy["fraud_guard"] == "enforce", f"expected fraud_guard enforce, got {policy['fraud_guard']}"
    assert policy["fraud_allow"] == ["GB"], f"expected fraud_allow [GB], got {policy['fraud_allow']}"
    assert policy["fraud_thresholds"]["prefix_floor"] == 3, f"expected prefix_floor 3, got {policy['fraud_thresholds']}"

    try:
        # Six sequential numbers of one block of 100,000 (+131255...), none verified: three pass,
        # then the block is refused.
        answers = [send(key_id, secret, f"+1312555{n:04d}") for n in range(300, 306)]
        statuses = [status for status, _ in answers]
        assert statuses == [202, 202, 202, 403, 403, 403], f"expected three sends then three refusals, got {statuses}"
        refusal = answers[-1][1].get("error", {})
        assert refusal.get("code") == "FRAUD_BLOCKED" and refusal.get("rule") == "prefix", f"got {refusal}"

        visit(driver, "/dashboard/fraud", "fraud")
        row = driver.find_element(By.CSS_SELECTOR, 'table#fraud-scopes tr[data-scope="prefix:+131255"]')
        assert row.find_element(By.CSS_SELECTOR, "td.blocked").text.strip() == "3", "expected 3 refused in the block"
        chart = driver.find_element(By.CSS_SELECTOR, "figure.chart")
        chart.find_element(By.CSS_SELECTOR, 'svg[role="img"]')
        chart.find_element(By.CSS_SELECTOR, "table.chart-data")
    finally:
        # Back to watching only, so that the later steps' sends go out.
        save_fraud_guard(driver, "monitor", "10", "", "app-fraud-monitor")
    assert listed_policy(APPID)["fraud_guard"] == "monitor", "expected fraud_guard back to monitor"


def test_revoke_key(driver):
    key_id, secret = need("key", "test_create_key_and_use_it")
    if path(driver) != "/dashboard/keys":
        visit(driver, "/dashboard/keys", "keys-reloaded")
    row = driver.find_element(By.CSS_SELECTOR, f'table#keys tr[data-key-id="{key_id}"]')
    click_through(driver, row.find_element(By.CSS_SELECTOR, ".revoke-form .revoke"), "key-revoked")
    assert path(driver) == "/dashboard/keys", f"expected to land back on /dashboard/keys, not {path(driver)}"
    row = driver.find_element(By.CSS_SELECTOR, f'table#keys tr[data-key-id="{key_id}"]')
    assert row.find_element(By.CSS_SELECTOR, "td.key-state").text.strip() == "revoked", "expected the key revoked"
    assert not row.find_elements(By.CSS_SELECTOR, ".revoke"), "expected no revoke button on a revoked key"

    status, body = send(key_id, secret, "+14155550122")
    assert status == 401, f"expected /otp/send to refuse the revoked key with 401, got {status} {body}"


def test_edit_template_with_preview(driver):
    need("signed_in", "test_sign_in")
    visit(driver, "/dashboard/templates", "templates")
    driver.find_element(By.CSS_SELECTOR, "table#templates")
    form = driver.find_element(By.ID, "template-form")
    Select(form.find_element(By.NAME, "appid")).select_by_value(APPID)
    fill(form.find_element(By.NAME, "name"), "browser-check")
    fill(form.find_element(By.NAME, "locale"), "en")

    # The live preview, while typing: it must happen, there is no falling back to the button.
    fill(driver.find_element(By.ID, "template-body"), f"{MARKER} {{{{code}}}}")
    wait(driver, lambda d: f"{MARKER} 123456" in d.find_element(By.ID, "preview-text").text,
         f"#preview-text to show '{MARKER} 123456' while typing")
    wait(driver, lambda d: d.find_element(By.ID, "preview-encoding").text.strip() == "GSM-7",
         "#preview-encoding GSM-7 for a plain body")
    driver.find_element(By.ID, "template-body").send_keys(" Ж")
    wait(driver, lambda d: d.find_element(By.ID, "preview-encoding").text.strip() == "UCS-2",
         "#preview-encoding UCS-2 once the body has Ж")
    segments = driver.find_element(By.ID, "preview-segments").text.strip()
    assert segments.isdigit() and int(segments) >= 1, f"expected #preview-segments a number, got {segments!r}"
    driver.save_screenshot(os.path.join(SCREENSHOTS, "templates-preview.png"))

    # The preview button: the server answers the same form with the preview filled.
    click_through(driver, driver.find_element(By.ID, "template-preview"), "templates-previewed")
    assert f"{MARKER} 123456" in driver.find_element(By.ID, "preview-text").text, "expected the server's preview"
    encoding = driver.find_element(By.ID, "preview-encoding").text.strip()
    assert encoding == "UCS-2", f"expected UCS-2 in the server's preview, got {encoding!r}"
    assert MARKER in driver.find_element(By.ID, "template-body").get_attribute("value"), "expected the body kept"

    click_through(driver, driver.find_element(By.ID, "template-save"), "template")
    match = re.fullmatch(r"/dashboard/templates/([^/]+)", path(driver))
    assert match, f"expected saving to land on /dashboard/templates/{{id}}, not {path(driver)}"
    template = match.group(1)

    # Edit it on its own page.
    fill(driver.find_element(By.ID, "template-body"), f"{MARKER} edited {{{{code}}}}")
    wait(driver, lambda d: f"{MARKER} edited 123456" in d.find_element(By.ID, "preview-text").text,
         "#preview-text to follow the edit")
    click_through(driver, driver.find_element(By.ID, "template-save"), "template-saved")
    assert path(driver) == f"/dashboard/templates/{template}", f"expected to stay on the template, not {path(driver)}"
    assert driver.find_element(By.ID, "notice").text.strip(), "expected #notice after saving the template"
    assert "edited" in driver.find_element(By.ID, "template-body").get_attribute("value"), "expected the edit saved"

    visit(driver, "/dashboard/templates", "templates-listed")
    links = driver.find_elements(By.CSS_SELECTOR, "table#templates a.template-link")
    hrefs = {urlparse(a.get_dom_attribute("href")).path for a in links}
    assert f"/dashboard/templates/{template}" in hrefs, "expected the new template listed in table#templates"


def test_verification_timeline(driver):
    need("signed_in", "test_sign_in")
    status, body = send(KEY_ID, SECRET, RECIPIENT)
    assert status == 202 and body.get("verification_id"), f"expected the demo key to send (202), got {status} {body}"
    verification = body["verification_id"]

    visit(driver, "/dashboard/verifications", "verifications")
    filters = driver.find_element(By.ID, "filters")
    for name in ("appid", "status", "channel", "recipient", "from", "to"):
        assert filters.find_elements(By.NAME, name), f"expected a filter field {name}"
    links = [a for a in driver.find_elements(By.CSS_SELECTOR, "table#verifications a.verification-link")
             if urlparse(a.get_dom_attribute("href")).path == f"/dashboard/verifications/{verification}"]
    assert links, f"expected table#verifications to link to /dashboard/verifications/{verification}"
    row = links[0].find_element(By.XPATH, "./ancestor::tr")
    masked = r"\*{4,}" + RECIPIENT[-4:]
    assert re.search(masked, row.text), f"expected the recipient masked (****{RECIPIENT[-4:]}), got {row.text!r}"
    assert RECIPIENT[1:] not in driver.page_source, "expected the full recipient nowhere in the list page"

    click_through(driver, links[0], "verification")
    driver.find_element(By.ID, "verification-summary")
    items = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "ol#timeline li.timeline-item"),
                 "timeline items in ol#timeline")
    kinds = {item.get_attribute("data-kind") for item in items}
    assert kinds <= {"event", "delivery", "verify"}, f"expected data-kind event, delivery or verify, got {kinds}"
    assert any(item.get_attribute("data-kind") == "event" and "send_requested" in item.text for item in items), (
        "expected a send_requested event in the timeline"
    )
    assert RECIPIENT[1:] not in driver.page_source, "expected the full recipient nowhere in the verification page"


def test_audit_log(driver):
    need("signed_in", "test_sign_in")
    visit(driver, "/dashboard/logs", "logs")
    driver.find_element(By.ID, "filters")
    rows = driver.find_elements(By.CSS_SELECTOR, "table#logs tr")
    assert any(f"user:{EMAIL}" in row.text for row in rows), f"expected audit rows by user:{EMAIL} in table#logs"


def test_charts(driver):
    need("signed_in", "test_sign_in")
    visit(driver, "/dashboard/", "overview")
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart")
    assert len(charts) >= 2, f"expected several figure.chart on the overview, found {len(charts)}"
    for chart in charts:
        svg = chart.find_element(By.CSS_SELECTOR, 'svg[role="img"]')
        title = svg.find_elements(By.CSS_SELECTOR, ":scope > title")
        assert title and title[0].get_attribute("textContent").strip(), "expected each chart's svg to have a <title>"
        chart.find_element(By.CSS_SELECTOR, "table.chart-data")
    depth = driver.find_element(By.ID, "queue-depth").text
    assert re.search(r"\d", depth), f"expected #queue-depth to show a number, got {depth!r}"

    visit(driver, "/dashboard/reports", "reports")
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart")
    assert charts, "expected figure.chart on the reports page"
    for chart in charts:
        chart.find_element(By.TAG_NAME, "svg")
    href = driver.find_element(By.ID, "csv-download").get_dom_attribute("href")
    assert href.startswith("/dashboard/reports.csv"), f"expected #csv-download to /dashboard/reports.csv, got {href!r}"
    status, headers, body = request("GET", href, headers={"Cookie": session_cookie(driver)})
    assert status == 200, f"expected 200 for {href} with the session, got {status}"
    kind = headers.get("Content-Type", "")
    assert kind.startswith("text/csv"), f"expected {href} to be text/csv, got {kind!r}"
    assert body.strip(), "expected a CSV with at least its header line"


def test_sign_out(driver):
    need("signed_in", "test_sign_in")
    cookie = session_cookie(driver)
    click_through(driver, driver.find_element(By.ID, "logout"), "logged-out", signed_in=False)
    assert path(driver) == "/dashboard/login", f"expected the login page after signing out, not {path(driver)}"
    visit(driver, "/dashboard/", "logged-out-again", signed_in=False)
    assert path(driver) == "/dashboard/login", f"expected /dashboard/ to go to the login page, not {path(driver)}"
    driver.find_element(By.ID, "login-form")
    # The old session is over on the server too, not only forgotten by the browser.
    status, headers, _ = request("GET", "/dashboard/", headers={"Cookie": cookie})
    assert status == 303, f"expected the signed-out session cookie to get 303 to the login page, got {status}"


def test_console_clean(driver):
    errors = console_errors(driver)
    assert not errors, f"expected no console errors at the end, got {errors}"
