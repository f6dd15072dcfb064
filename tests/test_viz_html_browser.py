"""`viz.export_html`: the step-through page, as bytes and in a real browser (issue 4).

First the file itself: one self-contained document (no fetch of any kind, a strict
Content-Security-Policy), every label escaped, the same bytes for the same graph, written
atomically. Then headless Chromium, driven by Selenium, opens it from disk: no console error, no
network request, Next walks through every frame with the counter and the equation of
`steps(J)[k]`, the arrow keys go back and forth, Home and End jump, the counter carries a mark
per frame coloured by phase, each frame has its legend, the picture fills the screen's width, the
exercise mode checks answers, and a hostile label runs no script.

Chromium and chromedriver come from the Debian packages `chromium` and `chromium-driver`, which
scripts/run-tests.sh installs; without them these tests FAIL (never skip) and say so.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_viz_examples import reused_node, worked_example

from micrograd import Value
from viz import export_html, steps
from viz.html import MAX_FRAMES

HOSTILE = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


def hostile_graph() -> Value:
    """Labels made to break out of every context of the page: script, attribute, comment, SVG."""
    a = Value(2.0, HOSTILE)
    b = Value(-3.0, "\"><!-- & ' </svg></section> {|}")
    out = (a * b).tanh() + a
    out.label = "</style><style>body{display:none}</style>"
    return out


# -- the file --------------------------------------------------------------------------------------


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text of <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_page_structure_for_the_worked_example(tmp_path: Path) -> None:
    v = worked_example(backward=False)
    path = export_html(v["J"], tmp_path / "backprop.html")
    assert path == tmp_path / "backprop.html" and sorted(os.listdir(tmp_path)) == ["backprop.html"]
    page = path.read_text("utf-8")
    tags = parse(page)
    frames = steps(v["J"])
    sections = [attrs for tag, attrs in tags.tags if tag == "section"]
    assert [s["data-step"] for s in sections] == [str(k) for k in range(1, 19)]
    assert [s["data-phase"] for s in sections] == ["forward"] * 9 + ["backward"] * 9
    assert ["hidden" in s for s in sections] == [False] + [True] * 17
    assert [tag for tag, _ in tags.tags].count("svg") == 18
    equations = re.findall(r'<p class="equation">(.*?)</p>', page)
    assert [html.unescape(e) for e in equations] == [f.equation for f in frames]
    assert '<span id="counter">1 / 18 · forward</span>' in page
    marks = [attrs["class"] for tag, attrs in tags.tags if tag == "li" and "title" in attrs]
    assert marks == ["forward now"] + ["forward"] * 8 + ["backward"] * 9
    assert "<h1>Backprop step by step: " in page
    assert [tag for tag, _ in tags.tags].count("script") == 1 and len(tags.scripts) == 1


def test_page_fetches_nothing_and_declares_it(tmp_path: Path) -> None:
    page = export_html(worked_example()["J"], tmp_path / "p.html").read_text("utf-8")
    tags = parse(page)
    for tag, attrs in tags.tags:
        assert tag not in ("link", "img", "image", "iframe", "object", "embed", "use", "a"), tag
        for name in attrs:
            assert name not in ("src", "href", "xlink:href", "srcset", "style") and not name.startswith("on"), (
                tag,
                name,
            )
    assert "://" not in page  # no URL at all (the SVG's namespace declarations are dropped too)
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page and "<!--" not in page
    assert "url(" not in page and "@import" not in page
    # a strict policy, the one inline script and style allowed by their hashes
    (csp,) = [a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; ")
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    for text, directive in [(script, "script-src"), (style, "style-src")]:
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        import base64

        assert f"{directive} 'sha256-{base64.b64encode(digest).decode()}'" in csp


def test_hostile_labels_are_escaped(tmp_path: Path) -> None:
    out = hostile_graph()
    page = export_html(out, tmp_path / "p.html").read_text("utf-8")
    tags = parse(page)
    assert [t for t, _ in tags.tags].count("script") == 1  # only ours
    assert [t for t, _ in tags.tags].count("style") == 1
    assert [t for t, _ in tags.tags].count("img") == 0 and "window.pwned" not in "".join(tags.scripts)
    assert HOSTILE not in page and html.escape(HOSTILE, quote=False) in page
    assert page.count("</section>") == 10 and page.count("</svg>") == 10  # a, b, v1, v2, out, then back
    equations = [html.unescape(e) for e in re.findall(r'<p class="equation">(.*?)</p>', page)]
    assert equations == [f.equation for f in steps(out)]


def test_same_graph_same_bytes(tmp_path: Path) -> None:
    first = export_html(worked_example()["J"], tmp_path / "a.html").read_bytes()
    second = export_html(worked_example(backward=False)["J"], tmp_path / "b.html").read_bytes()
    assert first == second  # the user's .grad plays no part
    assert (
        hashlib.sha256(first).hexdigest()
        == hashlib.sha256(export_html(steps(worked_example()["J"]), tmp_path / "c.html").read_bytes()).hexdigest()
    )


def test_bad_paths_and_inputs_are_refused(tmp_path: Path) -> None:
    J = worked_example()["J"]
    with pytest.raises(ValueError, match=r"has suffix '\.svg'; use \.html"):
        export_html(J, tmp_path / "page.svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_html(J, tmp_path / "nowhere" / "page.html")
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        export_html(J, tmp_path / "dir.html")
    with pytest.raises(TypeError, match="needs a Value"):
        export_html(2.0, tmp_path / "page.html")
    chain = Value(1.0, "x")
    for _ in range(MAX_FRAMES // 2):  # each value has a forward and a backward frame
        chain = chain.tanh()
    with pytest.raises(ValueError, match=f"has {MAX_FRAMES + 2} steps, more than {MAX_FRAMES}"):
        export_html(chain, tmp_path / "page.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.html"]


def test_an_unwritable_file_leaves_the_old_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.html"
    path.write_text("old", "utf-8")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        export_html(worked_example()["J"], path)
    assert path.read_text("utf-8") == "old" and sorted(os.listdir(tmp_path)) == ["p.html"]


# -- in headless Chromium --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail(
            "the browser test needs Chromium and chromedriver (Debian packages `chromium` and "
            "`chromium-driver`); run the tests with scripts/run-tests.sh, which installs them"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="micrograd-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--window-size=1400,900",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def open_page(driver, path: Path) -> None:
    driver.get_log("browser")  # drop what an earlier page left
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())


def shown(driver) -> tuple[str, str, int]:
    """The counter, the visible frame's equation, and how many frames are visible."""
    from selenium.webdriver.common.by import By

    counter = driver.find_element(By.ID, "counter").text
    visible = driver.find_elements(By.CSS_SELECTOR, ".frame:not([hidden])")
    equation = visible[0].find_element(By.CLASS_NAME, "equation").text if visible else ""
    return counter, equation, len(visible)


def assert_quiet(driver, page: Path) -> None:
    """No console message at all, and no request but the page itself."""
    assert driver.get_log("browser") == []
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    import json

    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert requested == [page.resolve().as_uri()]


def test_in_chromium_next_walks_every_frame_and_the_keys_move(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    v = worked_example(backward=False)
    frames = steps(v["J"], lr=0.1)
    path = export_html(frames, tmp_path / "backprop.html")
    open_page(browser, path)
    # what is computed, in the title: the formula in the inputs, and their values
    assert browser.title == "Backprop step by step: J = (w × x + b − y)² / 2 at w = 2, x = −2, b = 8, y = 2"
    previous, next_ = browser.find_element(By.ID, "previous"), browser.find_element(By.ID, "next")
    assert shown(browser) == ("1 / 23 · forward", "w = 2", 1)
    assert not previous.is_enabled() and next_.is_enabled()
    for k in range(1, 23):
        next_.click()
        assert shown(browser) == (f"{k + 1} / 23 · {frames[k].phase}", frames[k].equation, 1), k
    assert shown(browser)[1] == "J = 0.0128 at the new values (was 2: down by 1.9872)"
    assert not next_.is_enabled() and previous.is_enabled()
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_LEFT)
    assert shown(browser) == ("22 / 23 · update", frames[21].equation, 1)
    body.send_keys(Keys.HOME)
    assert shown(browser) == ("1 / 23 · forward", "w = 2", 1)
    body.send_keys(Keys.END)
    assert shown(browser) == ("23 / 23 · update", frames[22].equation, 1)
    body.send_keys(Keys.ARROW_RIGHT)
    assert shown(browser)[0] == "23 / 23 · update"
    # the phase marks: one per frame, the current one marked; a click on one jumps there
    marks = browser.find_elements(By.CSS_SELECTOR, "#track li")
    assert [m.get_attribute("class").split()[0] for m in marks] == ["forward"] * 9 + ["backward"] * 9 + ["update"] * 5
    assert [m.get_attribute("class") for m in marks].index("update now") == 22
    marks[17].click()  # w̄, the course's last line of the backward pass
    assert shown(browser) == ("18 / 23 · backward", "w̄ = ∂c/∂w × c̄ = −2 × 2 = −4   (c = w × x, so ∂c/∂w = x = −2)", 1)
    # the phase and equation stand above the picture; the legend names the three marks
    frame = browser.find_element(By.CSS_SELECTOR, ".frame:not([hidden])")
    equation = frame.find_element(By.CLASS_NAME, "equation")
    svg = frame.find_element(By.TAG_NAME, "svg")
    assert frame.find_element(By.CLASS_NAME, "phase").text.lower() == "backward"
    assert equation.location["y"] + equation.size["height"] <= svg.location["y"]
    legend = [li.text for li in frame.find_elements(By.CSS_SELECTOR, ".legend li")]
    assert legend == [
        "ū: the gradient this step finds",
        "∂c/∂u: the local derivative it uses",
        "c̄: the gradient it multiplies",
    ]
    # the picture is laid out, shows its numbers and the used edge's derivative, and fills the width
    texts = [t.text for t in svg.find_elements(By.TAG_NAME, "text")]
    assert "grad −4" in texts and "v1" in texts and "∂c/∂w = −2" in texts
    room = browser.execute_script("return document.querySelector('.frame:not([hidden]) .picture').clientWidth")
    assert svg.size["width"] >= 0.95 * room and svg.size["height"] > 100
    # its width is in CSS pixels (so the browser's zoom enlarges it), not a percentage
    assert browser.execute_script("return arguments[0].style.width", svg).endswith("px")
    assert_quiet(browser, path)


def test_in_chromium_the_exercise_checks_hints_and_reveals(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    v = worked_example(backward=False)
    frames = steps(v["J"], lr=0.1)
    path = export_html(frames, tmp_path / "exercise.html", exercise=True)
    open_page(browser, path)
    assert browser.title.startswith("Exercise: J = ")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    body.send_keys(Keys.HOME)
    for _ in range(17):
        body.send_keys(Keys.ARROW_RIGHT)

    def part(name: str):
        return browser.find_element(By.CSS_SELECTOR, f".frame:not([hidden]) {name}")

    def picture_texts() -> list[str]:
        return [t.text for t in part(".picture:not([hidden]) svg").find_elements(By.TAG_NAME, "text")]

    # w̄: the question, not the answer; the picture leaves w's gradient blank
    assert part(".question").text == "w̄ = ∂c/∂w × c̄ = ?   (c = w × x)"
    assert not part(".equation").is_displayed() and "grad −4" not in picture_texts()
    answer = part("input")
    answer.send_keys("4")  # the sign forgotten
    part(".check").click()
    assert part(".feedback").text == "Not quite."
    assert part(".hint").text == "Hint: w̄ = ∂c/∂w × c̄: ∂c/∂w = x for c = w × x; read c̄ in the picture"
    answer.clear()
    answer.send_keys("−4.002", Keys.ENTER)  # within 1e-3, with the true minus
    assert part(".feedback").text == "Right!" and not part(".hint").is_displayed()
    assert part(".equation").text == frames[17].equation and not part(".question").is_displayed()
    assert "grad −4" in picture_texts()
    # the arrow keys typed into the answer box do not move the page; the reveal button shows x̄
    body.send_keys(Keys.ARROW_LEFT)
    assert browser.find_element(By.ID, "counter").text == "17 / 23 · backward"
    assert not part(".equation").is_displayed()
    part(".reveal").click()
    assert part(".equation").text == frames[16].equation and "grad 4" in picture_texts()
    assert_quiet(browser, path)


def test_in_chromium_a_hostile_label_runs_nothing(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    out = hostile_graph()
    frames = steps(out)
    path = export_html(out, tmp_path / "hostile.html")
    open_page(browser, path)
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.find_element(By.TAG_NAME, "body").is_displayed()  # the label's <style> did not hide it
    assert browser.execute_script("return document.querySelectorAll('script, img, style').length") == 2
    next_ = browser.find_element(By.ID, "next")
    for k in range(len(frames)):
        assert shown(browser) == (f"{k + 1} / {len(frames)} · {frames[k].phase}", frames[k].equation, 1)
        next_.click()
    assert HOSTILE in frames[-1].equation  # the last frame is dout/da, written with a's label
    assert_quiet(browser, path)


def test_in_chromium_a_reused_node_page(browser, tmp_path: Path) -> None:
    path = export_html(reused_node()["s"], tmp_path / "reused.html")
    open_page(browser, path)
    from selenium.webdriver.common.by import By

    browser.find_element(By.TAG_NAME, "body").send_keys("\ue014")  # the right arrow key
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue014", "\ue014")
    assert shown(browser) == (
        "4 / 4 · backward",
        "ā = ∂s/∂a (1st) × s̄ + ∂s/∂a (2nd) × s̄ = 3 × 1 + 3 × 1 = 6   "
        "(s = a × a, so ∂s/∂a (1st) = a = 3 and ∂s/∂a (2nd) = a = 3)",
        1,
    )
    assert_quiet(browser, path)
