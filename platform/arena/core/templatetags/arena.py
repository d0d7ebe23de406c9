from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from arena.core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """Organisers' Markdown as sanitised HTML (see arena.core.markdown)."""
    return render_markdown(text)


@register.simple_tag
def window_badge(start, end):
    """A badge saying whether a window (challenge, phase) is upcoming, open or closed, now."""
    now = timezone.now()
    if now < start:
        return format_html('<span class="badge upcoming">Opens {}</span>', date_format(start, "j M Y"))
    if now < end:
        return format_html('<span class="badge open">Open until {}</span>', date_format(end, "j M Y H:i e"))
    return format_html('<span class="badge closed">Closed {}</span>', date_format(end, "j M Y"))
