"""The page sent whole: its stylesheet and modules inline, allowed by their hashes in the
CSP and nothing more, and a clear refusal at start for any form the inliner can't take.
(Every browser test runs the inlined page itself.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from os1.server.page import PageBuildError, build_page, bundle, source_hash
from os1.server.web import WEB

INDEX = """<!doctype html><html><head>
<link rel="stylesheet" href="/static/app.css">
  <link rel="modulepreload" href="/static/js/a.js">
<script type="module" src="/static/app.js"></script>
</head><body></body></html>"""


def web_dir(tmp_path: Path, app: str, modules: dict[str, str], css: str = "p{}") -> Path:
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text(INDEX, encoding="utf-8")
    (tmp_path / "app.css").write_text(css, encoding="utf-8")
    (tmp_path / "app.js").write_text(app, encoding="utf-8")
    for name, text in modules.items():
        (tmp_path / "js" / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_real_page_is_one_response_allowed_by_its_hashes_alone() -> None:
    page = build_page(WEB)
    html = page.html.decode("utf-8")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert [attributes for attributes, _ in scripts] == [' type="module"']
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    assert len(styles) == 1
    assert "rel=\"stylesheet\"" not in html and "modulepreload" not in html
    assert f"script-src 'self' {source_hash(scripts[0][1])};" in page.csp
    assert f"style-src 'self' {source_hash(styles[0])};" in page.csp
    assert "unsafe" not in page.csp and "default-src 'none'" in page.csp
    script = scripts[0][1]
    assert not re.search(r"^(?:import|export)\b", script, flags=re.MULTILINE)
    for name in ("api", "ApiError", "setToken", "token", "moodChart", "Conversation"):
        assert f"const {{ {name}" in script or f", {name}" in script, name
    assert 'import("/static/voice.js")' in script  # from the page's own URL, not ./


def test_each_module_runs_in_a_scope_of_its_own_and_gives_back_what_it_exports(
        tmp_path: Path) -> None:
    web = web_dir(tmp_path, 'import { one, Two } from "./js/a.js";\nconst helper = 3;\n',
                  {"a.js": "const helper = 1;\nexport function one() { return helper; }\n"
                           "export class Two {}\nexport const three = 3;\n"})
    script = bundle(web, "app.js")
    assert script.startswith("const { one, Two } = (() => {\nconst helper = 1;\n")
    assert "return { one, Two, three };\n})();\n" in script
    assert script.endswith("const helper = 3;\n")
    assert "export" not in script and "import {" not in script


@pytest.mark.parametrize("app, module, complaint", [
    ('import { one as uno } from "./js/a.js";\n', "export function one() {}\n", "one as uno"),
    ('import { two } from "./js/a.js";\n', "export function one() {}\n", "two"),
    ('import { one } from "./js/a.js";\n', "export default function one() {}\n", "a.js"),
    ('import { one } from "./js/a.js";\n',
     'import { x } from "./b.js";\nexport function one() {}\n', "a.js"),
    ('import { one } from "./js/a.js";\n', "export let one = 1;\n", "a.js"),
    ('import * as a from "./js/a.js";\n', "export function one() {}\n", "app.js"),
    ('export const x = 1;\n', "", "app.js"),
])
def test_a_form_the_inliner_cannot_take_is_refused_at_start(
        tmp_path: Path, app: str, module: str, complaint: str) -> None:
    web = web_dir(tmp_path, app, {"a.js": module})
    with pytest.raises(PageBuildError, match=re.escape(complaint)):
        build_page(web)


def test_text_that_would_end_an_inline_block_early_is_refused(tmp_path: Path) -> None:
    web = web_dir(tmp_path, 'const s = "</SCRIPT>";\n', {})
    with pytest.raises(PageBuildError, match="</script>"):
        build_page(web)
    (web / "app.js").write_text("const s = 1;\n", encoding="utf-8")
    (web / "app.css").write_text("p::after { content: '</style>'; }", encoding="utf-8")
    with pytest.raises(PageBuildError, match="</style>"):
        build_page(web)


def test_an_index_without_the_expected_links_is_refused(tmp_path: Path) -> None:
    web = web_dir(tmp_path, "const s = 1;\n", {})
    (web / "index.html").write_text(INDEX.replace('href="/static/app.css"', 'href="x.css"'),
                                    encoding="utf-8")
    with pytest.raises(PageBuildError, match=re.escape("app.css")):
        build_page(web)
