"""A citizen on the light page with plain HTTP (requests): the page's forms read back from its HTML.

Shared by tests/citizen_web/test_routes.py and the proxy test; no browser, no script.
"""

from __future__ import annotations

import html
import re

import requests

from questionnaires import load_default

QUESTIONNAIRE = load_default()
COMMUNITY = "CD0101"
# What this citizen answers (every other choice question: its first option).
PLAN = {
    "resident": "yes", "years_in_city": "12", "age_group": "30_39", "sex": "female",
    "core_values_quiz": "c", "support_campaign": "support",
}
TEXT_ANSWER = "希望多种树 <script>alert(1)</script> & 多建公园"


def planned(code: str):
    """The answer to question ``code`` as the form sends it."""
    question = QUESTIONNAIRE.question(code)
    if code in PLAN:
        return PLAN[code]
    if question.type == "multiple_choice":
        return [c for c in question.option_codes if c not in question.exclusive][:2]
    if question.type == "number":
        return "3"
    if question.type == "text":
        return TEXT_ANSWER
    if not question.options:  # a new type of question in the default questionnaire: plan its answer above
        raise AssertionError(f"walk.planned has no answer for {code} of type {question.type}")
    return question.option_codes[0]


class Page:
    def __init__(self, response: requests.Response):
        self.response = response
        self.status = response.status_code
        self.html = response.text

    @property
    def state(self) -> str:
        return html.unescape(re.search(r'name="state" value="([^"]*)"', self.html).group(1))

    @property
    def progress(self) -> tuple[int, int]:
        found = re.search(r"第 (\d+) / (\d+) 步|Step (\d+) of (\d+)", self.html)
        k, n = (found.group(1, 2) if found.group(1) else found.group(3, 4))
        return int(k), int(n)

    @property
    def codes(self) -> list[str]:
        """The questions of this step, in order (their fields' names)."""
        names = re.findall(r'<(?:input|textarea)[^>]* name="([^"]+)"', self.html)
        return list(dict.fromkeys(n for n in names if n != "state"))

    def errors(self) -> dict[str, str]:
        return {code: html.unescape(message)
                for code, message in re.findall(r'<p class="err" id="([^"]+)-error">([^<]*)</p>', self.html)}

    def text(self) -> str:
        return html.unescape(re.sub(r"<[^>]+>", " ", self.html))


class Citizen:
    """One phone: its cookies, the URL it opened, the page it shows."""

    def __init__(self, base_url: str, query: str = f"community={COMMUNITY}"):
        self.http = requests.Session()
        self.base_url = base_url
        self.query = query
        self.page: Page | None = None

    def open(self, query: str | None = None) -> Page:
        self.page = Page(self.http.get(f"{self.base_url}/q?{query if query is not None else self.query}", timeout=60))
        return self.page

    def send(self, answers: dict, go: str = "next", state: str | None = None, query: str | None = None) -> Page:
        fields = [("state", state if state is not None else self.page.state), ("go", go)]
        for code, value in answers.items():
            fields += [(code, v) for v in value] if isinstance(value, list) else [(code, value)]
        self.page = Page(self.http.post(f"{self.base_url}/q?{query if query is not None else self.query}",
                                        data=fields, timeout=60))
        return self.page

    def answer_step(self, **overrides) -> Page:
        answers = {code: planned(code) for code in self.page.codes if not code.endswith("_other")}
        answers.update(overrides)
        return self.send(answers)

    def answer_all(self, until_last: bool = False) -> list[dict]:
        """Every step with the plan; stops on the last step unsent when ``until_last``.  Returns what
        was sent, step by step."""
        sent = []
        while True:
            k, n = self.page.progress
            if until_last and k == n:
                return sent
            answers = {code: planned(code) for code in self.page.codes}
            sent.append(answers)
            self.send(answers)
            if k == n:
                return sent
