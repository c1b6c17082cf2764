# SPDX-License-Identifier: LGPL-2.1-or-later
"""Headless Chromium driven by Selenium, for the flame graph tests: Debian's
chromium, chromium-driver and python3-selenium. Without them the tests
skip, except under CI=true, where they fail."""
import os

import pytest

from ci_rule import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip_or_fail("needs python3-selenium")
    for program in (CHROMIUM, CHROMEDRIVER):
        if not os.access(program, os.X_OK):
            skip_or_fail(f"needs {program} (Debian's chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Root (the tracing needs it) cannot use Chromium's sandbox.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1240,1400", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    # Not the sanitizer build's LD_PRELOAD (libasan, for the Python module):
    # chromedriver and Chromium are not built for it and exit at once.
    env = {name: value for name, value in os.environ.items() if name not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env=env), options=options)
    yield driver
    driver.quit()
