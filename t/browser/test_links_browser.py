"""The payout-link page in a real browser: headless Chromium through
Selenium (Debian chromium, chromium-driver, python3-selenium).  A link is
made with POST /payout-links, opened, filled in, submitted; the status
page refreshes itself until the sandbox has paid.  The same without
JavaScript, and an XSS attempt in the hints and the narration shown as
text.  Screenshots of the form and the status page go to
$PAYOUT_SCREENSHOTS (default build/browser/); docs/img/ holds copies."""

import os
import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT

PAGE = "location /pay/ { payout_link_page; }"
SHOTS = os.environ.get("PAYOUT_SCREENSHOTS",
                       os.path.join(ROOT, "build", "browser"))

def public_url(conf):
    """payout_public_url is the server itself, as in `make run`."""
    port = re.search(r"listen 127.0.0.1:(\d+)", conf).group(1)
    return conf.replace("http {", "http {\n    payout_public_url "
                        "http://127.0.0.1:%s;" % port, 1)


@pytest.fixture
def ngx(nginx_factory):
    return nginx_factory(sandbox=True, server=PAGE, edit=public_url)


def chromium(javascript=True):
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=412,1000",
                "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    if not javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript":
                      2})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")),
                            options=opts)


@pytest.fixture
def browser():
    drivers = []

    def make(javascript=True):
        d = chromium(javascript)
        drivers.append(d)
        return d

    yield make
    for d in drivers:
        d.quit()


def create_link(http, ngx, tenant, **kw):
    body = {"amount": 250000, "currency": "NGN", "gateway": "sandbox",
            "narration": "Refund for order #1042", "name": "Ada Obi",
            "email": "ada@example.com"}
    body.update(kw)
    r = http.post(ngx.url("/v1/payout-links"), headers=tenant.headers,
                  json=body)
    assert r.status_code == 201, r.text
    return r.json()


def fill(driver, fields):
    for name, value in fields.items():
        el = driver.find_element(By.NAME, name)
        el.clear()
        el.send_keys(value)


def screenshot(driver, name):
    """The whole page at a phone's width, as tall as its content."""
    os.makedirs(SHOTS, exist_ok=True)
    metrics = {"width": 412, "height": 2400, "deviceScaleFactor": 1,
               "mobile": True}
    # laid out at the phone's width first, then measured
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.execute_script("window.scrollTo(0, 0)")
    metrics["height"] = driver.execute_script(
        "var e = document.querySelector('footer') "
        "|| document.querySelector('main');"
        "return Math.ceil(e.getBoundingClientRect().bottom) + 16;")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.save_screenshot(os.path.join(SHOTS, name))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wait_paid(driver, timeout=25):
    # the page refreshes itself (<meta http-equiv="refresh">)
    WebDriverWait(driver, timeout, poll_frequency=0.5).until(
        lambda d: "Paid" in d.find_element(By.TAG_NAME, "main").text)


def claim(driver, link, shots=False):
    driver.get(link["url"])
    assert driver.title.startswith("Receive NGN 2,500.00")
    main = driver.find_element(By.TAG_NAME, "main").text
    assert "NGN 2,500.00" in main
    # the hints are pre-filled
    assert driver.find_element(By.NAME, "name").get_attribute("value") \
        == "Ada Obi"
    # every visible field has a label
    for el in driver.find_elements(By.CSS_SELECTOR,
                                   "input:not([type=hidden])"
                                   ":not([type=radio])"):
        ident = el.get_attribute("id")
        assert driver.find_elements(By.CSS_SELECTOR,
                                    "label[for='%s']" % ident), ident
    driver.find_element(By.CSS_SELECTOR,
                        "input[value=bank_account]").click()
    fill(driver, {"bank_account_number": "0123456789",
                  "bank_account_name": "Ada Obi", "bank_code": "058",
                  "bank_name": "GTBank"})
    if shots:
        screenshot(driver, "payout-link-form.png")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(
        lambda d: d.current_url == link["url"] + "/status")
    wait_paid(driver)
    if shots:
        screenshot(driver, "payout-link-status.png")


def test_claim_in_chromium(ngx, pg, tenant, http, browser):
    pg.sql("UPDATE tenants SET display_name = 'Acme Ltd' WHERE id = %s",
           (tenant.id,))
    link = create_link(http, ngx, tenant)
    driver = browser()
    claim(driver, link, shots=True)
    got = http.get(ngx.url("/v1/payout-links/" + link["link_uuid"]),
                   headers=tenant.headers).json()
    assert got["status"] == "claimed"
    # the stylesheet loaded under the CSP ('self'): the page is styled
    assert driver.execute_script(
        "return getComputedStyle(document.documentElement)"
        ".backgroundColor") == "rgb(244, 246, 248)"
    # the status page has no form left to submit
    assert not driver.find_elements(By.TAG_NAME, "form")


def test_claim_without_javascript(ngx, pg, tenant, http, browser):
    link = create_link(http, ngx, tenant)
    driver = browser(javascript=False)
    claim(driver, link)


def test_bad_input_and_back(ngx, pg, tenant, http, browser):
    link = create_link(http, ngx, tenant)
    driver = browser(javascript=False)
    driver.get(link["url"])
    fill(driver, {"bank_account_number": "12", "bank_code": "058"})
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the answer is a new page: wait for it, not for the old one
    err = WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "bank_account_number-error"))
    assert "bank_account_number must be" in err.text
    assert driver.find_element(By.NAME, "bank_account_number") \
        .get_attribute("value") == "12"
    fill(driver, {"bank_account_number": "0123456789",
                  "bank_account_name": "Ada Obi"})
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(
        lambda d: d.current_url == link["url"] + "/status")
    wait_paid(driver)


def test_xss_in_hints_and_narration_is_text(ngx, pg, tenant, http,
                                            browser):
    name = '"><img src=x onerror="document.title=\'pwned\'">'
    narration = "<script>document.title='pwned'</script><b>bold</b>"
    link = create_link(http, ngx, tenant, name=name, narration=narration)
    driver = browser()
    driver.get(link["url"])
    assert driver.title != "pwned"
    assert driver.find_element(By.CSS_SELECTOR, "p.narration").text \
        == narration
    assert driver.find_element(By.NAME, "name").get_attribute("value") \
        == name
    assert not driver.find_elements(By.CSS_SELECTOR, "main img, main b")
    # nor does anything run on the status page
    fill(driver, {"bank_account_number": "0123456789",
                  "bank_account_name": "Ada Obi", "bank_code": "058"})
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(
        lambda d: d.current_url.endswith("/status"))
    assert driver.title != "pwned"
    assert narration in driver.find_element(By.TAG_NAME, "main").text
