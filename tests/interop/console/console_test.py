#!/usr/bin/env python3
"""The live console in a real headless browser (issue #18; docs/operating.md "Live console").

Starts `iwf-harness run console_call.yaml` (iwfd, the harness's MC simulator with client
alice, P25 radio radio-1 encrypting with AES-256), opens iwfd's console in Debian's chromium
through chromium-driver (Selenium), and checks what an operator sees:

  1. the page connects to /v1/events ("live"); the harness's radio starts talking only then;
  2. the call appears with the right talker on each side (LMR unit 1001 = 0x3E9, MC ID
     sip:p25-1001@iwf.example), E2EE "encrypted", ALGID / KID 0x84 / 0x0101, and the group's
     rendered security configuration (TS 24.481 document) can be opened;
  3. a screenshot is taken (path printed; CI keeps it);
  4. the call disappears when it ends; then the browser leaves and the harness run passes.

Usage: console_test.py --harness BIN --scenario YAML --out DIR [--screenshot PNG]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

LMR_TALKER_SUFFIX = ".0003E9"  # unit 1001 (p25:unit:WACN.SYSTEM.UNIT in hex)
MC_TALKER = "mc:sip:p25-1001@iwf.example"


def fail(msg, harness=None, out=None):
    print("FAIL: " + msg, flush=True)
    if harness is not None and harness.poll() is None:
        harness.kill()
    if out:
        log = os.path.join(out, "iwfd.log")
        if os.path.exists(log):
            print("--- iwfd.log (tail) ---")
            with open(log, errors="replace") as f:
                print("".join(f.readlines()[-60:]))
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--harness", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--screenshot", default="")
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    shot = a.screenshot or os.path.join(a.out, "console.png")
    t0 = time.monotonic()

    harness = subprocess.Popen([a.harness, "run", a.scenario, "--out", a.out],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port_file = os.path.join(a.out, "admin.port")
    deadline = time.monotonic() + 60
    port = None
    while time.monotonic() < deadline and port is None:
        if harness.poll() is not None:
            fail("the harness exited before iwfd was up:\n" + harness.stdout.read(), None, a.out)
        try:
            with open(port_file) as f:
                text = f.read().strip()
                port = int(text) if text else None
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    if port is None:
        fail("no admin port file from iwfd within 60 s", harness, a.out)
    url = "http://127.0.0.1:%d/" % port

    profile = tempfile.mkdtemp(prefix="iwf-console-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--user-data-dir=" + profile):
        opts.add_argument(flag)
    driver = None
    try:
        # The Debian driver, named explicitly: Selenium never looks for (or downloads) one.
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        t_browser = time.monotonic()
        driver.get(url)
        wait = WebDriverWait(driver, 60, poll_frequency=0.2)
        wait.until(lambda d: d.find_element(By.ID, "live").text == "live")
        # The group's rendered security configuration, from the keymap.
        wait.until(lambda d: len(d.find_elements(
            By.CSS_SELECTOR, "#group-select option[value='sip:fire-ops@iwf.example']")) == 1)
        Select(driver.find_element(By.ID, "group-select")).select_by_value(
            "sip:fire-ops@iwf.example")
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR,
                                            "#group-security td[data-field='algid']").text == "0x84")
        if "list-service" not in driver.find_element(By.ID, "group-xml").text:
            fail("the group's rendered document is not shown", harness, a.out)

        # The call: right talker on each side, encrypted, ALGID / KID.
        sel = ("#calls tr[data-call][data-e2ee='encrypted'][data-talker-lmr$='%s']"
               "[data-talker-mc='%s']" % (LMR_TALKER_SUFFIX, MC_TALKER))
        # Read the row in one script call: the page re-renders the table on every event.
        probe = ("const r = document.querySelector(arguments[0]); return r ? "
                 "{cells: Array.from(r.cells, c => c.innerText), group: r.dataset.group} : null;")
        try:
            row = wait.until(lambda d: d.execute_script(probe, sel))
        except WebDriverException:
            rows = driver.execute_script(
                "return Array.from(document.querySelectorAll('#calls tbody tr'), r => r.outerHTML);")
            fail("no encrypted call with talker unit 1001 / %s appeared; rows: %s"
                 % (MC_TALKER, rows), harness, a.out)
        t_call = time.monotonic()
        if "0x84 / 0x0101" not in row["cells"]:
            fail("ALGID / KID not shown as 0x84 / 0x0101: %s" % row["cells"], harness, a.out)
        if row["group"] != "sip:fire-ops@iwf.example":
            fail("wrong group: %s" % row["group"], harness, a.out)
        driver.save_screenshot(shot)
        print("screenshot: " + os.path.abspath(shot), flush=True)

        # The call ends (the radio stops, hang time passes): it leaves the page.
        WebDriverWait(driver, 60, poll_frequency=0.2).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#calls tr[data-call]")) == 0)
        t_gone = time.monotonic()
    except BaseException:
        if harness.poll() is None:
            harness.kill()
        raise
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

    try:
        out, _ = harness.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        fail("the harness run did not end within 90 s of the browser leaving", harness, a.out)
    print(out)
    if harness.returncode != 0:
        fail("the harness run failed (exit %d)" % harness.returncode, None, a.out)
    t_end = time.monotonic()
    print("console test: browser up after %.1f s, call shown after %.1f s, gone after %.1f s, "
          "total %.1f s" % (t_browser - t0, t_call - t0, t_gone - t0, t_end - t0))
    print("PASS")


if __name__ == "__main__":
    main()
