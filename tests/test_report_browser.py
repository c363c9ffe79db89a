"""The HTML report in a real browser: headless Chromium, driven by Selenium.

The demo's report is opened in English and in Chinese.  Each figure of the
KPI table, as the browser shows it, is the figure ``arrears report --json``
gives; the page logs no error to the console; and the Chinese text is drawn
in a CJK font (Chromium's own account of the fonts it used, and two different
phrases that do not come out as the same picture, as missing glyphs would).

No text overflows its box, in either language, at a laptop's width (1366
pixels) and a narrow one (800): every table cell and heading holds its text,
nothing reaches past the page's edge, and every text of every chart lies
within its SVG's viewBox.  Besides the demo's report, a champion/challenger
report whose variants and file have long names without spaces is checked
(those are what a table cannot wrap by itself), and the check is shown to
catch a label made too long.

It needs ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (Debian's
``chromium`` and ``chromium-driver``) and a CJK font (``fonts-noto-cjk``),
which CI installs.  Without them it is skipped, unless ``ARREARS_TEST_BROWSER=1``
is set (as CI sets it): then it fails.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from arrears import Actor, Engine, Money, SettableClock
from arrears.cli import main
from arrears.compliance import Compliance
from arrears.stores import open_store

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
REQUIRED = os.environ.get("ARREARS_TEST_BROWSER") == "1"
#: Font families that hold the Han characters of simplified Chinese.
CJK_FONTS = re.compile(
    r"CJK|Source Han|WenQuanYi|PingFang|Hiragino|YaHei|SimHei|SimSun|Droid Sans Fallback"
)


def _missing() -> str | None:
    """What the test lacks to run, or ``None``."""
    for path in (CHROMIUM, DRIVER):
        if not path.exists():
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    if shutil.which("fc-list") is None:
        return "fontconfig is not installed"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if REQUIRED:
            pytest.fail(f"ARREARS_TEST_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1800"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's database, its report as JSON, and the HTML report in both languages."""
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.db"
    runner = CliRunner()
    done = runner.invoke(
        main,
        [
            "demo",
            "--cases",
            "150",
            "--days",
            "40",
            "--db",
            str(db),
            "--html",
            str(folder / "d.html"),
        ],
    )
    assert done.exit_code == 0, done.output
    found = runner.invoke(main, ["report", "--db", str(db), "--json"])
    assert found.exit_code == 0, found.output
    pages = {}
    for locale in ("en", "zh-CN"):
        page = folder / f"report-{locale}.html"
        made = runner.invoke(
            main, ["report", "--db", str(db), "--locale", locale, "--html", str(page)]
        )
        assert made.exit_code == 0, made.output
        pages[locale] = page
    return {"json": json.loads(found.stdout), "pages": pages, "folder": folder}


def _figure(data: dict[str, Any], key: str) -> Any:
    """The figure at *key* (``"cure_rate"``, ``"roll_rates.M1→M2"``) of one group's JSON."""
    name, _, part = key.partition(".")
    value = data[name]
    return value.get(part) if part else value


def _agrees(shown: str, figure: Any) -> bool:
    """Whether a cell as the browser shows it is the JSON's figure, to the digits shown."""
    if figure is None:
        return shown == "-"
    number = re.search(r"-?[\d,]+(?:\.(\d+))?", shown)
    if number is None:
        return False
    digits = number.group(0).replace(",", "")
    if isinstance(figure, str):  # an amount: exact, to the currency's minor units
        return Decimal(digits) == Decimal(figure)
    if isinstance(figure, int):
        return int(digits) == figure
    places = len(number.group(1) or "")
    scale = 100 if shown.endswith("%") else 1
    return abs(float(digits) - scale * figure) <= 0.5 * 10**-places + 1e-9


def _open(driver: Any, page: Path) -> None:
    driver.get_log("browser")  # what an earlier page logged is not this one's
    driver.get(page.as_uri())


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_table_in_the_browser_shows_the_json_figures(
    browser: Any, demo: dict[str, Any], locale: str
) -> None:
    browser.get(demo["pages"][locale].as_uri())
    heads, rows = browser.execute_script(
        """
        const table = document.querySelector("table");
        const heads = Array.from(table.querySelectorAll("tr:first-child th")).slice(1);
        const rows = Array.from(table.querySelectorAll("tr[data-kpi]"));
        const cells = tr => Array.from(tr.querySelectorAll("td.value")).map(td => td.innerText);
        return [heads.map(th => th.innerText), rows.map(tr => [tr.dataset.kpi, cells(tr)])];
        """
    )
    report = demo["json"]
    groups = [report["overall"], *(report["variants"][name] for name in heads[1:])]
    assert heads[0] == ("all" if locale == "en" else "全部")
    keys = {key for key, _ in rows}
    assert {"cases", "cure_rate", "recovery_rate", "past_due", "denial_rate"} <= keys
    assert any(key.startswith("roll_rates.") for key in keys)
    checked = 0
    for key, cells in rows:
        assert len(cells) == len(groups), key
        for shown, group in zip(cells, groups, strict=True):
            figure = _figure(group, key)
            assert _agrees(shown, figure), (locale, key, shown, figure)
            checked += 1
    assert checked >= 20 * len(groups)
    assert report["overall"]["cases"] == 150


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_page_logs_no_error(browser: Any, demo: dict[str, Any], locale: str) -> None:
    _open(browser, demo["pages"][locale])
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.execute_script("return document.querySelectorAll('svg').length") == 4
    logged = browser.get_log("browser")
    assert [entry for entry in logged if entry["level"] in ("SEVERE", "WARNING")] == []
    assert browser.execute_script("return document.characterSet") == "UTF-8"


def _fonts(driver: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium drew the text of the first element matching *selector* with."""
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": selector})
    found = driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    fonts: list[dict[str, Any]] = found["fonts"]
    return fonts


def test_chinese_is_drawn_in_a_cjk_font(browser: Any, demo: dict[str, Any]) -> None:
    _open(browser, demo["pages"]["zh-CN"])
    title = browser.execute_script("return document.querySelector('h1').innerText")
    assert title == "催收效果评估报告：demo.db"
    han = len(re.findall(r"[\u4e00-\u9fff]", title))
    fonts = _fonts(browser, "h1")
    drawn = sum(font["glyphCount"] for font in fonts if CJK_FONTS.search(font["familyName"]))
    assert drawn >= han, fonts
    # a chart's text is text, set by the browser in the page's fonts as well
    marked = browser.execute_script(
        """
        const label = Array.from(document.querySelectorAll("section.chart svg text"))
            .find(text => /[\u4e00-\u9fff]/.test(text.textContent));
        if (label) label.id = "chinese-label";
        return label ? label.textContent : null;
        """
    )
    assert marked
    label = _fonts(browser, "#chinese-label")
    assert any(CJK_FONTS.search(font["familyName"]) for font in label), label
    # two different phrases: missing glyphs would draw both as the same row of boxes
    shots = browser.execute_script(
        """
        for (const [id, words] of [["one", "回款率"], ["two", "迁徙率"]]) {
            const span = document.createElement("span");
            span.id = id; span.textContent = words; span.style.fontSize = "40px";
            document.body.prepend(span);
        }
        return [document.getElementById("one").getBoundingClientRect().width,
                document.getElementById("two").getBoundingClientRect().width];
        """
    )
    assert shots[0] > 0
    from selenium.webdriver.common.by import By

    one = browser.find_element(By.ID, "one").screenshot_as_png
    two = browser.find_element(By.ID, "two").screenshot_as_png
    assert one != two
    picture = demo["folder"] / "report-zh-CN.png"
    assert browser.save_screenshot(str(picture))
    assert picture.stat().st_size > 10_000


# -- nothing overflows ---------------------------------------------------------------------------

#: The viewport widths checked: a common laptop's, and a narrow window's.
WIDTHS = (1366, 800)
#: Variant names without a space to break at, as teams name them.
VARIANTS = ("champion_sms_first_2026q3", "challenger_call_on_day_three_2026q3")
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
AGENT = Actor("agent-7", frozenset({"agent"}))

#: Every box whose text would not fit, as one line each, and how many boxes were checked.
#: A cell or heading whose content is wider than it (scrollWidth > clientWidth), anything
#: past the page's edges or a page that scrolls sideways, and a chart text whose box (its
#: getBBox, through its transform, in the SVG's user units) leaves the viewBox, or whose
#: drawn box leaves the SVG's.
OVERFLOWS = """
const problems = [];
const counted = {cells: 0, blocks: 0, svgs: 0, texts: 0};
const view = document.documentElement.clientWidth;
const name = el => `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 50)}"`;
if (document.documentElement.scrollWidth > view + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${view}`);
}
for (const el of document.querySelectorAll("th, td, h1, h2, p, li")) {
    counted[el.matches("th, td") ? "cells" : "blocks"] += 1;
    if (el.scrollWidth > el.clientWidth + 1) {
        problems.push(`${name(el)}: ${el.scrollWidth}px of text in ${el.clientWidth}px`);
    }
}
for (const el of document.querySelectorAll("th, td, h1, h2, p, li, table, svg")) {
    const box = el.getBoundingClientRect();
    if (box.left < -1 || box.right > view + 1) {
        problems.push(`${name(el)}: ${box.left}px to ${box.right}px in a ${view}px page`);
    }
}
for (const svg of document.querySelectorAll("svg")) {
    counted.svgs += 1;
    const frame = svg.viewBox.baseVal;
    const drawn = svg.getBoundingClientRect();
    const back = svg.getScreenCTM().inverse();
    for (const text of svg.querySelectorAll("text")) {
        if (!text.textContent.trim()) continue;
        counted.texts += 1;
        const box = text.getBBox();
        const into = back.multiply(text.getScreenCTM());
        const corners = [[box.x, box.y], [box.x + box.width, box.y],
                         [box.x, box.y + box.height], [box.x + box.width, box.y + box.height]]
            .map(([x, y]) => new DOMPoint(x, y).matrixTransform(into));
        const xs = corners.map(p => p.x), ys = corners.map(p => p.y);
        const left = Math.min(...xs), right = Math.max(...xs);
        const top = Math.min(...ys), bottom = Math.max(...ys);
        if (left < frame.x - 0.5 || right > frame.x + frame.width + 0.5
                || top < frame.y - 0.5 || bottom > frame.y + frame.height + 0.5) {
            problems.push(`chart ${name(text)}: x ${left.toFixed(1)} to ${right.toFixed(1)}, `
                + `y ${top.toFixed(1)} to ${bottom.toFixed(1)} outside the viewBox `
                + `${frame.width.toFixed(1)} x ${frame.height.toFixed(1)}`);
        }
        const seen = text.getBoundingClientRect();
        if (seen.left < drawn.left - 1 || seen.right > drawn.right + 1
                || seen.top < drawn.top - 1 || seen.bottom > drawn.bottom + 1) {
            problems.push(`chart ${name(text)}: drawn past its chart`);
        }
    }
}
return [problems, counted];
"""


def build_variants(engine: Engine, clock: SettableClock) -> None:
    """Sixty past-due cases in two variants: calls that reach the debtor or not, promises
    kept (paid in full, so the case is cured: every one of the challenger's) and broken,
    calls at 23:00 that CN-HOURS denies."""
    for number in range(60):
        variant = VARIANTS[number % 2]
        case_id = f"L-{number:03d}"
        engine.open_case(
            {
                "id": case_id,
                "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
                "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
                "balance": {"currency": "CNY", "principal": f"{1000 + 37 * number}.00"},
                "due_date": "2026-08-20",
                "variant": variant,
            },
            at=START,
        )
        call = {"channel": "call", "contact": "mobile"}
        if number % 5 == 1:
            late = START.replace(hour=23)
            assert not engine.judge_contact(case_id, call, at=late, actor=AGENT).allowed
        day = START + timedelta(days=1, hours=1)
        outcome = "conversation" if number % 3 else "no_answer"
        engine.record_interaction(case_id, "call", outcome, contact="mobile", actor=AGENT, at=day)
        if outcome == "conversation":
            owed = Money(f"{1000 + 37 * number}.00", "CNY")
            engine.record_promise(case_id, owed, (day + timedelta(days=3)).date(), at=day)
            if variant == VARIANTS[1] or number % 4 == 0:  # the challenger's are all kept
                engine.record_payment(case_id, owed, at=day + timedelta(days=2))
    clock.set(START + timedelta(days=10))
    for number in range(60):
        engine.review_promises(f"L-{number:03d}")


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A champion/challenger report with long names, written by ``arrears report --lang``."""
    folder = tmp_path_factory.mktemp("variants")
    db = folder / "portfolio_2026q3_champion_challenger_review.db"
    with open_store(db) as store:
        clock = SettableClock(START)
        engine = Engine(compliance=Compliance(["CN"]), clock=clock, store=store)
        build_variants(engine, clock)
    pages = {}
    for locale in ("en", "zh-CN"):
        page = folder / f"variants-{locale}.html"
        made = CliRunner().invoke(
            main,
            ["report", "--db", str(db), "--lang", locale, "--to", "2026-10-11T09:00:00+08:00",
             "--champion", VARIANTS[0], "--html", str(page)],
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        pages[locale] = page
    return pages


@contextmanager
def _width(driver: Any, width: int) -> Iterator[None]:
    """The page laid out *width* CSS pixels wide (the viewport, not the window)."""
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _overflows(driver: Any) -> tuple[list[str], dict[str, int]]:
    problems, counted = driver.execute_script(OVERFLOWS)
    return problems, counted


def _full_page(driver: Any, path: Path) -> Path:
    """A screenshot of the whole page, past the viewport, as PNG."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("which", ["demo", "variants"])
def test_no_text_overflows(
    browser: Any,
    demo: dict[str, Any],
    variants: dict[str, Path],
    tmp_path: Path,
    which: str,
    locale: str,
    width: int,
) -> None:
    page = demo["pages"][locale] if which == "demo" else variants[locale]
    with _width(browser, width):
        _open(browser, page)
        assert browser.execute_script("return document.documentElement.clientWidth") <= width
        problems, counted = _overflows(browser)
        picture = _full_page(browser, tmp_path / f"{which}-{locale}-{width}.png")
    assert not problems, "\n".join(problems)
    charts = 4 if which == "demo" else 5  # and the comparison's intervals
    assert counted["svgs"] == charts
    assert counted["cells"] >= 75
    assert counted["blocks"] >= 12
    assert counted["texts"] >= 15 * charts
    assert picture.stat().st_size > 50_000


def test_the_check_catches_a_label_too_long(browser: Any, variants: dict[str, Path]) -> None:
    """A header that cannot wrap and a chart title three times as long are each reported."""
    with _width(browser, 800):
        _open(browser, variants["zh-CN"])
        assert _overflows(browser)[0] == []
        browser.execute_script(
            """
            const head = document.querySelector("th");
            head.textContent = "a_label_with_no_space_to_break_at_".repeat(4);
            head.style.whiteSpace = "nowrap";
            head.style.overflowWrap = "normal";
            const texts = Array.from(document.querySelector("section.chart svg")
                .querySelectorAll("text"));
            const title = texts.reduce(
                (a, b) => b.textContent.length > a.textContent.length ? b : a);
            title.textContent = title.textContent.repeat(3);
            """
        )
        problems, _ = _overflows(browser)
    said = "\n".join(problems)
    assert 'th "a_label_with_no_space_to_break_at_' in said
    assert "the page scrolls sideways" in said
    assert 'chart text "1 个完整周期的迁徙流向' in said
