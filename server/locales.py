"""The Babel locale of each of Følge's languages.

The catalogs are nb, nn and en (translations/). Dates and times follow the locale:
English is British English (en_GB: "1 December 2026", "01/12/2026"), not US style.
gettext finds the "en" catalog for en_GB by falling back to the language.
"""

from __future__ import annotations

from typing import Any

BABEL_LOCALES = {"nb": "nb", "nn": "nn", "en": "en_GB"}


def babel_locale(language: str | None) -> str:
    """The locale to format and translate in for a language code (Bokmål when unknown)."""
    return BABEL_LOCALES.get(language or "nb", "nb")


#: A date without the year, per language: "10. desember", "10 December".
_DAY_MONTH = {"nb": "d. MMMM", "nn": "d. MMMM", "en": "d MMMM"}


def day_month(value: object) -> str:
    """A date or datetime as day and month in the current language (Oslo time)."""
    from flask_babel import format_date, get_locale

    language = getattr(get_locale(), "language", None) or "nb"
    return format_date(value, _DAY_MONTH.get(language, _DAY_MONTH["nb"]))


def install_template_gettext(app: Any) -> None:
    """Templates translate through the request's catalog found once per request and locale.

    flask-babel's own template hooks look the catalog up again for every string (about seven
    microseconds each; a staff page has a hundred or more). This keeps the catalog on ``g``
    next to the locale it belongs to, so ``force_locale`` (texts in the patient's language
    rendered during a staff request) still gets its own catalog."""
    from flask import g, has_app_context
    from flask_babel import get_locale, get_translations
    from jinja2 import pass_context
    from jinja2.runtime import Context
    from markupsafe import Markup

    def catalog() -> Any:
        if not has_app_context():
            return get_translations()
        locale = get_locale()
        found = g.get("_folge_catalog")
        if found is None or found[0] is not locale:
            found = (locale, get_translations())
            g._folge_catalog = found
        return found[1]

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True,
    )

    # What Jinja's "newstyle" gettext does (escape when autoescaping, then always format
    # with the variables, so "%%" is how a template writes "%"), in one call: Jinja's own
    # ``_`` resolves ``gettext`` and calls it through ``Context.call``, which calls the
    # function above through ``Context.call`` again, each call inspecting its callee. With a
    # hundred strings on a staff page that was a tenth of the page's time.
    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = catalog().ugettext(string)
        if context.eval_ctx.autoescape:
            # The catalog's text is trusted, as Jinja trusts it; the values are escaped by %.
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables  # type: ignore[no-any-return]

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any
                 ) -> str:
        variables.setdefault("num", n)
        text = catalog().ungettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            # The catalog's text is trusted, as Jinja trusts it; the values are escaped by %.
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables  # type: ignore[no-any-return]

    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
