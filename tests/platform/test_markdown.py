"""Organisers' Markdown renders, and hostile input comes out inert on every page that shows it."""

import re

import pytest
from django.urls import reverse

from arena.challenges.models import Licence
from arena.challenges.services import announcement_publish
from arena.core.markdown import render_markdown
from arena.datasets.models import Dataset
from tests.platform.factories import ChallengeFactory, LicenceFactory, TeamFactory, TrackFactory, UserFactory


def hostile(marker: str) -> str:
    """Markdown with a script block, an onerror handler and a javascript: link around a visible marker."""
    return (f"Intro **{marker}**\n\n<script>alert('xss')</script>\n\n"
            f"<img src=x onerror=alert(1)> [click {marker}](javascript:alert(1))\n")


def test_hostile_markdown_is_sanitised_exactly():
    assert render_markdown(hostile("m")) == "<p>Intro <strong>m</strong></p>\n<p> click m</p>\n"


def test_markdown_renders_headings_lists_and_links_with_rel():
    html = render_markdown("# Dates\n\n- one\n- two\n\nSee [the rules](https://example.org/rules?a=1&b=2).\n")
    assert html == (
        "<h1>Dates</h1>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        '<p>See <a href="https://example.org/rules?a=1&amp;b=2" rel="nofollow noopener">the rules</a>.</p>\n'
    )


@pytest.mark.parametrize("source", [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
])
def test_links_to_unsafe_schemes_lose_their_target(source):
    html = str(render_markdown(source))
    assert "href" not in html and "src=" not in html
    assert "javascript" not in html.lower() and "vbscript" not in html and "data:" not in html


def test_raw_html_is_dropped_and_safe_links_kept():
    html = render_markdown('<div onclick="x">raw</div>\n\nText <b>bold</b> [team](/c/x/team/) '
                           "[mail](mailto:orga@example.org)\n")
    assert html == ('<p>Text bold <a href="/c/x/team/" rel="nofollow noopener">team</a> '
                    '<a href="mailto:orga@example.org" rel="nofollow noopener">mail</a></p>\n')
    assert render_markdown("") == "" and render_markdown(None) == ""


@pytest.mark.django_db
def test_every_markdown_field_is_inert_where_it_is_shown(client, django_capture_on_commit_callbacks):
    organiser, participant = UserFactory(), UserFactory()
    challenge = ChallengeFactory(slug="hostile", organisers=[organiser], overview=hostile("OVERVIEW"),
                                 rules=hostile("RULES"))
    TrackFactory(challenge=challenge, slug="t", description=hostile("TRACK"))
    LicenceFactory(challenge=challenge, text=hostile("LICENCE"))
    dataset = Dataset.objects.create(challenge=challenge, slug="d", title="D", description=hostile("DATASET"))
    Licence.objects.create(challenge=challenge, dataset=dataset, version=1, title="Dataset licence",
                           text=hostile("DSLICENCE"))
    TeamFactory(challenge=challenge, members=[participant])
    with django_capture_on_commit_callbacks(execute=True):
        announcement_publish(actor=organiser, challenge=challenge, title="News", body=hostile("ANNOUNCEMENT"))
    client.force_login(participant)
    pages = {
        reverse("challenge-detail", args=["hostile"]): ("OVERVIEW", "RULES", "LICENCE", "ANNOUNCEMENT"),
        reverse("track-detail", args=["hostile", "t"]): ("TRACK",),
        reverse("dataset-list", args=["hostile"]): ("DATASET",),
        reverse("licence-page", args=["hostile"]): ("LICENCE",),
        reverse("licence-print", args=["hostile"]): ("LICENCE",),
        reverse("dataset-licence-page", args=["hostile", "d"]): ("DSLICENCE",),
        reverse("dataset-licence-print", args=["hostile", "d"]): ("DSLICENCE",),
    }
    for url, markers in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        # The site's own scripts (static files, e.g. the challenge page's countdown) are not organisers' text.
        page = re.sub(r'<script src="/static/arena/[\w./-]+" defer></script>', "", response.text)
        for marker in markers:
            assert f"Intro <strong>{marker}</strong>" in page, (url, marker)
            assert f"<p> click {marker}</p>" in page, (url, marker)
        for bad in ("<script", "onerror", "javascript:", "alert("):
            assert bad not in page, (url, bad)
