"""The light citizen questionnaire at ``/q``: plain server-rendered HTML, no Streamlit, no script.

A citizen who scans a poster's QR code on a cheap phone gets a few kilobytes of HTML per step
instead of Streamlit's megabyte of scripts (docs/performance.md).  The questionnaire's rules are the
project's own: paging and skip logic (questionnaires.paging), piping, validation and screening
(questionnaires), storing through data.submissions as the Streamlit page does.

* ``state``  – the signed hidden field that carries a questionnaire's earlier answers between steps;
* ``render`` – Jinja2 templates (autoescaped), one block per question type;
* ``routes`` – the Starlette route (served by serve.py) that reads requests and stores answers.
"""
