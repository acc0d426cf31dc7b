"""The web app in Simplified Chinese: from the browser's Accept-Language, a ``?lang=`` link, or
forced by the server (``serve --lang zh-CN``); English stays the default."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from addiction_index.web import WebSettings, create_app
from tests.web.conftest import ROLES, SUBJECT, Centre, login, serve

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
STATEMENT_ZH = "各项分数仅供研究与决策支持，并非诊断。默认指数未经临床验证。"
HAN = re.compile(r"[\u4e00-\u9fff]")

PAGES = {
    "clinician": ["/", "/residents", f"/residents/{SUBJECT}", "/prescriptions/today",
                  "/exercise/live", f"/residents/{SUBJECT}/assess"],
    "coach": ["/", "/residents", f"/residents/{SUBJECT}", "/prescriptions/today",
              "/exercise/live"],
    "researcher": ["/"],
    "case-manager": ["/", "/residents", f"/residents/{SUBJECT}"],
    "admin": ["/", "/users", "/audit"],
}  # fmt: skip
# a Chinese word each page must show
EXPECTED = {
    "/": "首页",
    "/residents": "戒治人员",
    f"/residents/{SUBJECT}": "当前处方",
    "/prescriptions/today": "今日处方",
    "/exercise/live": "心率区间监测",
    f"/residents/{SUBJECT}/assess": "模拟设备",
    "/users": "工作人员账号",
    "/audit": "审计日志",
}


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture(scope="module")
def zh_clients(centre: Centre) -> Iterator[dict[str, httpx.Client]]:
    out = {}
    for role in ROLES:
        client = centre.client()
        client.headers.update(ZH)
        assert login(client, role.replace("-", "")).status_code == 303
        out[role] = client
    yield out
    for client in out.values():
        client.close()


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_pages_are_in_chinese(zh_clients: dict[str, httpx.Client], role: str) -> None:
    for path in PAGES[role]:
        response = zh_clients[role].get(path)
        assert response.status_code == 200, path
        html = response.text
        assert '<html lang="zh-CN">' in html, path
        assert EXPECTED[path] in html, path
        assert "研究与决策支持，并非诊断" in html, path  # the footer
        assert "Sign out" not in html and "退出登录" in html, path
        # the navigation and headings carry no English left over from the templates
        for english in ("Dashboard", "Residents", "Today's prescriptions", "Zone monitor"):
            assert english not in _visible(html), (path, english)


def test_the_session_page_in_chinese_has_the_statement(
    centre: Centre, zh_clients: dict[str, httpx.Client]
) -> None:
    html = zh_clients["clinician"].get(f"/sessions/{centre.session_id}").text
    assert STATEMENT_ZH in html
    assert "成瘾指数" in html and "评估阶段" in html and "信号质量" in html
    assert "Assessment report" not in html


def test_english_stays_the_default(clients: dict[str, httpx.Client]) -> None:
    html = clients["clinician"].get(f"/residents/{SUBJECT}").text
    assert '<html lang="en">' in html
    assert "Current prescription" in html and "Sign out" in html
    assert not HAN.search(_visible(html).replace("简体中文", ""))


def test_login_errors_and_error_pages_are_translated(centre: Centre) -> None:
    with centre.client() as client:
        client.headers.update(ZH)
        form = client.get("/login")
        assert "登录" in form.text and "用户名" in form.text
        response = login(client, "clinician", "wrong password!")
        assert response.status_code == 401
        assert "用户名或密码错误。" in response.text
        assert login(client, "admin").status_code == 303
        missing = client.get("/no-such-page")
        assert missing.status_code == 404 and "此处没有内容。" in missing.text
        # the API stays in English for programs
        assert client.get("/api/residents").json()["detail"] == (
            "Your role does not give access to this page."
        )


def test_the_scripts_get_their_texts_as_json_data(zh_clients: dict[str, httpx.Client]) -> None:
    import json

    html = zh_clients["coach"].get("/exercise/live").text
    block = html.split('<script type="application/json" id="i18n-texts">', 1)[1]
    texts = json.loads(block.split("</script>", 1)[0])
    assert texts["texts"]["stop"] == "停止"
    assert texts["words"]["warm_up"] == "热身"
    assert texts["messages"]["In the zone: keep this pace."] == "在区间内：保持当前节奏。"


def test_a_lang_link_sets_a_cookie(centre: Centre) -> None:
    with centre.client() as client:
        response = client.get("/login?lang=zh-CN")
        assert "登录" in response.text
        assert client.cookies.get("lang") == "zh-CN"
        assert "用户名" in client.get("/login").text  # kept by the cookie
        assert "Username" in client.get("/login?lang=en").text
        assert client.get("/login?lang=xx").status_code == 200  # unknown: ignored


def test_the_server_language_is_forced(centre: Centre) -> None:
    """``serve --lang zh-CN`` → WebSettings(lang="zh-CN"): Chinese whatever the browser says."""
    app = create_app(str(centre.db), settings=WebSettings(identity_key=centre.key, lang="zh-CN"))
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        client.headers["Accept-Language"] = "en-US,en;q=0.9"
        assert login(client, "coach").status_code == 303
        html = client.get("/prescriptions/today").text
        assert '<html lang="zh-CN">' in html and "今日处方" in html


def test_serve_has_a_lang_option() -> None:
    from typer.testing import CliRunner

    from addiction_index.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--lang" in result.output
